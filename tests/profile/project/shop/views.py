from asgiref.sync import sync_to_async
from django.shortcuts import render

from . import reports
from .models import Book


def books_n1(request):
    books = Book.objects.order_by("id")
    return render(request, "shop/books.html", {"books": books})  # marker: books-render


def books_ok(request):
    books = Book.objects.select_related("author").order_by("id")
    return render(request, "shop/books.html", {"books": books})


def report(request):
    return render(request, "shop/lines.html", {"lines": reports.titles_with_authors()})


async def books_async(request):
    lines = await sync_to_async(reports.titles_with_authors)()
    return render(request, "shop/lines.html", {"lines": lines})
