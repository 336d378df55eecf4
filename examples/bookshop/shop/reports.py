"""Reports an N+1 detector should catch: each loop below runs one query per row."""

from shop.models import Author, Book, Review


def catalogue():
    books = Book.objects.filter(price__gt=0).order_by("title")
    lines = []
    for book in books:
        # one query per book for the author, one more for the publisher
        lines.append(f"{book.title} by {book.author.name} ({book.author.publisher.name})")
    return lines


def tags_by_book():
    return {book.title: [tag.name for tag in book.tags.all()] for book in Book.objects.all()}


def authors_with_books():
    out = []
    for author in Author.objects.all():
        for book in author.books.all():
            out.append((author.name, book.title, [t.name for t in book.tags.all()]))
    return out


def recent_reviews():
    reviews = Review.objects.prefetch_related("book")
    return ", ".join(f"{r.book.title}: {r.stars}" for r in reviews[:20])


def prices():
    # values() rows are dicts: nothing is loaded lazily, nothing to fix
    return [row["price"] for row in Book.objects.values("price")]


def author_ids():
    # reading the FK column itself costs nothing
    return [book.author_id for book in Book.objects.all()]


def author_stats():
    # a COUNT query per author, and a filtered query per author
    return [
        (author.name, author.books.count(), [b.title for b in author.books.filter(price__lt=10)])
        for author in Author.objects.order_by("name")
    ]


def review_lines():
    # Review.__str__ reads the book: one query per review
    return [str(review) for review in Review.objects.filter(stars__gte=4)]
