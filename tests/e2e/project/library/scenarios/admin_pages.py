"""ORM302: admin changelists whose columns read relations of each row.  Plain
``djopt fix`` must set ``list_select_related`` (keeping what Django joined on
its own) or prefetch in ``get_queryset()``.  Every admin has its own AdminSite
(SITES, mounted by e2eproj/urls.py) and is owned by its scenario, which logs a
superuser in with the test Client and returns the changelist page (the CSRF
token, random per request, blanked)."""

import json
import re

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpResponse
from django.test import Client

from library.models import Author, Book, Category, Review

from ._registry import scenario

SITES = []
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def _site(name):
    site = admin.AdminSite(name=name)
    SITES.append(site)
    return site


def _changelist(site, model, path=""):
    user = get_user_model().objects.create(username="e2e-admin", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    response = client.get(f"/{site.name}/library/{model}/{path}")
    return [response.status_code, CSRF.sub("", response.content.decode())]


editor_site = _site("admin-editor")
callable_site = _site("admin-callable")
str_site = _site("admin-str")
lookup_site = _site("admin-lookup")
prefetch_site = _site("admin-prefetch")
loaded_site = _site("admin-loaded")
inline_site = _site("admin-inline")


class BookEditorAdmin(admin.ModelAdmin):
    # "author" turns Django's own select_related() on: it joins author, publisher and
    # country (none nullable) but not the nullable editor
    list_display = ["title", "author", "editor", "publisher_name"]

    @admin.display(description="publisher")
    def publisher_name(self, obj):
        return obj.author.publisher.name


editor_site.register(Book, BookEditorAdmin)


@scenario(nplusone=True, fixed_by="safe", owns=("BookEditorAdmin",))
def admin_nullable_fk_column():
    return _changelist(editor_site, "book")


class AuthorCountryAdmin(admin.ModelAdmin):
    # no ForeignKey column: Django joins nothing
    list_display = ["name", "country"]

    def country(self, obj):
        return obj.publisher.country.name


callable_site.register(Author, AuthorCountryAdmin)


@scenario(nplusone=True, fixed_by="safe", owns=("AuthorCountryAdmin",))
def admin_method_column():
    return _changelist(callable_site, "author")


class BookStrAdmin(admin.ModelAdmin):
    # the default list_display is ("__str__",): Book.__str__ reads the author
    search_fields = ["title"]


str_site.register(Book, BookStrAdmin)


@scenario(nplusone=True, fixed_by="safe", owns=("BookStrAdmin",))
def admin_default_str_column():
    return _changelist(str_site, "book")


class ReviewLookupAdmin(admin.ModelAdmin):
    list_display = ["rating", "book__title", "created_by__publisher__name"]


lookup_site.register(Review, ReviewLookupAdmin)


@scenario(nplusone=True, fixed_by="safe", owns=("ReviewLookupAdmin",))
def admin_lookup_columns():
    return _changelist(lookup_site, "review")


class AuthorBooksAdmin(admin.ModelAdmin):
    list_display = ["name", "book_titles"]

    def book_titles(self, obj):
        return ", ".join(b.title for b in obj.books.all())


prefetch_site.register(Author, AuthorBooksAdmin)


@scenario(nplusone=True, fixed_by="safe", owns=("AuthorBooksAdmin",))
def admin_prefetch_column():
    return _changelist(prefetch_site, "author")


class LoadedBookAdmin(admin.ModelAdmin):
    list_display = ["title", "author", "editor"]
    list_select_related = ["author", "editor"]


loaded_site.register(Book, LoadedBookAdmin)


@scenario(nplusone=False, fixed_by=None, owns=("LoadedBookAdmin",))
def admin_already_list_select_related():
    return _changelist(loaded_site, "book")


class ChildCategoryInline(admin.TabularInline):
    # each child row shows a read-only column that reads its parent
    model = Category
    fk_name = "parent"
    fields = ["name", "parent_name"]
    readonly_fields = ["parent_name"]
    extra = 0

    def parent_name(self, obj):
        return obj.parent.name


class CategoryAdmin(admin.ModelAdmin):
    inlines = [ChildCategoryInline]


inline_site.register(Category, CategoryAdmin)


@scenario(nplusone=True, fixed_by="safe", owns=("ChildCategoryInline",))
def admin_inline_readonly_relation():
    # the change page of one category: its children (an inline) grow with the data
    fiction = Category.objects.get(name="Fiction")
    return _changelist(inline_site, "category", f"{fiction.pk}/change/")


action_site = _site("admin-action")
action_loaded_site = _site("admin-action-loaded")


def _action(site, model, action):
    # Run an admin action on every row, as the changelist's "Go" button does.
    user = get_user_model().objects.create(username="e2e-admin", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    pks = [str(pk) for pk in Book.objects.order_by("pk").values_list("pk", flat=True)]
    data = {"action": action, "index": "0", "_selected_action": pks}
    response = client.post(f"/{site.name}/library/{model}/", data)
    return [response.status_code, response.content.decode()]


class BookActionAdmin(admin.ModelAdmin):
    # the changelist joins the author; the action reads one step further
    actions = ["export_publishers"]
    list_select_related = ["author"]

    def export_publishers(self, request, queryset):
        rows = [[b.title, b.author.publisher.name] for b in queryset]
        return HttpResponse(json.dumps(rows))


action_site.register(Book, BookActionAdmin)


@scenario(nplusone=True, fixed_by="safe", owns=("BookActionAdmin",))
def admin_action_reads_a_relation():
    return _action(action_site, "book", "export_publishers")


class BookTagActionAdmin(admin.ModelAdmin):
    # healthchecks' ProfileAdmin: get_queryset prefetches what the actions read (and the
    # changelist joins the author its rows' __str__ reads)
    actions = ["export_tags"]
    list_select_related = ["author"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("tags")

    def export_tags(self, request, queryset: QuerySet[Book]):
        rows = [[b.title, [t.name for t in b.tags.all()]] for b in queryset]
        return HttpResponse(json.dumps(rows))


action_loaded_site.register(Book, BookTagActionAdmin)


@scenario(nplusone=False, fixed_by=None, owns=("BookTagActionAdmin",))
def admin_action_rows_already_prefetched():
    return _action(action_loaded_site, "book", "export_tags")
