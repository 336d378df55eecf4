"""The project with the Django Debug Toolbar and djopt's panel (tests/profile/run)."""

from debug_toolbar.settings import PANELS_DEFAULTS

from .settings import *  # noqa: F403

DEBUG = True
INTERNAL_IPS = ["127.0.0.1"]
INSTALLED_APPS = INSTALLED_APPS + ["debug_toolbar"]  # noqa: F405
MIDDLEWARE = ["debug_toolbar.middleware.DebugToolbarMiddleware"]
ROOT_URLCONF = "shopproj.urls_toolbar"
DEBUG_TOOLBAR_PANELS = [*PANELS_DEFAULTS, "djopt.profile.toolbar.DjoptPanel"]
DEBUG_TOOLBAR_CONFIG = {"IS_RUNNING_TESTS": False}
