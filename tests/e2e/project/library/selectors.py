"""Query helpers, the way many projects organize them: djopt follows what they return."""

from library.models import Book


def long_books():
    return Book.objects.filter(pages__gte=150).order_by("title")


def books_with_authors():
    return Book.objects.select_related("author")
