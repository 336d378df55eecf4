import pytest

from shop import reports
from shop.data import make_books


@pytest.mark.parametrize("rows", [3, 6])
def test_titles(books, rows):
    assert len(reports.titles_with_authors()) == rows


@pytest.mark.parametrize("rows", [3, 6])
def test_titles_joined(books, rows):
    assert len(reports.titles_with_authors_joined()) == rows


def test_labels(books):
    assert len(reports.author_labels()) == 5


def test_tags(books):
    assert len(reports.tag_names()) == 5


def test_tags_prefetched(books):
    assert len(reports.tag_names_prefetched()) == 5


@pytest.mark.django_db
def test_rows_made_in_the_test():
    make_books(4)
    assert len(reports.titles_with_authors_joined()) == 4


def test_no_query():
    assert reports.__name__ == "shop.reports"


@pytest.mark.skip(reason="shows that a test skipped before its call writes no record")
def test_skipped():
    pass


@pytest.mark.django_db
def test_skipped_in_the_call():
    pytest.skip("shows the outcome of a test skipped while it runs")
