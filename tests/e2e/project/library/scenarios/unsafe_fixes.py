"""N+1 loops whose fix is only applied by ``djopt fix --unsafe-fixes``:
DESIGN.md lowers a finding to unsafe when the queryset comes from a custom
manager or escapes the function.  Plain ``fix`` must leave these alone."""

from library.models import Book

from ._registry import scenario


def _titles(queryset):
    return [b.title for b in queryset]


@scenario(nplusone=True, fixed_by="unsafe")
def custom_manager_plain():
    out = []
    for b in Book.published_books.all():
        out.append(b.author.name)
    return out


@scenario(nplusone=True, fixed_by="unsafe")
def queryset_escapes_to_helper():
    qs = Book.objects.filter(pages__gte=150)
    names = [b.author.name for b in qs]
    return {"names": names, "titles": _titles(qs)}
