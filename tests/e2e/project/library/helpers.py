"""Plain functions the scenarios hand rows to (issue 20 item 3)."""


def author_line(book):
    # one query per book unless `author` is loaded
    return f"{book.title} by {book.author.name}"
