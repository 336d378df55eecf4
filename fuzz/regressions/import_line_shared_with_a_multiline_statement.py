from library.models import Author
import os; CHOICES = (
    1,
)


def f():
    for a in Author.objects.all():
        print(a.books.count())
