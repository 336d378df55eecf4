"""Each admin scenario has its own AdminSite (one ModelAdmin per model and site)."""

from django.urls import path

from library.scenarios.admin_pages import SITES

urlpatterns = [path(f"{site.name}/", site.urls) for site in SITES]
