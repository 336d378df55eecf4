"""ORM101: a single-valued relation read per row.  Plain ``djopt fix`` must
add ``.select_related("path")`` to the queryset the loop runs over."""

from django.contrib.auth import get_user_model

from library.models import Announcement, Author, Biography, Book, Bookstore, Category, Contribution, Review

from ._registry import scenario


@scenario(nplusone=True, fixed_by="safe")
def book_titles_with_author():
    books = Book.objects.filter(published=True)
    out = []
    for b in books:
        out.append([b.title, b.author.name])
    return out


@scenario(nplusone=True, fixed_by="safe")
def inline_for_over_all():
    rows = []
    for b in Book.objects.all():
        rows.append(f"{b.title}/{b.author.name}")
    return rows


@scenario(nplusone=True, fixed_by="safe")
def three_deep_chain_to_country():
    result = []
    for b in Book.objects.filter(pages__gte=150):
        result.append((b.title, b.author.publisher.country.name))
    return result


@scenario(nplusone=True, fixed_by="safe")
def nullable_editor_name():
    out = []
    for b in Book.objects.all():
        out.append(b.editor.name if b.editor else None)
    return out


@scenario(nplusone=True, fixed_by="safe")
def list_comprehension_author():
    return [b.author.name for b in Book.objects.order_by("-pages", "title")]


@scenario(nplusone=True, fixed_by="safe")
def set_comprehension_publisher():
    return sorted({b.author.publisher.name for b in Book.objects.all()})


@scenario(nplusone=True, fixed_by="safe")
def dict_comprehension_author():
    return {b.title: b.author.name for b in Book.objects.filter(pages__gte=200)}


@scenario(nplusone=True, fixed_by="safe")
def join_generator_author():
    return ", ".join(b.author.name for b in Book.objects.filter(published=True))


@scenario(nplusone=True, fixed_by="safe")
def sum_generator_publisher():
    return sum(1 for b in Book.objects.all() if b.author.publisher.name.endswith("1"))


@scenario(nplusone=True, fixed_by="safe")
def alias_inside_loop():
    out = []
    for b in Book.objects.all():
        author = b.author
        out.append(author.name)
        out.append(author.publisher.name)
    return out


@scenario(nplusone=True, fixed_by="safe")
def author_str_in_fstring():
    # Author.__str__ reads only its own field; b.author itself is the query
    return [f"{b.title}: {b.author}" for b in Book.objects.all()]


@scenario(nplusone=True, fixed_by="safe")
def two_foreign_keys_in_one_loop():
    out = []
    for b in Book.objects.exclude(pages__lt=120):
        out.append({"author": b.author.name, "editor": b.editor.name if b.editor else ""})
    return out


@scenario(nplusone=True, fixed_by="safe")
def conditional_read_in_loop():
    names = []
    for b in Book.objects.all():
        if b.pages > 200:
            names.append(b.author.name)
    return names


@scenario(nplusone=True, fixed_by="safe")
def reverse_one_to_one_contrib_user():
    User = get_user_model()
    return [(u.username, u.profile.bio) for u in User.objects.order_by("username")]


@scenario(nplusone=True, fixed_by="safe")
def reverse_one_to_one_biography():
    texts = []
    for a in Author.objects.all():
        texts.append(a.biography.text)
    return texts


@scenario(nplusone=True, fixed_by="safe")
def forward_one_to_one():
    return [bio.author.name for bio in Biography.objects.all()]


@scenario(nplusone=True, fixed_by="safe")
def self_fk_parent_name():
    pairs = []
    for c in Category.objects.filter(parent__isnull=False):
        pairs.append([c.name, c.parent.name])
    return pairs


@scenario(nplusone=True, fixed_by="safe")
def multi_table_child_reads_parent_fk():
    return [(s.name, s.country.name) for s in Bookstore.objects.all()]


@scenario(nplusone=True, fixed_by="safe")
def multi_table_child_own_fk_chain():
    out = []
    for store in Bookstore.objects.filter(rating__gte=1):
        out.append(store.publisher.country.code)
    return out


@scenario(nplusone=True, fixed_by="safe")
def abstract_base_fk():
    return [[r.rating, r.created_by.name] for r in Review.objects.all()]


@scenario(nplusone=True, fixed_by="safe")
def default_manager_loop():
    out = []
    for b in Book._default_manager.all():
        out.append(b.author.publisher.name)
    return out


@scenario(nplusone=True, fixed_by="safe")
def order_by_chain_authors():
    qs = Author.objects.order_by("-name")
    return [f"{a.name}@{a.publisher.country.code}" for a in qs]


@scenario(nplusone=True, fixed_by="safe")
def review_book_author_chain():
    out = []
    for r in Review.objects.filter(rating__gte=3):
        out.append(r.book.author.name)
    return out


@scenario(nplusone=True, fixed_by="safe")
def through_model_both_fks():
    return [(c.book.title, c.author.name, c.role) for c in Contribution.objects.all()]


@scenario(nplusone=True, fixed_by="safe")
def category_of_book_nullable_chain():
    out = []
    for b in Book.objects.all():
        if b.category is not None:
            out.append(b.category.parent.name)
        else:
            out.append(None)
    return out


@scenario(nplusone=True, fixed_by="safe")
def queryset_reassigned_with_filter(min_pages=150):
    qs = Book.objects.all()
    if min_pages:
        qs = qs.filter(pages__gte=min_pages)
    return [b.author.name for b in qs]


@scenario(nplusone=True, fixed_by="safe")
def iterator_loop_select_related():
    # select_related works with .iterator(); it has to go before it
    out = []
    for b in Book.objects.filter(published=True).iterator():
        out.append(b.author.name)
    return out


@scenario(nplusone=True, fixed_by="safe")
def partial_select_related_needs_merge():
    # "author" is joined already, "editor" is not
    out = []
    for b in Book.objects.select_related("author"):
        out.append([b.author.name, b.editor.name if b.editor else None])
    return out


@scenario(nplusone=True, fixed_by="safe")
def custom_manager_in_project():
    # PublishedManager.get_queryset only filters: adding a join is safe
    out = []
    for b in Book.published_books.all():
        out.append(b.author.name)
    return out


@scenario(nplusone=True, fixed_by="safe")
def loop_saves_its_own_row():
    # saving the loop's own row does not change the joined author: still safe
    out = []
    for b in Book.objects.filter(published=True):
        if b.pages < 100:  # never on this data (pages >= 100)
            b.pages = 100
            b.save(update_fields=["pages"])
        out.append([b.title, b.author.name])
    return out


@scenario(nplusone=True, fixed_by="safe")
def announcements_with_subscripted_manager():
    # AnnouncementManager(models.Manager["Announcement"]) is a project manager: a safe fix
    return [[a.headline, a.created_by.name] for a in Announcement.objects.headlines()]


@scenario(nplusone=True, fixed_by="safe")
def reviews_with_module_level_manager():
    # RatedManager = models.Manager.from_queryset(ReviewQuerySet), then rated = RatedManager():
    # a project manager (its get_queryset is Django's), and `top()` is ReviewQuerySet's
    return [[r.rating, r.book.title] for r in Review.rated.top()]
