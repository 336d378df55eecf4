"""Loaded by bench/suites/run (on PYTHONPATH): a pytest plugin that records each test's outcome."""
import json
import os

_RANK = {"pass": 0, "xfail": 0, "skip": 1, "xpass": 2, "fail": 3, "error": 4}
_out = {}


def _rec(nodeid, outcome, text=""):
    old = _out.get(nodeid)
    if old is None or _RANK[outcome] > _RANK[old[0]]:
        _out[nodeid] = [outcome, text]


def pytest_runtest_logreport(report):
    text = report.longreprtext if report.failed else ""
    if hasattr(report, "wasxfail"):
        _rec(report.nodeid, "xfail" if report.skipped else "xpass")
    elif report.when == "call":
        _rec(report.nodeid, {"passed": "pass", "failed": "fail", "skipped": "skip"}[report.outcome], text)
    elif report.failed:
        _rec(report.nodeid, "error", text)
    elif report.skipped:
        _rec(report.nodeid, "skip", str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else "")


def pytest_collectreport(report):
    if report.failed:
        _rec(report.nodeid or "<collection>", "error", report.longreprtext)


def pytest_sessionfinish(session):
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller writes
        return
    with open(os.environ["DJOPT_BENCH_OUT"], "w") as f:
        json.dump(_out, f)
