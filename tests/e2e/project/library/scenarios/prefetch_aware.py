"""Code that looks into ``_prefetched_objects_cache`` (pretalx's ``sorted_speakers``).

A member that returns the prefetched rows when there are some, and an ordered
query otherwise, returns something else once the relation is prefetched: a
``prefetch_related`` added for it changes the result.  djopt reports the
query per row but must not fix it; a loop in code that itself checks the cache
is left alone."""

from library.models import Book

from ._registry import scenario


class SortedTagsBook(Book):
    class Meta:
        proxy = True
        app_label = "library"

    @property
    def sorted_tags(self):
        if "tags" in getattr(self, "_prefetched_objects_cache", {}):
            return list(self.tags.all())
        return list(self.tags.order_by("-name"))


@scenario(nplusone=True, fixed_by=None, owns=("SortedTagsBook",))
def member_checks_the_prefetch_cache():
    # prefetched, the tags would come in the prefetch's order, not by name descending
    return [[b.title, [t.name for t in b.sorted_tags]] for b in SortedTagsBook.objects.order_by("pk")]


@scenario(nplusone=False, fixed_by=None)
def loop_in_code_that_checks_the_cache():
    # The branch runs only when `tags` is prefetched, here never: a `prefetch_related("tags")`
    # added for the read inside it would make it run and change the result.
    out = []
    for b in Book.objects.order_by("pk"):
        if "tags" in getattr(b, "_prefetched_objects_cache", {}):
            out.append([b.title, sorted(t.name for t in b.tags.all())])
    return out
