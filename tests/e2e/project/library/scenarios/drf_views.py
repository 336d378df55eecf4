"""ORM301: Django REST framework serializers that read relations of each row.
Plain ``djopt fix`` must load them in the queryset the view (or the call) uses:
the class attribute, or what ``get_queryset()`` returns.  Each view class is
owned by its scenario (``owns=``): it may change only when that scenario is
fixed.  The endpoints are requested with APIRequestFactory; the scenario
returns the rendered response body."""

from rest_framework import generics, viewsets
from rest_framework.test import APIRequestFactory

from library.api import serializers as api_serializers
from library.models import Author, Book, Category, Review
from library.serializers import (
    AuthorDetailSerializer,
    AuthorWithBooksSerializer,
    BookSerializer,
    BookWithTagsSerializer,
    CategoryTreeSerializer,
    ReviewDepthSerializer,
)

from ._registry import scenario


def _get(view, **kwargs):
    response = view(APIRequestFactory().get("/api/"), **kwargs)
    response.render()
    return [response.status_code, response.content.decode()]


@scenario(nplusone=True, fixed_by="safe")
def drf_serializer_source_path():
    return [dict(row) for row in BookSerializer(Book.objects.all(), many=True).data]


@scenario(nplusone=True, fixed_by="safe")
def drf_nested_many_serializer():
    data = AuthorWithBooksSerializer(Author.objects.all(), many=True).data
    return [{"name": row["name"], "books": [dict(b) for b in row["books"]]} for row in data]


class BookSourceList(generics.ListAPIView):
    queryset = Book.objects.all()
    serializer_class = BookSerializer


@scenario(nplusone=True, fixed_by="safe", owns=("BookSourceList",))
def drf_list_view_source_path():
    return _get(BookSourceList.as_view())


class ReexportedAuthorList(generics.ListAPIView):
    queryset = Author.objects.all()
    # `library.api.serializers` star-imports it from `serializers_/publishers.py`.
    serializer_class = api_serializers.AuthorPublisherSerializer


@scenario(nplusone=True, fixed_by="safe", owns=("ReexportedAuthorList",))
def drf_serializer_through_star_reexport():
    return _get(ReexportedAuthorList.as_view())


class AuthorDetailViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Author.objects.all()
    serializer_class = AuthorDetailSerializer


@scenario(nplusone=True, fixed_by="safe", owns=("AuthorDetailViewSet",))
def drf_viewset_nested_many_and_str():
    return _get(AuthorDetailViewSet.as_view({"get": "list"}))


class PublishedBookViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Book.objects.all()
    serializer_class = BookWithTagsSerializer

    def get_queryset(self):
        return super().get_queryset().filter(published=True)


@scenario(nplusone=True, fixed_by="safe", owns=("PublishedBookViewSet",))
def drf_get_queryset_wins_method_field():
    return _get(PublishedBookViewSet.as_view({"get": "list"}))


class ReviewList(generics.ListAPIView):
    serializer_class = ReviewDepthSerializer

    def get_queryset(self):
        return Review.objects.filter(rating__gte=3)


@scenario(nplusone=True, fixed_by="safe", owns=("ReviewList",))
def drf_meta_depth():
    return _get(ReviewList.as_view())


class CategoryTree(generics.RetrieveAPIView):
    queryset = Category.objects.all()
    serializer_class = CategoryTreeSerializer


@scenario(nplusone=True, fixed_by="safe", owns=("CategoryTree",))
def drf_retrieve_nested_children():
    # one category; its children grow with the data, and each child's books are read
    return _get(CategoryTree.as_view(), pk=Category.objects.get(name="Fiction").pk)


class LoadedBookList(generics.ListAPIView):
    queryset = Book.objects.select_related("author")
    serializer_class = BookSerializer


@scenario(nplusone=False, fixed_by=None, owns=("LoadedBookList",))
def drf_already_select_related():
    return _get(LoadedBookList.as_view())


class LoadedAuthorViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AuthorDetailSerializer

    def get_queryset(self):
        return Author.objects.select_related("publisher__country").prefetch_related("books__tags", "books__editor")


@scenario(nplusone=False, fixed_by=None, owns=("LoadedAuthorViewSet",))
def drf_already_prefetched_nested():
    return _get(LoadedAuthorViewSet.as_view({"get": "list"}))
