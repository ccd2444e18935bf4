"""Production: every secret and host from the environment; HTTPS everywhere."""

from .base import *  # noqa: F401,F403
from .base import STATIC_ROOT, STORAGES, env

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # internal health checks speak plain HTTP
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Static files (collectstatic at image build, Dockerfile), served by whitenoise: each file under a
# name with its content's hash (css/app.3f2a….css) plus a gzip and, as `brotli` is installed, a
# brotli copy made once at collectstatic; the copy the browser's Accept-Encoding allows is sent.
# A hashed name never changes content, so whitenoise sends it with "max-age=315360000, public,
# immutable": plotly.js (4.8 MB, about 1 MB brotli) is downloaded once per release, not per page.
# Files asked for by their plain name (none of our pages do) are cached WHITENOISE_MAX_AGE seconds.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=str(STATIC_ROOT))
WHITENOISE_MAX_AGE = env.int("WHITENOISE_MAX_AGE", default=3600)
