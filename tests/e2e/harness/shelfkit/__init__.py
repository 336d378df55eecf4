"""Stands in for a third-party Django app installed in site-packages: its
code is importable but not part of the project djopt reads."""
