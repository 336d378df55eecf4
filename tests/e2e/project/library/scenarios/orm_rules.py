"""N+1 patterns in counts, generic relations and model code (ORM104, ORM105, ORM201, and
ORM101/ORM102 reads hidden in properties, methods and __str__)."""

from library.models import Author, Book, Category, Comment, Tag
from library.selectors import long_books

from ._registry import scenario


@scenario(nplusone=True, fixed_by="safe")
def related_count_per_row():
    return {a.name: a.books.count() for a in Author.objects.all()}


@scenario(nplusone=True, fixed_by="safe")
def related_exists_per_row():
    return [a.name for a in Author.objects.all() if a.edited_books.exists()]


@scenario(nplusone=True, fixed_by="safe")
def generic_fk_content_object():
    out = []
    for c in Comment.objects.all():
        obj = c.content_object
        out.append(obj.title if isinstance(obj, Book) else obj.name)
    return out


@scenario(nplusone=True, fixed_by="safe")
def dunder_str_reads_relation():
    return [str(b) for b in Book.objects.all()]


@scenario(nplusone=True, fixed_by="safe")
def property_reads_relation():
    return [b.author_name for b in Book.objects.filter(published=True)]


@scenario(nplusone=True, fixed_by="safe")
def len_of_related_rows():
    return [(a.name, len(a.books.all())) for a in Author.objects.all()]


@scenario(nplusone=True, fixed_by="safe")
def truth_test_of_related_rows():
    out = []
    for t in Tag.objects.all():
        if t.books.all():
            out.append(t.name)
    return out


@scenario(nplusone=True, fixed_by="safe")
def count_and_exists_together():
    return [(a.name, a.books.count(), a.edited_books.exists()) for a in Author.objects.order_by("-name")]


@scenario(nplusone=True, fixed_by="unsafe")
def count_through_an_explicit_through_model():
    # Counting join rows of a `through` model: Count(distinct=True) may differ if pairs repeat.
    return {b.title: b.contributors.count() for b in Book.objects.all()}


@scenario(nplusone=True, fixed_by="safe")
def discarded_prefetch():
    authors = Author.objects.all()
    authors.prefetch_related("books")
    return [[b.title for b in a.books.all()] for a in authors]


@scenario(nplusone=True, fixed_by="safe")
def discarded_select_related():
    books = Book.objects.order_by("title")
    books.select_related("author")
    return [b.author.name for b in books]


@scenario(nplusone=True, fixed_by="safe")
def generic_fk_through_a_name():
    comments = Comment.objects.filter(object_id__gt=0)
    return [type(c.content_object).__name__ + str(c.content_object.pk) for c in comments]


@scenario(nplusone=True, fixed_by="unsafe")
def get_by_pk_per_id():
    ids = list(Book.objects.filter(published=True).values_list("pk", flat=True))
    return [Book.objects.get(pk=i).title for i in ids]


@scenario(nplusone=True, fixed_by="safe")
def trap_only_deferred_fk():
    # select_related("author") on only("title") raises FieldError: the fix lists "author" in only() too
    return [b.author.name for b in Book.objects.only("title")]


@scenario(nplusone=True, fixed_by="unsafe")
def in_bulk_for_statement():
    ids = list(Author.objects.values_list("pk", flat=True))
    names = []
    for pk in ids:
        names.append(Author.objects.filter(pk=pk).first().name)
    return names


@scenario(nplusone=True, fixed_by="safe")
def deferred_field_read():
    return [(b.title, b.pages) for b in Book.objects.only("title")]


@scenario(nplusone=True, fixed_by="safe")
def deferred_by_defer():
    books = Book.objects.defer("pages")
    return [b.pages for b in books]


@scenario(nplusone=True, fixed_by="safe")
def only_with_nested_join():
    return [(b.title, b.author.publisher.name) for b in Book.objects.only("title", "author__name")]


@scenario(nplusone=True, fixed_by="safe")
def loop_over_a_helper_queryset():
    return [(b.title, b.author.name) for b in long_books()]


@scenario(nplusone=True, fixed_by="safe")
def related_manager_of_one_object():
    fiction = Category.objects.get(name="Fiction")
    return [(c.name, [b.title for b in c.books.all()]) for c in fiction.children.all()]


@scenario(nplusone=True, fixed_by="unsafe")
def typed_queryset_parameter(books: "QuerySet[Book]" = None):
    if books is None:
        return typed_queryset_parameter(Book.objects.all())
    return [b.author.name for b in books]


@scenario(nplusone=True, fixed_by="safe")
def filtered_relation_rows(min_pages=150):
    return {a.name: [b.title for b in a.books.filter(pages__gte=min_pages)] for a in Author.objects.all()}


@scenario(nplusone=True, fixed_by="safe")
def filtered_relation_count_and_first():
    out = []
    for a in Author.objects.order_by("name"):
        drafts = a.books.exclude(published=True).count()
        longest = a.books.order_by("-pages", "title").first()
        out.append([a.name, drafts, longest.title if longest else None])
    return out


@scenario(nplusone=True, fixed_by="safe")
def filtered_many_to_many_exists():
    return [b.title for b in Book.objects.all() if b.tags.filter(name__endswith="1").exists()]


@scenario(nplusone=True, fixed_by="safe")
def filtered_relation_last():
    out = []
    for a in Author.objects.all():
        last = a.contributed_books.filter(published=True).last()
        out.append([a.name, last.title if last else None])
    return out


@scenario(nplusone=True, fixed_by="safe")
def custom_queryset_methods():
    return [(b.title, b.author.name) for b in Book.shelf.long().by_title()]
