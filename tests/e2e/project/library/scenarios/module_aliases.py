"""Models named through a module's local name (issue 20 item 4).

``import library.models as library_models`` then ``library_models.Book.objects``,
a parameter typed ``library_models.Author``, and a custom QuerySet method of a
``QuerySet.as_manager()`` manager in the middle of the chain: the rows stay
``Book`` rows, and their relations are loaded by the fix."""

import library.models as library_models
from library import models as lib

from ._registry import scenario


@scenario(nplusone=True, fixed_by="safe")
def manager_through_module_alias():
    return [[b.title, b.author.name] for b in library_models.Book.objects.order_by("pk")]


@scenario(nplusone=True, fixed_by="safe")
def custom_queryset_method_through_module_alias():
    # `shelf = BookQuerySet.as_manager()`; `by_title()` is one of its methods
    return [[b.title, b.author.name] for b in lib.Book.shelf.filter(pages__gt=0).by_title()]


def _child_books(category: library_models.Category):
    return [[c.name, sorted(b.title for b in c.books.all())] for c in category.children.order_by("pk")]


@scenario(nplusone=True, fixed_by="unsafe", owns=("_child_books",))
def parameter_typed_through_module_alias():
    # the root's children grow with the data; the hint alone names the model (unsafe: a
    # caller could pass something else)
    return _child_books(lib.Category.objects.get(name="Fiction"))
