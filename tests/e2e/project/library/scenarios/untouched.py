"""Code that is already fine.  djopt must leave every function here exactly
as it is."""

from django.contrib.auth import get_user_model
from django.db.models import Count, Prefetch
from django.db.models.functions import Length

from library.models import Author, Book, Category, Review, Tag

from ._registry import scenario


@scenario(nplusone=False, fixed_by=None)
def already_select_related():
    return [b.author.name for b in Book.objects.select_related("author")]


@scenario(nplusone=False, fixed_by=None)
def already_select_related_chain():
    out = []
    for b in Book.objects.select_related("author__publisher__country").filter(published=True):
        out.append(b.author.publisher.country.name)
    return out


@scenario(nplusone=False, fixed_by=None)
def already_select_related_nullable():
    return [b.editor.name if b.editor else None for b in Book.objects.select_related("editor")]


@scenario(nplusone=False, fixed_by=None)
def already_prefetch_related():
    return {a.name: [b.title for b in a.books.all()] for a in Author.objects.prefetch_related("books")}


@scenario(nplusone=False, fixed_by=None)
def already_prefetch_nested():
    out = []
    for a in Author.objects.prefetch_related("books__tags"):
        for b in a.books.all():
            out.append([t.name for t in b.tags.all()])
    return out


@scenario(nplusone=False, fixed_by=None)
def already_prefetch_object():
    qs = Author.objects.prefetch_related(Prefetch("books", queryset=Book.objects.order_by("-pages", "title")))
    return [[b.title for b in a.books.all()] for a in qs]


@scenario(nplusone=False, fixed_by=None)
def already_select_and_prefetch():
    out = []
    for a in Author.objects.select_related("publisher").prefetch_related("books"):
        out.append([a.publisher.name, len(a.books.all())])
    return out


@scenario(nplusone=False, fixed_by=None)
def already_reverse_one_to_one_joined():
    User = get_user_model()
    return [u.profile.bio for u in User.objects.select_related("profile").order_by("username")]


@scenario(nplusone=False, fixed_by=None)
def materialized_select_related_list():
    books = list(Book.objects.select_related("author"))
    names = []
    for b in books:
        names.append(b.author.name)
    return names


@scenario(nplusone=False, fixed_by=None)
def values_rows():
    out = []
    for row in Book.objects.values("title", "author__name"):
        out.append(f"{row['title']} by {row['author__name']}")
    return out


@scenario(nplusone=False, fixed_by=None)
def values_deep_lookup():
    return list(Book.objects.values("title", "author__publisher__country__name"))


@scenario(nplusone=False, fixed_by=None)
def values_list_flat():
    return list(Book.objects.values_list("author__name", flat=True))


@scenario(nplusone=False, fixed_by=None)
def values_list_reverse_relation():
    return [list(t) for t in Author.objects.values_list("name", "books__title").order_by("name", "books__title")]


@scenario(nplusone=False, fixed_by=None)
def fk_id_reads():
    return [b.author_id for b in Book.objects.all()]


@scenario(nplusone=False, fixed_by=None)
def nullable_fk_id_check():
    return [b.title for b in Book.objects.all() if b.editor_id is None]


@scenario(nplusone=False, fixed_by=None)
def manual_id_map():
    names = {a.pk: a.name for a in Author.objects.all()}
    return [names[b.author_id] for b in Book.objects.all()]


@scenario(nplusone=False, fixed_by=None)
def local_fields_only():
    return [[b.title, b.pages] for b in Book.objects.filter(pages__gte=150)]


@scenario(nplusone=False, fixed_by=None)
def single_object_get():
    b = Book.objects.get(title="Book 004")
    return [b.author.name, b.author.publisher.country.name]


@scenario(nplusone=False, fixed_by=None)
def relation_read_once_outside_loop():
    author = Author.objects.get(name="Author 01")
    books = list(author.books.all())
    publisher = author.publisher
    return {"publisher": publisher.name, "titles": [b.title for b in books]}


@scenario(nplusone=False, fixed_by=None)
def first_then_relation():
    first = Review.objects.filter(rating=5).first()
    return [first.book.title, first.created_by.name]


@scenario(nplusone=False, fixed_by=None)
def slice_one_loop():
    out = []
    for b in Book.objects.order_by("-pages", "title")[:1]:
        out.append(b.author.name)
    return out


@scenario(nplusone=False, fixed_by=None)
def custom_manager_already_joins():
    return [b.author.name for b in Book.with_author.filter(pages__gte=120)]


@scenario(nplusone=False, fixed_by=None)
def annotate_count():
    return [[a.name, a.n] for a in Author.objects.annotate(n=Count("books"))]


@scenario(nplusone=False, fixed_by=None)
def in_bulk_lookup():
    ids = list(Book.objects.filter(pages__gte=300).values_list("pk", flat=True))
    found = Book.objects.in_bulk(ids)
    return sorted(found[i].title for i in ids)


@scenario(nplusone=False, fixed_by=None)
def root_categories_local_only():
    return [c.name for c in Category.objects.filter(parent__isnull=True)]


@scenario(nplusone=False, fixed_by=None)
def only_with_select_related():
    return [b.author.name for b in Book.objects.select_related("author").only("title", "author__name")]


@scenario(nplusone=False, fixed_by=None)
def relation_of_outer_object_in_loop():
    # the relation read belongs to an object fetched once: cached after the first read
    first = Book.objects.get(title="Book 001")
    out = []
    for b in Book.objects.filter(pages__gte=200):
        out.append([b.title, first.author.name])
    return out


def _book_dicts(readonly):
    # healthchecks' get_checks: the read-write path prefetches the tags with a queryset of
    # its own, the read-only path reads none. A plain prefetch_related("tags") where the
    # queryset is built raises "lookup was already seen with a different queryset".
    books = Book.objects.filter(published=True)
    if not readonly:
        books = books.prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("-name")))
    return [b.book_dict(readonly=readonly) for b in books]


@scenario(nplusone=False, fixed_by=None, owns=("_book_dicts",))
def prefetch_on_a_later_branch():
    return [_book_dicts(True), _book_dicts(False)]


@scenario(nplusone=False, fixed_by=None)
def defer_with_annotation_guard():
    # has_long_title() reads the annotation, not the deferred title (healthchecks' pings list)
    qs = Book.objects.defer("title").annotate(title_length=Length("title"))
    return [[b.pk, b.has_long_title()] for b in qs]


@scenario(nplusone=True, fixed_by=None)
def related_manager_called_for_another_manager():
    # django-cms (issue 19): a prefetch of `reviews` would make `reviews(manager="ranked")`
    # return the default manager's cached rows, without the ranked queryset's `.top()`.
    return [[b.title, b.review_ratings(ranked=(b.pk % 2 == 0))] for b in Book.objects.all()]
