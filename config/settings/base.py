"""Settings shared by every environment. Everything that differs comes from the environment."""

import datetime
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tables2",
    "django_filters",
    "simple_history",
    "axes",
    "core",
    "crm",
    "complaints",
    "tasks",
    "analytics",
    "exchange",
    "demo",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # the Content-Security-Policy header (CONTENT_SECURITY_POLICY below)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last: turns a refused login into the lockout page (see "Login throttling" below).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
# Django's form renderer, with <select> written without a template per option (config/forms.py).
FORM_RENDERER = "config.forms.FastSelectRenderer"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm.context_processors.roles",
                "notifications.context_processors.unread",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dev server read while a seed or the worker writes; a writer waits up to 20 s for
    # the other one's transaction (make run has both) instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("init_command", "PRAGMA journal_mode=WAL;")
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    # A transaction takes the write lock when it begins (and waits for it): a deferred one that read
    # first fails at once with "database is locked" when it comes to write while the other writes.
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Content-Security-Policy (django-csp): scripts only from our own static files, so an injected
# <script> or on* handler does not run. Pages carry no inline script and no on* handler (data for
# the scripts travels in json_script blocks, which are JSON, not code; tests/test_csp.py checks
# every page of every role). plotly.js, served from our own static files, still needs two things:
# - style-src 'unsafe-inline': it injects its stylesheet at run time (the mode bar, hover labels,
#   its bundled map library's rules) as <style> elements and sets style attributes on the SVG it
#   draws; without it the charts draw unstyled and every page logs violations. Styles cannot run
#   code, and chart text from data is escaped (core.charts), so this keeps scripts strict.
# - script-src 'unsafe-eval', on the one page that draws WebGL (CSP_WEBGL_CHARTS below).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}
# Added to the policy of the report page with the profit-vs-volume chart (analytics.views.ReportView),
# and of no other: its point per customer is drawn by plotly.js's WebGL layer (regl), which compiles
# its drawing code with `new Function`. Without 'unsafe-eval' the chart shows "WebGL is not
# supported" (and the console says nothing); drawing 100,000 points as SVG instead is too slow.
CSP_WEBGL_CHARTS = {"script-src": ["'unsafe-eval'"]}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Axes first: it refuses a locked-out login before ModelBackend spends a password hash on it.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling (django-axes), on the login page and the admin's: the failed login after
# LOGIN_FAILURES_ALLOWED wrong passwords in a row (the 6th by default) locks that username from
# that client address for LOGIN_LOCKOUT_MINUTES; each further try while locked starts the wait
# again, and a successful login clears the count. The key is username and address together, so a
# guesser cannot lock everybody else out of their accounts (README, "Login lockout"). Behind a
# proxy, LOGIN_PROXY_COUNT says how many of ours append to X-Forwarded-For (core/client_ip.py).
# Unlock: the admin's "Access attempts" page, or `manage.py axes_reset_username NAME`.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURES_ALLOWED", default=5) + 1
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.float("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_CLIENT_IP_CALLABLE = "core.client_ip.client_ip"
AXES_VERBOSE = False  # no banner on every start; each failure and lockout is still logged
LOGIN_PROXY_COUNT = env.int("LOGIN_PROXY_COUNT", default=0)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # config.views.home sends each role to its start page
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("DJANGO_TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = True
# One date, month and number format per language, ISO input first (core/formats/<lang>/formats.py).
FORMAT_MODULE_PATH = ["core.formats"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "config.staticfinders.PlotlyFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = env("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "media"))

# Imports (exchange): the largest file accepted, rows written per batch, problems listed per
# report. (A silent import is given up after JOB_STALE_SECONDS, as every job: see Celery below.)
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=200 * 1024 * 1024)
IMPORT_BATCH_SIZE = 2000
IMPORT_REPORT_MAX_PROBLEMS = 1000
# What one file may hold (exchange/readers.py): rows, columns, characters in one value; an XLSX
# may unpack to this many bytes, and no large part of it be packed more than this many times.
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=2_000_000)
IMPORT_MAX_COLUMNS = env.int("IMPORT_MAX_COLUMNS", default=100)
IMPORT_MAX_FIELD_CHARS = env.int("IMPORT_MAX_FIELD_CHARS", default=32_768)
IMPORT_MAX_XLSX_UNPACKED_BYTES = env.int("IMPORT_MAX_XLSX_UNPACKED_BYTES", default=512 * 1024 * 1024)
IMPORT_MAX_XLSX_RATIO = 100
# Uploaded import files are deleted this many days after upload (beat: exchange.purge_import_files).
IMPORT_FILE_RETENTION_DAYS = env.int("IMPORT_FILE_RETENTION_DAYS", default=30)
# A request body over the import limit is refused before it is read, on every URL
# (exchange.uploads); files over 2.5 MiB are streamed to a temporary file, never held in memory.
FILE_UPLOAD_HANDLERS = [
    "exchange.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FILES = 10

# The one currency all money is held in (Decimal, two places).
CURRENCY = env("CURRENCY", default="CNY")

DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"
CUSTOMER_LIST_PAGE_SIZE = 50

# Celery's broker: CELERY_BROKER_URL, else Redis when REDIS_URL is set; with neither, tasks run
# in-process, in the caller (the tests). `make run` sets CELERY_BROKER_URL=filesystem:// and starts a
# worker beside the web server (Procfile): messages are files under BROKER_FOLDER, so a laptop
# without Redis runs jobs in the background as production does.
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL == "memory://"
BROKER_FOLDER = Path(env("BROKER_FOLDER", default=str(BASE_DIR / "var" / "broker")))
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# Sending a task waits for the broker at most BROKER_TIMEOUT_SECONDS (to connect, then for each
# command) and is not retried, so a request that starts a job answers at once when Redis is down
# or hung, and the job is marked failed (core/jobs.py). Without socket_timeout a hung Redis holds
# a send forever; redis-py itself reconnects a pooled connection that Redis closed. The
# broker_connection_* settings are left as they are: they say how a worker (re)connects, and a
# worker should keep trying. Job tasks ignore their results: sending one never waits on the
# result backend either.
BROKER_TIMEOUT_SECONDS = env.float("BROKER_TIMEOUT_SECONDS", default=1.0)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
    "socket_timeout": BROKER_TIMEOUT_SECONDS,
}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # One folder for both directions (the web server writes, the worker reads); "control" carries
    # the worker's broadcast messages. The transport needs the folders to exist.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_FOLDER / "queue"),
        "data_folder_out": str(BROKER_FOLDER / "queue"),
        "processed_folder": str(BROKER_FOLDER / "processed"),
        "store_processed": False,
        "control_folder": str(BROKER_FOLDER / "control"),
    }
    for _folder in ("queue", "processed", "control"):
        (BROKER_FOLDER / _folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 0}
