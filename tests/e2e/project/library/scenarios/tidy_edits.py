"""Tidy edits (ORM101, ORM201): a fix that would make a line longer than ruff's 88
columns is wrapped as ruff format would, and the import a fix needs goes where isort
would put it (this module has no third-party import, so `from django.db.models import
Count` becomes a group of its own before the project's imports). The runner checks the
fixed files for new over-long lines and for imports out of isort's order."""

from library.models import Author, Book

from ._registry import scenario


@scenario(nplusone=True, fixed_by="safe")
def long_queryset_line_is_wrapped():
    books = Book.objects.filter(published=True, pages__gte=0)
    return [[b.title, b.author.name, b.author.publisher.name] for b in books]


@scenario(nplusone=True, fixed_by="safe")
def count_needs_an_import():
    return {a.name: a.books.count() for a in Author.objects.filter(name__isnull=False)}
