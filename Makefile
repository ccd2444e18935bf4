# Two commands on a fresh machine with Python 3.11 and make: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint format setup migrate messages messages-extract worker bench clean

# The web server, a Celery worker and beat together (Procfile). Without Redis the broker is a folder
# (var/broker/), so recompute and import return at once and show their progress, as in production.
run: setup migrate
	$(PY) manage.py seed_demo --if-empty
	@echo "Serving http://127.0.0.1:8000 with a background worker  (Ctrl-C stops both)"
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$${REDIS_URL:-filesystem://localhost/}} $(VENV)/bin/honcho start -f Procfile

test: setup
	DJANGO_SETTINGS_MODULE=config.settings.test $(VENV)/bin/pytest $(PYTEST_ARGS)

# Fails on any finding or any file the formatter would change; `make format` fixes what it can.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

setup: $(STAMP) messages

$(STAMP): pyproject.toml
	@$(PYTHON) -c "import sys; sys.exit(sys.version_info[:2] != (3, 11))" 2>/dev/null || { echo "Python 3.11 is needed: make PYTHON=/path/to/python3.11 ..."; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Compiles locale/*/LC_MESSAGES/django.po with Babel (pure Python: no GNU gettext needed).
messages: $(STAMP)
	$(VENV)/bin/pybabel compile --domain django --directory locale --statistics

# Developers only (needs GNU gettext): refresh the catalogue after adding strings.
messages-extract: $(STAMP)
	$(PY) manage.py makemessages --locale zh_Hans --no-obsolete --ignore ".venv/*" --ignore "bench/*" --ignore "tests/*"

migrate: setup
	$(PY) manage.py migrate --noinput

worker: setup
	$(VENV)/bin/celery -A config worker --loglevel INFO

bench: setup
	$(PY) bench/customer_list.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
