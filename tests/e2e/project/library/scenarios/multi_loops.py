"""ORM102: a multi-valued relation iterated per row.  Plain ``djopt fix``
must add ``.prefetch_related("path")`` (nested paths such as
"books__tags" included)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from library.models import Author, Book, Category, Country, Publisher, Tag

from ._registry import scenario


@scenario(nplusone=True, fixed_by="safe")
def author_book_titles():
    out = {}
    for a in Author.objects.all():
        out[a.name] = [b.title for b in a.books.all()]
    return out


@scenario(nplusone=True, fixed_by="safe")
def nested_books_then_editor():
    rows = []
    for a in Author.objects.all():
        for b in a.books.all():
            rows.append([a.name, b.title, b.editor.name if b.editor else None])
    return rows


@scenario(nplusone=True, fixed_by="safe")
def book_tag_names():
    out = []
    for b in Book.objects.filter(published=True):
        out.append({"title": b.title, "tags": [t.name for t in b.tags.all()]})
    return out


@scenario(nplusone=True, fixed_by="safe")
def reverse_fk_default_set_name():
    return {p.name: [a.name for a in p.author_set.all()] for p in Publisher.objects.all()}


@scenario(nplusone=True, fixed_by="safe")
def nested_books_tags():
    out = []
    for a in Author.objects.all():
        for b in a.books.all():
            out.append([b.title] + [t.name for t in b.tags.all()])
    return out


@scenario(nplusone=True, fixed_by="safe")
def m2m_through_contributors():
    out = []
    for b in Book.objects.all():
        out.append(sorted(a.name for a in b.contributors.all()))
    return out


@scenario(nplusone=True, fixed_by="safe")
def m2m_reverse_tag_books():
    result = {}
    for t in Tag.objects.all():
        result[t.name] = [b.title for b in t.books.all()]
    return result


@scenario(nplusone=True, fixed_by="safe")
def self_fk_reverse_children():
    return [[c.name, [ch.name for ch in c.children.all()]] for c in Category.objects.all()]


@scenario(nplusone=True, fixed_by="safe")
def generic_relation_reverse():
    out = []
    for b in Book.objects.all():
        out.append([c.text for c in b.comments.all()])
    return out


@scenario(nplusone=True, fixed_by="safe")
def abstract_base_reverse_class_name():
    out = {}
    for a in Author.objects.all():
        out[a.name] = [r.rating for r in a.review_created.all()]
    return out


@scenario(nplusone=True, fixed_by="safe")
def three_level_reverse_chain():
    names = []
    for c in Country.objects.all():
        for p in c.publishers.all():
            for a in p.author_set.all():
                names.append(f"{c.code}:{a.name}")
    return names


@scenario(nplusone=True, fixed_by="safe")
def fk_then_reverse_fk():
    # single-valued then multi-valued: prefetch_related("author__books")
    out = []
    for b in Book.objects.filter(pages__gte=250):
        out.append([b.title, [x.title for x in b.author.books.all()]])
    return out


@scenario(nplusone=True, fixed_by="safe")
def len_of_related_all():
    return sum(len(a.books.all()) for a in Author.objects.all())


@scenario(nplusone=True, fixed_by="safe")
def book_reviews_related_name():
    return {b.title: [r.rating for r in b.reviews.all()] for b in Book.objects.all()}


@scenario(nplusone=True, fixed_by="safe")
def iterate_related_manager_directly_in_join():
    lines = []
    for a in Author.objects.filter(name__gte="Author 03"):
        lines.append(a.name + ": " + ", ".join(b.title for b in a.books.all()))
    return lines


@scenario(nplusone=True, fixed_by="safe")
def fk_and_reverse_fk_in_one_loop():
    # needs both: select_related("publisher") and prefetch_related("books")
    out = []
    for a in Author.objects.all():
        out.append([a.publisher.name, [b.pages for b in a.books.all()]])
    return out


@scenario(nplusone=True, fixed_by="safe")
def partial_prefetch_needs_merge():
    # "tags" is prefetched already, "reviews" is not
    out = []
    for b in Book.objects.prefetch_related("tags"):
        out.append([[t.name for t in b.tags.all()], [r.rating for r in b.reviews.all()]])
    return out


@scenario(nplusone=True, fixed_by="safe")
def iterator_loop_prefetch_related():
    # prefetch_related(...).iterator() raises ValueError without chunk_size:
    # the fix has to pass one
    out = []
    for a in Author.objects.all().iterator():
        out.append(len([b.title for b in a.books.all()]))
    return out


def _export(fmt):
    books = Book.objects.filter(published=True)
    if fmt == "csv":
        return [[b.title, [t.name for t in b.tags.all()]] for b in books]
    return [b.title for b in books]


@scenario(nplusone=True, fixed_by="safe", owns=("_export",))
def tags_read_on_one_branch():
    # The fix goes on the csv path's loop: the other path must not pay for a prefetch it
    # never reads, so its query count is part of the result.
    with CaptureQueriesContext(connection) as other:
        titles = _export("json")
    return [_export("csv"), titles, len(other.captured_queries)]


@scenario(nplusone=True, fixed_by="safe")
def taggit_labels_per_publisher():
    # django-taggit's TaggableManager: a many-to-many djopt names (prefetch_related("labels"))
    return [[p.name, sorted(t.name for t in p.labels.all())] for p in Publisher.objects.all()]



class CategoryTree(Category):
    """A proxy (no table of its own) whose methods loop over `self.<related manager>`
    (netbox's `self.poweroutlets.filter(...)` shape)."""

    class Meta:
        proxy = True
        app_label = "library"

    def children_book_authors(self):
        # each child's books, and each book's author: a new query each time (`order_by`)
        return [[c.name, [b.author.name for b in c.books.all()]] for c in self.children.order_by("pk")]



class CategoryTreeAll(Category):
    class Meta:
        proxy = True
        app_label = "library"

    def children_book_authors_all(self):
        # the same over `.all()`, which may be a caller's prefetch: no fix
        return [[c.name, [b.author.name for b in c.books.all()]] for c in self.children.all()]


class CategoryParents(Category):
    class Meta:
        proxy = True
        app_label = "library"

    def children_parent_names(self):
        # each child's `parent` is this object: Django sets it on the rows, no query
        return [[c.name, c.parent.name] for c in self.children.all()]


@scenario(nplusone=True, fixed_by="safe", owns=("CategoryTree",))
def self_related_manager_in_model_method():
    # the root's children grow with the data
    return CategoryTree.objects.get(name="Fiction").children_book_authors()


@scenario(nplusone=True, fixed_by=None, owns=("CategoryTreeAll",))
def self_related_manager_all_in_model_method():
    # `self.children.all()` may be a caller's prefetch (see prefetched_elsewhere.py): reported,
    # never rewritten
    return CategoryTreeAll.objects.get(name="Fiction").children_book_authors_all()


@scenario(nplusone=False, fixed_by=None, owns=("CategoryParents",))
def known_related_object_of_a_related_manager():
    return CategoryParents.objects.get(name="Science").children_parent_names()
