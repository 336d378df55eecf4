"""ORM303: templates that read relations of each row of a view's queryset.
Plain ``djopt fix`` must load them in the view.  Each view is owned by its
scenario, which renders it with RequestFactory and returns the page."""

from django.shortcuts import get_object_or_404, render
from django.template.response import TemplateResponse
from django.test import RequestFactory
from django.views.generic import DetailView, ListView

from library.models import Author, Book, Category

from ._registry import scenario


def _page(view, **kwargs):
    response = view(RequestFactory().get("/page/"), **kwargs)
    if hasattr(response, "render"):
        response.render()
    return [response.status_code, response.content.decode()]


def book_list_page(request):
    books = Book.objects.filter(published=True)
    return render(request, "library/e2e/book_list.html", {"books": books})


@scenario(nplusone=True, fixed_by="safe", owns=("book_list_page",))
def template_function_view():
    return _page(book_list_page)


def book_labels_page(request):
    return TemplateResponse(request, "library/e2e/book_labels.html", {"rows": Book.objects.all()})


@scenario(nplusone=True, fixed_by="safe", owns=("book_labels_page",))
def template_str_of_row():
    return _page(book_labels_page)


class AuthorListView(ListView):
    # the default template: library/author_list.html
    model = Author


@scenario(nplusone=True, fixed_by="safe", owns=("AuthorListView",))
def template_list_view_default_name():
    return _page(AuthorListView.as_view())


class CategoryDetailView(DetailView):
    model = Category
    template_name = "library/e2e/category_detail.html"


@scenario(nplusone=True, fixed_by="safe", owns=("CategoryDetailView",))
def template_detail_view_nested():
    return _page(CategoryDetailView.as_view(), pk=Category.objects.get(name="Fiction").pk)


def category_page(request, pk):
    category = get_object_or_404(Category, pk=pk)
    return render(request, "library/e2e/category_detail.html", {"category": category})


@scenario(nplusone=True, fixed_by="safe", owns=("category_page",))
def template_get_object_or_404():
    return _page(category_page, pk=Category.objects.get(name="Fiction").pk)


def loaded_titles_page(request):
    return render(request, "library/e2e/titles.html", {"books": Book.objects.select_related("author")})


@scenario(nplusone=False, fixed_by=None, owns=("loaded_titles_page",))
def template_already_select_related():
    return _page(loaded_titles_page)
