"""Shared fixtures, and the rules that keep CI honest: nothing skips silently."""

import os
import shutil

import pytest
from django.conf import settings
from django.contrib.auth.models import Group

from crm.roles import Role

from .factories import CustomerFactory, UserFactory
from .smtp import smtp  # noqa: F401 - the SMTP server fixture, for every test that reads sent mail

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
HAS_BROKER = bool(os.environ.get("REDIS_URL"))
# Browser tests need Debian's chromium and chromedriver; CI installs them (.ci/run), so there they always run.
HAS_BROWSER = bool(os.environ.get("CI")) or bool(shutil.which("chromium") and shutil.which("chromedriver"))


def pytest_collection_modifyitems(config, items):
    """Tests that need a service this run lacks are deselected (and said so), never skipped."""
    keep, dropped, no_browser = [], [], []
    for item in items:
        if (item.get_closest_marker("needs_broker") and not HAS_BROKER) or (
            item.get_closest_marker("postgres") and not ON_POSTGRES
        ):
            dropped.append(item)
        elif item.get_closest_marker("e2e") and not HAS_BROWSER:
            no_browser.append(item)
        else:
            keep.append(item)
    if not (dropped or no_browser):
        return
    config.hook.pytest_deselected(items=dropped + no_browser)
    items[:] = keep
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter and dropped:
        reporter.write_line(
            f"{len(dropped)} test(s) need PostgreSQL or Redis and run in CI's second run (DATABASE_URL, REDIS_URL)."
        )
    if reporter and no_browser:
        reporter.write_line(
            f"{len(no_browser)} browser test(s) need chromium and chromedriver "
            "(apt-get install chromium chromium-driver); CI installs them and runs them."
        )


def pytest_sessionfinish(session, exitstatus):
    """With CI set, a skipped test fails the run."""
    if not os.environ.get("CI"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped:
        reporter.write_line(f"CI is set and {skipped} test(s) were skipped: failing the run.", red=True)
        session.exitstatus = 1


@pytest.fixture
def make_user(db):
    def make(role: Role | None = None, **kwargs):
        user = UserFactory(**kwargs)
        if role is not None:
            user.groups.add(Group.objects.get(name=role.value))
        return user

    return make


@pytest.fixture
def sales_user(make_user):
    return make_user(Role.SALES, username="sales1")


@pytest.fixture
def other_sales_user(make_user):
    return make_user(Role.SALES, username="sales2")


@pytest.fixture
def service_user(make_user):
    return make_user(Role.SERVICE, username="service1")


@pytest.fixture
def executive_user(make_user):
    return make_user(Role.EXECUTIVE, username="exec1")


@pytest.fixture
def admin_user_(make_user):
    return make_user(None, username="root1", is_staff=True, is_superuser=True)


@pytest.fixture
def owned_customer(sales_user):
    return CustomerFactory(owner=sales_user)


@pytest.fixture(autouse=True)
def english_by_default():
    """A request in Chinese leaves zh-hans active in the thread; each test starts in English."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: what one test cached (an unread count, a portfolio, a
    chart) never answers for the next, whose rows may reuse the same ids (SQLite) or not (PostgreSQL)."""
    from django.core.cache import cache

    cache.clear()
