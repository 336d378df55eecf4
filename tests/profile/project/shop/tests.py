"""Tests for `manage.py test` (tests/profile/run runs them with djopt's test runner)."""

from unittest import skip

from django.test import TestCase

from . import reports
from .data import make_books


class ReportTests(TestCase):
    def test_titles_3(self):
        make_books(3)
        self.assertEqual(len(reports.titles_with_authors()), 3)

    def test_titles_6(self):
        make_books(6)
        self.assertEqual(len(reports.titles_with_authors()), 6)

    def test_titles_joined(self):
        make_books(6)
        self.assertEqual(len(reports.titles_with_authors_joined()), 6)

    @skip("shows a skipped test's outcome")
    def test_skipped(self):
        pass


class PageTests(TestCase):
    def test_books_n1(self):
        make_books(4)
        self.assertEqual(self.client.get("/books/n1/").status_code, 200)

    def test_books_ok(self):
        make_books(4)
        self.assertEqual(self.client.get("/books/ok/").status_code, 200)
