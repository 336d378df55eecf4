from rest_framework import serializers

from library.models import Author, Book


class BookSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")

    class Meta:
        model = Book
        fields = ["title", "pages", "author_name"]


class BookTitleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Book
        fields = ["title"]


class AuthorWithBooksSerializer(serializers.ModelSerializer):
    books = BookTitleSerializer(many=True)

    class Meta:
        model = Author
        fields = ["name", "books"]
