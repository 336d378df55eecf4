"""The pytest plugin: ``pytest --djopt-profile=FILE`` (registered by the wheel's ``pytest11``
entry point, or loaded with ``-p djopt.profile``) appends one record per test to FILE.

Only the call phase of a test is recorded (the test function, and a unittest TestCase's setUp
and tearDown): fixtures' setup, such as pytest-django creating the test database, is not.
Nothing here imports pytest or Django at import time, so the plugin costs nothing when the
option is not given and loads in environments without Django.
"""

import importlib.util
import os
import sys

from . import _core

ENV_RUN = "DJOPT_PROFILE_RUN"  # the controller's run id, inherited by pytest-xdist workers
_STATE = "_djopt_profile"


class _State:
    def __init__(self, profiler):
        self.profiler = profiler
        self.current = None
        self.previous_env = None

    def start(self, nodeid, stop_frame):
        if self.current is not None:  # a test that never reported (interrupted)
            self.profiler.stop(self.current, outcome=None)
            self.current = None
        try:
            self.current = self.profiler.start("test", nodeid, stop_frame)
        except Exception as exc:
            from django.core.exceptions import ImproperlyConfigured

            if isinstance(exc, ImproperlyConfigured):
                # settings not configured yet (no pytest-django): this test is not recorded
                self.current = None
                return
            raise

    def stop(self, outcome):
        rec, self.current = self.current, None
        if rec is not None:
            self.profiler.stop(rec, outcome=outcome)


def pytest_addoption(parser):
    group = parser.getgroup("djopt", "djopt: record each test's database queries")
    group.addoption(
        "--djopt-profile",
        metavar="FILE",
        dest="djopt_profile",
        default=None,
        help="write one JSON line per test to FILE: its queries grouped by SQL shape and by the "
        "line of the project's code that ran them, N+1 groups flagged (FILE is emptied first)",
    )
    group.addoption(
        "--djopt-profile-root",
        metavar="DIR",
        dest="djopt_profile_root",
        default=None,
        help="the project's own code is under DIR (default: the rootdir)",
    )
    group.addoption(
        "--djopt-profile-threshold",
        metavar="N",
        type=int,
        dest="djopt_profile_threshold",
        default=None,
        help=f"a SELECT run N times from the same line in one test is an N+1 "
        f"(default {_core.DEFAULT_THRESHOLD})",
    )
    group.addoption(
        "--djopt-profile-append",
        action="store_true",
        dest="djopt_profile_append",
        default=False,
        help="keep the records already in FILE",
    )


def pytest_configure(config):
    path = config.getoption("djopt_profile", None)
    if not path:
        return
    if importlib.util.find_spec("django") is None:
        import pytest

        raise pytest.UsageError("--djopt-profile records Django queries: Django is not installed")
    worker = hasattr(config, "workerinput")  # a pytest-xdist worker
    state_run = os.environ.get(ENV_RUN) if worker else None
    path = os.path.join(str(config.invocation_params.dir), path)
    root = config.getoption("djopt_profile_root") or str(config.rootpath)
    root = os.path.join(str(config.invocation_params.dir), root)
    profiler = _core.Profiler(
        file=path,
        root=root,
        threshold=config.getoption("djopt_profile_threshold"),
        run=state_run,
    )
    state = _State(profiler)
    if not worker:
        state.previous_env = os.environ.get(ENV_RUN)
        os.environ[ENV_RUN] = profiler.run
        if not config.getoption("djopt_profile_append"):
            _core.truncate(profiler.file)
    setattr(config, _STATE, state)


def pytest_unconfigure(config):
    state = getattr(config, _STATE, None)
    if state is None:
        return
    if state.current is not None:
        state.stop(outcome=None)
    if not hasattr(config, "workerinput"):
        if state.previous_env is None:
            os.environ.pop(ENV_RUN, None)
        else:
            os.environ[ENV_RUN] = state.previous_env
    delattr(config, _STATE)


def pytest_runtest_call(item):
    state = getattr(item.config, _STATE, None)
    if state is not None:
        # The frame that calls every pytest_runtest_call implementation, pytest's own (which
        # runs the test) included: the walk up from a query stops there.
        state.start(item.nodeid, sys._getframe(1))


def pytest_runtest_makereport(item, call):
    if call.when != "call":
        return None
    state = getattr(item.config, _STATE, None)
    if state is None or state.current is None:
        return None
    outcome = "passed"
    if call.excinfo is not None:
        import pytest

        skipped = (pytest.skip.Exception, pytest.xfail.Exception)
        outcome = "skipped" if call.excinfo.errisinstance(skipped) else "failed"
    state.stop(outcome)
    return None
