"""Headless Chromium for the browser tests: Debian's chromium and chromedriver, through selenium.

Two sets of fixtures:
- `browser`, `log_in` (and pytest-django's `live_server`): one browser per test, the test's own data.
- `module_browser`, `site`, `sign_in`: one browser, one data set (tests/pages.py) and one live server
  for a whole module, for the checks that sweep every page (tests/e2e/test_every_page.py). The data
  is written once, committed, and the database is put back as the migrations left it afterwards.
"""

import pytest
from django.conf import settings

ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1400,1100",
)


def chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ARGS:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the console, for tests that read it
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(60)
    return driver


@pytest.fixture
def browser():
    driver = chromium()
    yield driver
    driver.quit()


@pytest.fixture
def log_in(browser, client, live_server):
    """Logs `user` in for the browser (the test client's session cookie) in `language`."""

    def log_in(user, language="en"):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        browser.get(live_server.url + "/healthz")
        browser.add_cookie(
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "path": "/",
            }
        )
        browser.add_cookie({"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "path": "/"})

    return log_in


# One browser, one data set, one live server per module -----------------------------------------


def _put_back(connection, contents):
    """Empties the database and loads `contents` again. flush restarts every sequence at 1 and the
    rows come back with their own ids, so on PostgreSQL the sequences are set past them again: else
    the next row a later test writes (a cost model, say) would take id 1 a second time."""
    from django.apps import apps
    from django.core.management import call_command
    from django.core.management.color import no_style

    call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0, database=connection.alias)
    connection.creation.deserialize_db_from_string(contents)
    statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models(include_auto_created=True))
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _as_migrated(connection):
    """Puts the database back as the migrations left it (the groups and permissions of the data
    migrations included) and returns that state, serialized, to put back again later."""
    from django.contrib.auth.models import Group

    name = str(connection.settings_dict["NAME"])
    assert connection.is_in_memory_db() if connection.vendor == "sqlite" else name.startswith("test"), (
        f"not a test database: {name} (mark the module's tests with django_db so that pytest-django makes one)"
    )
    contents = getattr(connection, "_test_serialized_contents", None)  # kept by pytest-django for serialized_rollback
    if contents is not None:
        _put_back(connection, contents)
    else:
        contents = connection.creation.serialize_db_to_string()
    assert Group.objects.exists(), "the database has lost the data migrations' groups: run with the other e2e tests"
    return contents


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    """tests/pages.py's data set, committed, a session for each of its users (`data.sessions`, by
    role) and a live server of our own, shared by the module's tests.

    pytest-django's `live_server` fixture would give each test a transactional database, flushed
    after every test, so the data set would have to be written again for each one. Here the data
    is committed before the first test; the tests themselves use `django_db` (each in a transaction
    rolled back after it, which also makes pytest-django create the test database). Afterwards the
    database is put back as the migrations left it."""
    from django.db import connection
    from django.test import Client
    from pytest_django.live_server_helper import LiveServer

    from tests.pages import build_dataset

    with django_db_blocker.unblock():
        migrated = _as_migrated(connection)
        server = None
        try:
            data = build_dataset()
            data.sessions = {}
            for role, user in data.users().items():
                client = Client()
                client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
                data.sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
            server = LiveServer("localhost")
            server._live_server_modified_settings.enable()
            data.url = server.url
            yield data
        finally:
            if server is not None:
                server._live_server_modified_settings.disable()
                server.stop()
            _put_back(connection, migrated)


@pytest.fixture(scope="module")
def module_browser(site):
    """The module's browser. It needs `site` so that it closes first: its open connections end
    while the live server still runs (a request thread that outlived the server would close the
    shared in-memory SQLite connection from the wrong thread)."""
    driver = chromium()
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def sign_in(module_browser, site):
    """Signs the module's browser in as `role` ("sales", "service", "executive", "admin") in
    `language`, with the session `site` made for that role (the login page is tested elsewhere)."""

    def sign_in(role, language="en"):
        module_browser.get(site.url + "/healthz")
        module_browser.delete_all_cookies()
        module_browser.add_cookie({"name": settings.SESSION_COOKIE_NAME, "value": site.sessions[role], "path": "/"})
        module_browser.add_cookie({"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "path": "/"})

    return sign_in
