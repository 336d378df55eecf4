from .models import Author, Book, Publisher, Tag


def make_books(n):
    """n publishers, n authors, n books, every book with two tags: in six queries whatever n
    (bulk_create), so that the data never looks like an N+1 of its own."""
    tags = Tag.objects.bulk_create([Tag(name=f"tag{i}") for i in range(2)])
    publishers = Publisher.objects.bulk_create([Publisher(name=f"publisher {i}") for i in range(n)])
    authors = Author.objects.bulk_create(
        [Author(name=f"author {i}", publisher=p) for i, p in enumerate(publishers)]
    )
    books = Book.objects.bulk_create(
        [Book(title=f"book {i}", author=a) for i, a in enumerate(authors)]
    )
    Book.tags.through.objects.bulk_create(
        [Book.tags.through(book=b, tag=t) for b in books for t in tags]
    )
