"""Developer laptop / `make run`: SQLite and in-process tasks unless the environment says otherwise."""

import os

os.environ.setdefault("DJANGO_DEBUG", "true")
# A key for local use only; production.py refuses to start without DJANGO_SECRET_KEY.
os.environ.setdefault("DJANGO_SECRET_KEY", "local-development-only-not-a-secret")

from .base import *  # noqa: E402,F401,F403

# runserver serves static files from the finders (plotly.js included) without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
