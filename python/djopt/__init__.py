"""djopt: finds and fixes Django N+1 queries.

The wheel installs the ``djopt`` command (the static checker, written in Rust) and this small
pure-Python package, whose ``djopt.profile`` records the queries a test run or a development
server really executes (see docs/profile.md in djopt's repository).
"""

__all__ = ["__version__"]


def __getattr__(name):
    # Looked up on first use: pytest imports this package at start-up (the plugin is
    # registered by an entry point), and reading the installed metadata costs a directory scan.
    if name == "__version__":
        try:
            from importlib.metadata import version

            return version("djopt")
        except Exception:  # running from a source tree
            return "0.0.0"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
