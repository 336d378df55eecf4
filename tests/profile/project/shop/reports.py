from .models import Author, Book


def titles_with_authors():
    lines = []
    for book in Book.objects.order_by("id"):
        lines.append(f"{book.title} by {book.author.name}")  # marker: titles-n1
    return lines


def titles_with_authors_joined():
    books = Book.objects.select_related("author").order_by("id")
    return [f"{book.title} by {book.author.name}" for book in books]


def author_labels():
    return [author.label for author in Author.objects.order_by("id")]  # marker: labels-n1


def tag_names():
    return {b.title: sorted(t.name for t in b.tags.all()) for b in Book.objects.all()}  # marker: tags-n1


def tag_names_prefetched():
    books = Book.objects.prefetch_related("tags")
    return {b.title: sorted(t.name for t in b.tags.all()) for b in books}
