"""The djopt.profile test project: in-memory SQLite, one app with an N+1 in plain code, in a
model property, in a template and in an async view, each next to its optimized twin."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "djopt-profile-tests-not-secret"
DEBUG = False
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.staticfiles", "shop"]
# SHOP_DB: a file, for an async view (its queries run in another thread, on another connection)
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ.get("SHOP_DB", ":memory:")}
}
MIDDLEWARE = []
ROOT_URLCONF = "shopproj.urls"
STATIC_URL = "/static/"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

# tests/profile/run's middleware check: the recorder's middleware, on although DEBUG is off.
if os.environ.get("SHOP_PROFILE_MIDDLEWARE"):
    MIDDLEWARE = ["djopt.profile.ProfileMiddleware"]
    DJOPT_PROFILE = {"file": os.environ["SHOP_PROFILE_MIDDLEWARE"], "enabled": True}
