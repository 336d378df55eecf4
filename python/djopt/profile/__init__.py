"""djopt.profile: records the database queries each test or request really runs, groups them
by SQL shape and by the line of the project's own code that ran them, and flags the groups
repeated per row (N+1). One JSON line per test or request; the format is documented in
docs/profile.md of djopt's repository.

Entry points:

* pytest: ``pytest --djopt-profile=FILE`` (the plugin is registered when djopt is installed;
  ``pytest -p djopt.profile`` loads it explicitly);
* ``manage.py test``: ``TEST_RUNNER = "djopt.profile.ProfileTestRunner"``, or
  ``ProfileRunnerMixin`` on a runner of your own;
* a development server: ``"djopt.profile.ProfileMiddleware"`` in ``MIDDLEWARE``;
* Django Debug Toolbar: ``"djopt.profile.toolbar.DjoptPanel"`` in ``DEBUG_TOOLBAR_PANELS``;
* any code: ``with djopt.profile.record("task", "nightly report") as rec: ...``, then
  ``rec.result`` is the record.

Only the standard library is imported here: Django when recording starts, pytest never.
"""

import contextlib

from ._core import (
    DEFAULT_FILE,
    DEFAULT_THRESHOLD,
    FORMAT,
    FORMAT_VERSION,
    Profiler,
    Recording,
    normalize_sql,
)

# The pytest plugin's hooks: this module is the plugin (`-p djopt.profile`, entry point).
from ._pytest import (  # noqa: F401
    pytest_addoption,
    pytest_configure,
    pytest_runtest_call,
    pytest_runtest_makereport,
    pytest_unconfigure,
)

__all__ = [
    "DEFAULT_FILE",
    "DEFAULT_THRESHOLD",
    "FORMAT",
    "FORMAT_VERSION",
    "Profiler",
    "ProfileMiddleware",
    "ProfileRunnerMixin",
    "ProfileTestRunner",
    "Recording",
    "normalize_sql",
    "record",
]

_LAZY = {
    "ProfileMiddleware": "middleware",
    "ProfileRunnerMixin": "runner",
    "ProfileTestRunner": "runner",
}


def __getattr__(name):
    # The Django entry points import Django: loaded on first use only.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{module}"), name)


@contextlib.contextmanager
def record(kind, id, file=None, root=None, threshold=None):
    """Records the queries of the ``with`` block as one record of ``kind`` and ``id``
    (appended to ``file`` when given); the Recording's ``result`` is the record afterwards.
    ``root``: the project's own code (default: the current folder)."""
    profiler = Profiler(file=file, root=root, threshold=threshold)
    rec = profiler.start(kind, id)
    try:
        yield rec
    finally:
        profiler.stop(rec)