# Background jobs (analysis runs, imports; core/jobs.py): a worker writes its job's heartbeat
# every JOB_HEARTBEAT_SECONDS; beat's sweep, every JOB_SWEEP_SECONDS, gives up a job silent for
# JOB_STALE_SECONDS (its worker died), so a killed worker holds "Recompute" for about a minute.
JOB_HEARTBEAT_SECONDS = env.float("JOB_HEARTBEAT_SECONDS", default=5.0)
JOB_STALE_SECONDS = env.int("JOB_STALE_SECONDS", default=45)
JOB_SWEEP_SECONDS = 15.0
CELERY_BEAT_SCHEDULE = {
    "core-sweep-jobs": {
        "task": "core.sweep_jobs",
        "schedule": JOB_SWEEP_SECONDS,
        "options": {"expires": JOB_SWEEP_SECONDS},
    },
    "analytics-nightly-run": {"task": "analytics.nightly_run", "schedule": crontab(hour=2, minute=30)},
    "complaints-mark-sla-breaches": {"task": "complaints.mark_sla_breaches", "schedule": 300.0},
    "complaints-auto-close": {"task": "complaints.auto_close", "schedule": 3600.0},
    "exchange-purge-import-files": {"task": "exchange.purge_import_files", "schedule": crontab(hour=3, minute=40)},
    "notifications-sweep-outbox": {"task": "notifications.sweep_outbox", "schedule": 60.0},
    "tasks-remind-due": {"task": "tasks.remind_due_tasks", "schedule": crontab(hour=7, minute=30)},
    "analytics-weekly-digest": {
        "task": "analytics.weekly_digest",
        "schedule": crontab(day_of_week=1, hour=8, minute=0),
    },
}

# E-mail (notifications app): EMAIL_URL names the server, e.g. smtp+tls://user:password@smtp.example.com:587
# (smtp+ssl:// for port 465, smtp:// without TLS); without it messages are written to the console.
# Mail goes out from the outbox (notifications.Outbox) through a Celery task: a failed attempt is
# tried again after 1, 2, 4 ... minutes (at most an hour), EMAIL_MAX_ATTEMPTS times in all.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Customer value dashboard <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=8)
# A message "sending" this long (its worker died) is sent again, with the same Message-ID.
EMAIL_SENDING_TIMEOUT_SECONDS = 600
# Links in e-mails start with this address.
SITE_URL = env("SITE_URL", default="http://localhost:8000")

# A resolved complaint the customer does not reopen within this many days is closed.
COMPLAINT_AUTO_CLOSE_DAYS = env.int("COMPLAINT_AUTO_CLOSE_DAYS", default=14)
# Analysis runs: this many published runs are kept (tier history, migration).
ANALYSIS_RUNS_KEPT = env.int("ANALYSIS_RUNS_KEPT", default=12)
# seed_demo logs about one complaint per five ordering customers, at most this many.
DEMO_COMPLAINTS_MAX = 2000
# "Breaching soon" on the service queue: due within this many hours.
COMPLAINT_BREACH_WARNING_HOURS = 4

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
}
