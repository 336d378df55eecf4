import pytest

from shop.data import make_books


@pytest.fixture
def books(request, db):
    """Rows made in the fixture's setup: not part of the test's record (only the call phase
    is recorded). ``rows`` comes from the test's parameters."""
    rows = request.node.callspec.params.get("rows", 5) if hasattr(request.node, "callspec") else 5
    make_books(rows)
    return rows
