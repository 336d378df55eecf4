"""Importing this package registers every scenario (see _registry.py)."""

from importlib import import_module

from ._registry import SCENARIOS, scenario

MODULES = [
    "fk_loops",
    "multi_loops",
    "unsafe_fixes",
    "orm103",
    "orm_rules",
    "uncovered",
    "untouched",
    "drf_views",
    "admin_pages",
    "template_pages",
    "stale_writes",
    "form_pages",
    "assignments",
    "helper_functions",
    "module_aliases",
    "prefetched_elsewhere",
    "prefetch_aware",
    "tidy_edits",
]


def load():
    for name in MODULES:
        import_module(f"{__name__}.{name}")
    return SCENARIOS


__all__ = ["SCENARIOS", "scenario", "load", "MODULES"]
