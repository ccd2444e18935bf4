"""Test settings: the database from DATABASE_URL (SQLite by default); tasks eager unless a test says otherwise."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-not-a-secret")

from .base import *  # noqa: E402,F401,F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
LANGUAGE_CODE = "en"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Login throttling needs the request in authenticate(), which Client.login() does not pass: off in
# the suite, on in tests/test_login_throttling.py (force_login never goes through it).
AXES_ENABLED = False
# Each test runs inside one transaction: begun IMMEDIATE (base.py, for SQLite), it would hold the
# write lock for the whole test and starve the threads a test starts (progress writers). The
# browser test of `make run` runs its processes with the local settings, IMMEDIATE as shipped.
DATABASES["default"].get("OPTIONS", {}).pop("transaction_mode", None)  # noqa: F405
