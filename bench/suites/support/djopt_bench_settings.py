"""Loaded by bench/suites/run (on PYTHONPATH): the settings in DJOPT_BENCH_BASE_SETTINGS with its test runner."""
import importlib
import os

_base = importlib.import_module(os.environ["DJOPT_BENCH_BASE_SETTINGS"])
globals().update({k: v for k, v in vars(_base).items() if k.isupper()})
os.environ.setdefault("DJOPT_BENCH_BASE_RUNNER",
                      getattr(_base, "TEST_RUNNER", "django.test.runner.DiscoverRunner"))
TEST_RUNNER = "djopt_bench_runner.BenchRunner"
