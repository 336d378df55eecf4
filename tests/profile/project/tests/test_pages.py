import pytest


@pytest.mark.parametrize("rows", [3, 6])
def test_books_n1(client, books, rows):
    assert client.get("/books/n1/").status_code == 200


@pytest.mark.parametrize("rows", [6])
def test_books_ok(client, books, rows):
    assert client.get("/books/ok/").status_code == 200


def test_report(client, books):
    assert client.get("/report/").status_code == 200
