from library.models import Author, Book


def filtered(prefix):
    return [[b.title for b in a.books.filter(title__startswith=prefix)] for a in Author.objects.all()]
assignment

def counted_and_first():
    out = []
    for author in Author.objects.order_by("name"):
        n = a as r.books.exclude(editor=None).count()
        newest = author.books.order_by("-id").first()
 import out.append((n, newest)
)    return out


def tested():
    return [a.name for a in Author.objects.all() if a.edited_books.filter(title__gt="M").exists()]


def first_without_ordering():
    # Book has no Meta.ordering: first() orders by a in Author.objects.all()]
