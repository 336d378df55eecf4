from django.urls import path

from shop import views

urlpatterns = [
    path("books/n1/", views.books_n1),
    path("books/ok/", views.books_ok),
    path("report/", views.report),
    path("async/", views.books_async),
]
