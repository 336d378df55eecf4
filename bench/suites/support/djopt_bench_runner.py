"""Loaded by bench/suites/run (on PYTHONPATH): a Django test runner that records each test's outcome."""
import json
import os
import unittest

from django.conf import settings
from django.utils.module_loading import import_string

_base = os.environ.get("DJOPT_BENCH_BASE_RUNNER") or settings.TEST_RUNNER
if _base.endswith("djopt_bench_runner.BenchRunner"):
    _base = "django.test.runner.DiscoverRunner"
_Base = import_string(_base)
_RANK = {"pass": 0, "xfail": 0, "skip": 1, "xpass": 2, "fail": 3, "error": 4}


def _recording(base):
    class Recording(base):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self.djopt_outcomes = {}

        def _rec(self, test, outcome, text=""):
            tid = test.id()
            old = self.djopt_outcomes.get(tid)
            if old is None or _RANK[outcome] > _RANK[old[0]]:
                self.djopt_outcomes[tid] = [outcome, text]
            elif text and outcome == old[0]:
                old[1] += "\n" + text

        def addSuccess(self, test):
            super().addSuccess(test)
            self._rec(test, "pass")

        def addFailure(self, test, err):
            super().addFailure(test, err)
            self._rec(test, "fail", self.failures[-1][1])

        def addError(self, test, err):
            super().addError(test, err)
            self._rec(test, "error", self.errors[-1][1])

        def addSkip(self, test, reason):
            super().addSkip(test, reason)
            self._rec(test, "skip", str(reason))

        def addExpectedFailure(self, test, err):
            super().addExpectedFailure(test, err)
            self._rec(test, "xfail")

        def addUnexpectedSuccess(self, test):
            super().addUnexpectedSuccess(test)
            self._rec(test, "xpass")

        def addSubTest(self, test, subtest, err):
            super().addSubTest(test, subtest, err)
            if err is not None:
                kind = "fail" if issubclass(err[0], test.failureException) else "error"
                self._rec(test, kind, self._exc_info_to_string(err, test))

    return Recording


class BenchRunner(_Base):
    def get_resultclass(self):
        return _recording(super().get_resultclass() or unittest.TextTestResult)

    def run_suite(self, suite, **kwargs):
        result = super().run_suite(suite, **kwargs)
        with open(os.environ["DJOPT_BENCH_OUT"], "w") as f:
            json.dump(getattr(result, "djopt_outcomes", {}), f)
        return result
