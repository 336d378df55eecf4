from django.db import models


class Country(models.Model):
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]


class Publisher(models.Model):
    name = models.CharField(max_length=100)
    country = models.ForeignKey(Country, on_delete=models.CASCADE)

    class Meta:
        ordering = ["name"]


class Author(models.Model):
    name = models.CharField(max_length=100)
    publisher = models.ForeignKey(Publisher, null=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["name"]


class Tag(models.Model):
    name = models.CharField(max_length=50)

    class Meta:
        ordering = ["name"]


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author, related_name="books", on_delete=models.CASCADE)
    tags = models.ManyToManyField(Tag, blank=True)
    price = models.DecimalField(max_digits=8, decimal_places=2)

    class Meta:
        ordering = ["title"]


class Review(models.Model):
    book = models.ForeignKey("shop.Book", on_delete=models.CASCADE)
    reviewer = models.CharField(max_length=100)
    stars = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.reviewer} on {self.book.title}: {self.stars}/5"
