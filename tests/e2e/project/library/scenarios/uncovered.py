"""Real N+1 patterns that djopt's rules do not cover yet.

Later rules will flip these to "safe"/"unsafe"; until then djopt must leave
every one of these functions exactly as it is.  Several are traps where the
obvious fix is wrong (see shared/DJANGO.md)."""

from django.db.models import Sum

from library.models import Author, Book, Comment, Publisher

from ._registry import scenario


@scenario(nplusone=True, fixed_by=None)
def related_filter_per_row():
    out = {}
    for a in Author.objects.all():
        out[a.name] = list(a.books.filter(published=True).values_list("title", flat=True))
    return out


@scenario(nplusone=True, fixed_by=None)
def related_order_by_per_row():
    # a prefetch would not serve .order_by(): it re-queries per row anyway
    out = []
    for a in Author.objects.all():
        longest = a.books.order_by("-pages", "title")[0]
        out.append([a.name, longest.title])
    return out


@scenario(nplusone=True, fixed_by=None)
def related_aggregate_per_row():
    return [[p.name, p.bookstores.aggregate(total=Sum("rating"))["total"]] for p in Publisher.objects.all()]


@scenario(nplusone=True, fixed_by=None)
def explicit_query_per_row():
    counts = []
    for p in Publisher.objects.all():
        counts.append(Author.objects.filter(publisher=p).count())
    return counts


@scenario(nplusone=True, fixed_by=None)
def related_values_list_per_row():
    return [list(a.books.values_list("pages", flat=True)) for a in Author.objects.all()]


@scenario(nplusone=True, fixed_by=None)
def trap_union_loop():
    # select_related after union() raises NotSupportedError
    short = Book.objects.filter(pages__lt=150).order_by()
    long = Book.objects.filter(pages__gt=300).order_by()
    qs = short.union(long).order_by("title")
    return [[b.title, b.author.name] for b in qs]


@scenario(nplusone=True, fixed_by=None)
def trap_select_related_no_args_nullable():
    # select_related() skips the nullable editor; appending
    # .select_related("editor") would drop the automatic author join
    out = []
    for b in Book.objects.select_related():
        out.append([b.author.name, b.editor.name if b.editor else None])
    return out


@scenario(nplusone=True, fixed_by=None)
def trap_prefetch_above_writes():
    # a prefetch hoisted above the create() would miss the new rows
    out = []
    for a in Author.objects.all():
        Book.objects.create(title=f"Sequel by {a.name}", pages=99, author=a)
        out.append(sorted(b.title for b in a.books.all()))
    return out
