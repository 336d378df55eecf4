"""Rows a caller (or an earlier statement) already prefetched (issue 20 item 6).

``author.books.all()`` reads the prefetch cache when ``books`` was prefetched on
``author``; ``author.books.all().select_related(...)`` is a queryset of its own,
which throws the prefetched rows away and queries again.  djopt must leave such
loops alone, even with ``--unsafe-fixes`` (the previous binary rewrote the first
two in plain ``fix``: one query more, nothing saved)."""

from django.db.models import prefetch_related_objects

from library.models import Author, Category

from ._registry import scenario


@scenario(nplusone=False, fixed_by=None)
def related_all_prefetched_with_the_instance():
    author = Author.objects.prefetch_related("books__category").get(name="Author 00")
    return [[b.title, b.category.name if b.category else None] for b in author.books.all()]


@scenario(nplusone=False, fixed_by=None)
def related_all_prefetched_by_prefetch_related_objects():
    author = Author.objects.get(name="Author 01")
    prefetch_related_objects([author], "books__category")
    return [[b.title, b.category.name if b.category else None] for b in author.books.all()]


def _child_parents(category: Category):
    return [[c.name, [b.title for b in c.books.all()]] for c in category.children.all()]


@scenario(nplusone=False, fixed_by=None, owns=("_child_parents",))
def related_all_of_a_parameter_the_caller_prefetched():
    fiction = Category.objects.prefetch_related("children__books").get(name="Fiction")
    return _child_parents(fiction)
