"""ORM103: prefetch_related on a single-valued relation.  Not an N+1 (the
count is constant either way); djopt may turn it into select_related.
Only the result and a non-increasing query count are checked."""

from library.models import Author, Book, Review

from ._registry import scenario


@scenario(nplusone=False, fixed_by=None, may_change=True)
def prefetch_forward_fk():
    return [b.author.name for b in Book.objects.prefetch_related("author")]


@scenario(nplusone=False, fixed_by=None, may_change=True)
def prefetch_fk_chain():
    out = []
    for r in Review.objects.prefetch_related("book__author"):
        out.append([r.rating, r.book.author.name])
    return out


@scenario(nplusone=False, fixed_by=None, may_change=True)
def prefetch_nullable_fk():
    return [b.editor.name if b.editor else None for b in Book.objects.prefetch_related("editor")]


@scenario(nplusone=False, fixed_by=None, may_change=True)
def prefetch_mixed_single_and_multi():
    out = {}
    for a in Author.objects.prefetch_related("publisher", "books"):
        out[a.name] = [a.publisher.name, [b.title for b in a.books.all()]]
    return out


@scenario(nplusone=False, fixed_by=None, may_change=True)
def prefetch_reverse_one_to_one():
    return [a.biography.text for a in Author.objects.prefetch_related("biography")]


@scenario(nplusone=False, fixed_by=None)
def prefetch_kept_by_project_method_after():
    # the project's queryset method after the prefetch refetches the rows keeping only the
    # prefetch lookups (wagtail's `.specific()`): as a join, the author would be one query
    # per book again.  A suggestion, never applied.
    return [b.author.name for b in Book.shelf.prefetch_related("author").refetched()]


@scenario(nplusone=False, fixed_by=None)
def prefetch_shared_objects_compared_by_identity():
    # netbox's bulk edit forms: "do all these rows share one site?" by `is not`. The prefetch
    # gives the books of one author one shared Author object; a join would give each book its
    # own, and the answer would change.
    first = Book.objects.order_by("pk").first()
    author = None
    for b in Book.objects.filter(author=first.author_id).prefetch_related("author"):
        if author is None:
            author = b.author
        elif b.author is not author:
            return "several authors"
    return author.name
