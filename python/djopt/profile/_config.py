"""Settings of the Django entry points (test runner, middleware, toolbar panel).

Each value comes from the first of: the entry point's own option (``manage.py test
--djopt-profile=FILE``), the environment (``DJOPT_PROFILE_FILE``, ``DJOPT_PROFILE_ROOT``,
``DJOPT_PROFILE_THRESHOLD``), the ``DJOPT_PROFILE`` dict of the Django settings, the default.
"""

import os

from . import _core

ENV = {
    "file": "DJOPT_PROFILE_FILE",
    "root": "DJOPT_PROFILE_ROOT",
    "threshold": "DJOPT_PROFILE_THRESHOLD",
    "run": "DJOPT_PROFILE_RUN",
}


def django_settings():
    from django.conf import settings

    conf = getattr(settings, "DJOPT_PROFILE", None) or {}
    if not isinstance(conf, dict):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("DJOPT_PROFILE must be a dict (see djopt's docs/profile.md)")
    return conf


def resolve(**given):
    """A dict with file, root, threshold, run (and the other keys of DJOPT_PROFILE)."""
    conf = dict(django_settings())
    for key, var in ENV.items():
        if os.environ.get(var):
            conf[key] = os.environ[var]
    for key, value in given.items():
        if value is not None:
            conf[key] = value
    if not conf.get("root"):
        from django.conf import settings

        base = getattr(settings, "BASE_DIR", None)
        conf["root"] = str(base) if base else os.getcwd()
    conf["root"] = str(conf["root"])
    conf.setdefault("file", _core.DEFAULT_FILE)
    if conf["file"]:
        conf["file"] = str(conf["file"])
    conf["threshold"] = int(conf.get("threshold") or _core.DEFAULT_THRESHOLD)
    return conf


def profiler(**given):
    conf = resolve(**given)
    return _core.Profiler(
        file=conf["file"] or None,
        root=conf["root"],
        threshold=conf["threshold"],
        run=conf.get("run"),
    ), conf
