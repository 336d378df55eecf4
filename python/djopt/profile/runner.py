"""``manage.py test`` with a query profile: a mixin for Django test runners.

    # settings.py
    TEST_RUNNER = "djopt.profile.ProfileTestRunner"      # DiscoverRunner with the mixin

    # or, with a runner of your own
    from djopt.profile import ProfileRunnerMixin
    class TestRunner(ProfileRunnerMixin, DiscoverRunner): ...

``manage.py test --djopt-profile=FILE`` (default: ``DJOPT_PROFILE["file"]``, else
``djopt-profile.jsonl``) empties FILE, then appends one record per test: what runs between the
result's ``startTest`` and ``stopTest`` (``setUp``, the test method, ``tearDown``; not
``setUpClass``/``setUpTestData``). With ``--parallel`` every worker process appends its own.
"""

import os
import sys
import unittest

from django.test.runner import DiscoverRunner, ParallelTestSuite, RemoteTestResult, RemoteTestRunner

from . import _config, _core

_process_profiler = None  # (pid, Profiler) of a worker process, built from the environment


def _profiler():
    global _process_profiler
    pid = os.getpid()
    if _process_profiler is None or _process_profiler[0] != pid:
        if not os.environ.get(_config.ENV["file"]):
            return None
        _process_profiler = (pid, _config.profiler()[0])
    return _process_profiler[1]


class RecordingResultMixin:
    """Records each test between ``startTest`` and ``stopTest`` of a unittest result."""

    _djopt_recording = None
    _djopt_outcome = None

    def startTest(self, test):
        super().startTest(test)
        profiler = _profiler()
        if profiler is not None:
            self._djopt_outcome = "passed"
            # The caller is TestCase.run, which then calls setUp and the test: the walk up
            # the stack from a query stops there.
            self._djopt_recording = profiler.start("test", test.id(), sys._getframe(1))

    def stopTest(self, test):
        rec, self._djopt_recording = self._djopt_recording, None
        if rec is not None:
            _profiler().stop(rec, outcome=self._djopt_outcome)
        super().stopTest(test)

    def _djopt_set(self, outcome):
        if self._djopt_recording is not None and self._djopt_outcome != "failed":
            self._djopt_outcome = outcome

    def addError(self, test, err):
        self._djopt_set("failed")
        super().addError(test, err)

    def addFailure(self, test, err):
        self._djopt_set("failed")
        super().addFailure(test, err)

    def addSubTest(self, test, subtest, err):
        if err is not None:
            self._djopt_set("failed")
        super().addSubTest(test, subtest, err)

    def addSkip(self, test, reason):
        self._djopt_set("skipped")
        super().addSkip(test, reason)

    def addExpectedFailure(self, test, err):
        self._djopt_set("skipped")
        super().addExpectedFailure(test, err)

    def addUnexpectedSuccess(self, test):
        self._djopt_set("failed")
        super().addUnexpectedSuccess(test)


class ProfileRemoteTestResult(RecordingResultMixin, RemoteTestResult):
    """The result of a ``--parallel`` worker process, recording."""


class ProfileRemoteTestRunner(RemoteTestRunner):
    resultclass = ProfileRemoteTestResult


class ProfileParallelTestSuite(ParallelTestSuite):
    runner_class = ProfileRemoteTestRunner


_result_classes = {}


def recording_result_class(base):
    """``base`` (a unittest result class) with the recording mixin."""
    cls = _result_classes.get(base)
    if cls is None:
        cls = type("Profile" + base.__name__, (RecordingResultMixin, base), {})
        _result_classes[base] = cls
    return cls


class ProfileRunnerMixin:
    """Adds ``--djopt-profile[=FILE]``, ``--djopt-profile-root``, ``--djopt-profile-threshold``
    and ``--djopt-profile-append`` to a DiscoverRunner subclass, and records every test."""

    @classmethod
    def add_arguments(cls, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--djopt-profile",
            metavar="FILE",
            dest="djopt_profile",
            help="append one JSON line per test to FILE (default: DJOPT_PROFILE['file'] or "
            f"{_core.DEFAULT_FILE}); FILE is emptied first",
        )
        parser.add_argument(
            "--djopt-profile-root",
            metavar="DIR",
            dest="djopt_profile_root",
            help="the project's own code is under DIR (default: settings.BASE_DIR, else the "
            "current folder)",
        )
        parser.add_argument(
            "--djopt-profile-threshold",
            metavar="N",
            type=int,
            dest="djopt_profile_threshold",
            help=f"a SELECT run N times from the same line in one test is an N+1 "
            f"(default {_core.DEFAULT_THRESHOLD})",
        )
        parser.add_argument(
            "--djopt-profile-append",
            action="store_true",
            dest="djopt_profile_append",
            help="keep the records already in FILE",
        )

    def __init__(
        self,
        *args,
        djopt_profile=None,
        djopt_profile_root=None,
        djopt_profile_threshold=None,
        djopt_profile_append=False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.djopt_profile_options = {
            "file": djopt_profile,
            "root": djopt_profile_root,
            "threshold": djopt_profile_threshold,
        }
        self.djopt_profile_append = djopt_profile_append
        self._djopt_parallel = False
        if self.parallel_test_suite is ParallelTestSuite:
            self.parallel_test_suite = ProfileParallelTestSuite

    def run_tests(self, test_labels, *args, **kwargs):
        profiler, _ = _config.profiler(**self.djopt_profile_options)
        if not profiler.file:
            return super().run_tests(test_labels, *args, **kwargs)
        if not self.djopt_profile_append:
            _core.truncate(profiler.file)
        # Worker processes (--parallel) build their profiler from the environment.
        values = {
            "file": profiler.file,
            "root": profiler.root,
            "threshold": str(profiler.threshold),
            "run": profiler.run,
        }
        saved = {var: os.environ.get(var) for var in _config.ENV.values()}
        for key, var in _config.ENV.items():
            os.environ[var] = values[key]
        global _process_profiler
        _process_profiler = (os.getpid(), profiler)
        try:
            return super().run_tests(test_labels, *args, **kwargs)
        finally:
            _process_profiler = None
            for var, value in saved.items():
                if value is None:
                    os.environ.pop(var, None)
                else:
                    os.environ[var] = value

    def run_suite(self, suite, **kwargs):
        # A parallel run replays the workers' results on the main process's result: only the
        # workers record.
        self._djopt_parallel = isinstance(suite, ParallelTestSuite)
        return super().run_suite(suite, **kwargs)

    def get_resultclass(self):
        base = super().get_resultclass()
        if self._djopt_parallel:
            return base
        return recording_result_class(base or unittest.TextTestResult)


class ProfileTestRunner(ProfileRunnerMixin, DiscoverRunner):
    """Django's DiscoverRunner, recording every test: ``TEST_RUNNER =
    "djopt.profile.ProfileTestRunner"`` or ``manage.py test --testrunner
    djopt.profile.ProfileTestRunner``."""
