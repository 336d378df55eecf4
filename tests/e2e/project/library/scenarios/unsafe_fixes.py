"""N+1 loops whose fix is only applied by ``djopt fix --unsafe-fixes``:
a finding is lowered to unsafe when the manager's class is not in the project,
the queryset escapes the function, or the loop writes.  Plain ``fix`` must
leave these alone; on this data the unsafe fix is still correct."""

from library.models import Book

from ._registry import scenario


def _titles(queryset):
    return [b.title for b in queryset]


@scenario(nplusone=True, fixed_by="unsafe")
def manager_from_outside_the_project():
    # ArchiveManager comes from an installed package: its get_queryset is unknown
    out = []
    for b in Book.archive.all():
        out.append(b.author.name)
    return out


@scenario(nplusone=True, fixed_by="unsafe")
def loop_that_may_write():
    # the update() never runs on this data (pages >= 100), but djopt cannot
    # know; a write in the loop could change rows a join had already read
    out = []
    for b in Book.objects.filter(published=True):
        if b.pages < 100:
            Book.objects.filter(pk=b.pk).update(pages=100)
        out.append([b.title, b.author.name])
    return out


@scenario(nplusone=True, fixed_by="unsafe")
def queryset_escapes_to_helper():
    qs = Book.objects.filter(pages__gte=150)
    names = [b.author.name for b in qs]
    return {"names": names, "titles": _titles(qs)}
