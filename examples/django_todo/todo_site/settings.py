"""Settings of the Django to-do example; what a deployment changes comes from
the environment (run.sh sets it)."""
import os
from pathlib import Path

from django.core.management.utils import get_random_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or get_random_secret_key()
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "corsheaders",
    "rest_framework",
    "tasks",
]
MIDDLEWARE = [
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
]
ROOT_URLCONF = "todo_site.urls"
WSGI_APPLICATION = "todo_site.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("TODO_DB") or str(BASE_DIR / "db.sqlite3"),
    }
}
# Each request one transaction: its deltas go to Snorky in one call, after the commit.
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True

REST_FRAMEWORK = {
    # An example without users: anyone may read and change the list.
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}

# Snorky (snorky.backend.django).
SNORKY_BACKEND_URL = os.environ.get("SNORKY_BACKEND_URL", "http://127.0.0.1:5801/backend")
SNORKY_API_KEY = os.environ.get("SNORKY_BACKEND_KEY")
SNORKY_DATASYNC_SERVICE = "datasync_backend"

# The page is served by Snorky (another origin): it may call this API, send
# X-Snorky and read X-Subscription-Token (the views expose it themselves).
CORS_ALLOWED_ORIGINS = [
    o.strip()
    for o in os.environ.get("TODO_ALLOWED_ORIGINS", "http://127.0.0.1:5800,http://localhost:5800").split(",")
    if o.strip()
]
CORS_ALLOW_HEADERS = ["content-type", "x-snorky"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"snorky.django": {"handlers": ["console"], "level": "INFO"}},
}
