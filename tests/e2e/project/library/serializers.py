from rest_framework import serializers

from library.models import Author, Book, Category, Review, Tag


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


# --- serializers the DRF view scenarios (scenarios/drf_views.py) drive -----------------------


class TagNameSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["name"]


class BookWithTagsSerializer(serializers.ModelSerializer):
    tags = TagNameSerializer(many=True, read_only=True)
    editor_name = serializers.SerializerMethodField()

    class Meta:
        model = Book
        fields = ["title", "tags", "editor_name"]

    def get_editor_name(self, obj):
        return obj.editor.name if obj.editor else None


class AuthorDetailSerializer(serializers.ModelSerializer):
    # Publisher.__str__ returns its name
    publisher = serializers.StringRelatedField()
    country = serializers.CharField(source="publisher.country.name")
    books = BookWithTagsSerializer(many=True, read_only=True)

    class Meta:
        model = Author
        fields = ["name", "publisher", "country", "books"]


class ReviewDepthSerializer(serializers.ModelSerializer):
    # depth 1: book and created_by nested with all their fields; the nested book's
    # many-to-many fields (tags, contributors) are primary-key lists, one query each
    class Meta:
        model = Review
        fields = ["rating", "book", "created_by"]
        depth = 1


class ChildCategorySerializer(serializers.ModelSerializer):
    book_titles = serializers.SerializerMethodField()

    class Meta:
        model = Category
        fields = ["name", "book_titles"]

    def get_book_titles(self, obj):
        return [b.title for b in obj.books.all()]


class CategoryTreeSerializer(serializers.ModelSerializer):
    children = ChildCategorySerializer(many=True, read_only=True)

    class Meta:
        model = Category
        fields = ["name", "children"]
