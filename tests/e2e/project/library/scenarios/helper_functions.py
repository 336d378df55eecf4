"""Plain helper functions that receive the row (issue 20 item 3).

``author_line(b)`` reads ``b.author`` once per row, as a model method would: the
loop's queryset must load it.  The helper may live in the same module or be
imported; it may be handed an object reached from the row (``b.author``)."""

from library.helpers import author_line
from library.models import Book

from ._registry import scenario


def _publisher_and_country(author):
    return f"{author.publisher.name} ({author.publisher.country.name})"


@scenario(nplusone=True, fixed_by="safe")
def imported_helper_reads_row_relation():
    return [author_line(b) for b in Book.objects.order_by("pk")]


@scenario(nplusone=True, fixed_by="safe")
def local_helper_on_related_object():
    out = []
    for b in Book.objects.order_by("pk"):
        out.append([b.title, _publisher_and_country(b.author)])
    return out
