"""Models covering every relation kind djopt has to understand.

Written the ordinary way on purpose: djopt reads this file statically.
Every model has a deterministic ``Meta.ordering`` so that results can be
compared byte for byte before and after a fix.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.db import models
from shelfkit.managers import ArchiveManager  # a third-party app's manager
from taggit.managers import TaggableManager


class Country(models.Model):
    name = models.CharField(max_length=50, unique=True)
    code = models.CharField(max_length=3)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Publisher(models.Model):
    name = models.CharField(max_length=50, unique=True)
    # three-deep chain: Book -> Author -> Publisher -> Country
    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="publishers")
    # django-taggit: a many-to-many to taggit.Tag through taggit.TaggedItem
    labels = TaggableManager(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Author(models.Model):
    name = models.CharField(max_length=50, unique=True)
    # string target, no related_name: the reverse accessor is publisher.author_set
    publisher = models.ForeignKey("library.Publisher", on_delete=models.CASCADE)
    comments = GenericRelation("library.Comment")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Biography(models.Model):
    # OneToOneField; its reverse is author.biography
    author = models.OneToOneField(Author, on_delete=models.CASCADE, related_name="biography")
    text = models.CharField(max_length=200)

    class Meta:
        ordering = ["author__name"]


class Profile(models.Model):
    # reverse one-to-one on a contrib model: user.profile
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    bio = models.CharField(max_length=200)

    class Meta:
        ordering = ["user__username"]


class Tag(models.Model):
    name = models.CharField(max_length=30, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Category(models.Model):
    name = models.CharField(max_length=50, unique=True)
    # self-referential ForeignKey
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="children")

    class Meta:
        ordering = ["name"]

    def mark_seen(self):
        # wagtail's TaskState.cancel shape: the row is saved, then a relation is read that may
        # lead to a row of the same model saved earlier in the caller's loop.
        self.name = self.name + "!"
        self.save(update_fields=["name"])
        return self.parent.name if self.parent_id else None


class PublishedManager(models.Manager):
    """A plain custom manager: filters, loads no relation."""

    def get_queryset(self):
        return super().get_queryset().filter(published=True)


class BookWithAuthorManager(models.Manager):
    """A custom manager whose get_queryset already joins the author."""

    def get_queryset(self):
        return super().get_queryset().select_related("author")


class BookQuerySet(models.QuerySet):
    """Custom QuerySet methods: djopt follows them as queryset methods."""

    def long(self):
        return self.filter(pages__gte=150)

    def by_title(self):
        return self.order_by("title")

    def refetched(self):
        # wagtail's `.specific()` shape: the rows are fetched again, and the new queryset keeps
        # the prefetch lookups of this one but not its joins.
        pks = list(self.values_list("pk", flat=True))
        return self.model.objects.filter(pk__in=pks).prefetch_related(*self._prefetch_related_lookups)


class Book(models.Model):
    title = models.CharField(max_length=100, unique=True)
    pages = models.IntegerField()
    published = models.BooleanField(default=True)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    # nullable ForeignKey
    editor = models.ForeignKey(Author, on_delete=models.SET_NULL, null=True, blank=True, related_name="edited_books")
    category = models.ForeignKey(Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="books")
    # plain ManyToManyField
    tags = models.ManyToManyField(Tag, related_name="books")
    # ManyToManyField with an explicit through model
    contributors = models.ManyToManyField(Author, through="Contribution", related_name="contributed_books")
    comments = GenericRelation("library.Comment")

    objects = models.Manager()
    published_books = PublishedManager()
    with_author = BookWithAuthorManager()
    archive = ArchiveManager()
    shelf = BookQuerySet.as_manager()

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return f"{self.title} by {self.author.name}"

    @property
    def author_name(self):
        return self.author.name

    def review_ratings(self, ranked=True):
        # django-cms's Page.get_languages shape: the default path asks the related manager for
        # another manager; a prefetch of `reviews` would answer that call from the default
        # manager's cache, a plain QuerySet without `.top()` (AttributeError).
        if ranked:
            return [r.rating for r in self.reviews(manager="ranked").top()]
        return [r.rating for r in self.reviews.all()]

    def book_dict(self, readonly=False):
        # Reads the tags only for read-write callers (healthchecks' Check.to_dict shape).
        out = {"title": self.title}
        if not readonly:
            out["tags"] = [t.name for t in self.tags.all()]
        return out

    def credit_author(self):
        # Saves a related row it reads: books sharing an author each add a mark to the same row.
        self.author.name = self.author.name + "*"
        self.author.save(update_fields=["name"])
        return self.author.name

    def has_long_title(self):
        # With `annotate(title_length=Length("title"))` the deferred title is never loaded.
        if hasattr(self, "title_length"):
            return self.title_length > 8
        return len(self.title) > 8


class Contribution(models.Model):
    book = models.ForeignKey(Book, on_delete=models.CASCADE)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    role = models.CharField(max_length=20)

    class Meta:
        ordering = ["book__title", "author__name"]


class Comment(models.Model):
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveIntegerField()
    content_object = GenericForeignKey("content_type", "object_id")
    text = models.CharField(max_length=200)

    class Meta:
        ordering = ["text"]


class Stamped(models.Model):
    """Abstract base defining a ForeignKey with a per-class related_name."""

    created_by = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="%(class)s_created")

    class Meta:
        abstract = True


class ReviewQuerySet(models.QuerySet):
    def top(self):
        return self.filter(rating__gte=3)


# A manager class made at module level (wagtail's WorkflowStateManager shape).
RatedManager = models.Manager.from_queryset(ReviewQuerySet)


class Review(Stamped):
    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="reviews")
    rating = models.IntegerField()

    objects = models.Manager()
    ranked = ReviewQuerySet.as_manager()
    rated = RatedManager()

    class Meta:
        ordering = ["book__title", "rating", "created_by__name"]


class AnnouncementManager(models.Manager["Announcement"]):
    """A manager with a subscripted (django-stubs style) base: a project manager all the same."""

    def headlines(self):
        return self.order_by("headline")


class Announcement(Stamped):
    headline = models.CharField(max_length=100)

    objects = AnnouncementManager()

    class Meta:
        ordering = ["headline"]


class Place(models.Model):
    name = models.CharField(max_length=50, unique=True)
    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="places")

    class Meta:
        ordering = ["name"]


class Bookstore(Place):
    """Multi-table inheritance: a Bookstore row has a Place row."""

    publisher = models.ForeignKey(Publisher, on_delete=models.CASCADE, related_name="bookstores")
    rating = models.IntegerField()

    class Meta:
        ordering = ["name"]
