"""Deterministic seed data.  ``seed(n)`` scales every table with n.

Lives outside the project on purpose: djopt rewrites the project copy and
must never be able to change how the data is made.
"""

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType

from library.models import (
    Announcement,
    Author,
    Biography,
    Book,
    Bookstore,
    Category,
    Comment,
    Contribution,
    Country,
    Place,
    Profile,
    Publisher,
    Review,
    Tag,
)


def seed(n):
    if n < 5:
        raise ValueError("seed size must be at least 5")
    User = get_user_model()

    countries = Country.objects.bulk_create(
        Country(name=f"Country {i:02d}", code=f"C{i:02d}") for i in range(n)
    )
    publishers = Publisher.objects.bulk_create(
        Publisher(name=f"Publisher {i:02d}", country=countries[i]) for i in range(n)
    )
    authors = Author.objects.bulk_create(
        Author(name=f"Author {i:02d}", publisher=publishers[i // 2]) for i in range(2 * n)
    )
    n_authors = len(authors)
    Biography.objects.bulk_create(
        Biography(author=a, text=f"Bio of {a.name}") for a in authors
    )
    users = User.objects.bulk_create(User(username=f"user{i:02d}") for i in range(n))
    Profile.objects.bulk_create(Profile(user=u, bio=f"Profile of {u.username}") for u in users)
    tags = Tag.objects.bulk_create(Tag(name=f"tag{i:02d}") for i in range(n))

    roots = Category.objects.bulk_create([Category(name="Fiction"), Category(name="Science")])
    subs = Category.objects.bulk_create(
        Category(name=f"Sub {i:02d}", parent=roots[i % 2]) for i in range(n)
    )

    books = Book.objects.bulk_create(
        Book(
            title=f"Book {i:03d}",
            pages=100 + (i * 37) % 300,
            published=i % 4 != 0,
            author=authors[i // 3],
            editor=authors[(i + 1) % n_authors] if i % 3 != 0 else None,
            category=subs[i % n] if i % 5 != 0 else None,
        )
        for i in range(3 * n_authors)
    )
    Through = Book.tags.through
    Through.objects.bulk_create(
        Through(book=b, tag=tags[t])
        for i, b in enumerate(books)
        for t in sorted({i % n, (3 * i + 1) % n})
    )
    contributions = []
    for i, b in enumerate(books):
        contributions.append(Contribution(book=b, author=authors[(i + 2) % n_authors], role="translator"))
        if i % 2 == 0:
            contributions.append(Contribution(book=b, author=authors[(i + 5) % n_authors], role="illustrator"))
    Contribution.objects.bulk_create(contributions)

    book_ct = ContentType.objects.get_for_model(Book)
    author_ct = ContentType.objects.get_for_model(Author)
    comments = [
        Comment(content_type=book_ct, object_id=b.pk, text=f"Comment on {b.title}")
        for i, b in enumerate(books)
        if i % 2 == 0
    ]
    comments += [Comment(content_type=author_ct, object_id=a.pk, text=f"Comment on {a.name}") for a in authors]
    Comment.objects.bulk_create(comments)

    reviews = []
    for i, b in enumerate(books):
        reviews.append(Review(book=b, created_by=authors[(i + 1) % n_authors], rating=i % 5 + 1))
        reviews.append(Review(book=b, created_by=authors[(i + 3) % n_authors], rating=(i + 2) % 5 + 1))
    Review.objects.bulk_create(reviews)
    Announcement.objects.bulk_create(
        Announcement(headline=f"News {i:02d}", created_by=authors[i]) for i in range(n)
    )

    for i in range(2):
        Place.objects.create(name=f"Plaza {i}", country=countries[0])
    # multi-table inheritance: bulk_create is not allowed, create one by one
    for i in range(n):
        Bookstore.objects.create(
            name=f"Store {i:02d}", country=countries[i], publisher=publishers[(i + 1) % n], rating=i % 5
        )
    # django-taggit labels: two per publisher, from a pool that grows with n
    for i, p in enumerate(publishers):
        p.labels.add(f"label{i % n:02d}", f"label{(i + 1) % n:02d}")
    ContentType.objects.clear_cache()
