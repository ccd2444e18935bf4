"""The one progress bar of jobs in headless Chromium, on the analytics pages (the import page's is in
test_import_flow.py): it polls /jobs/run/<pk>/status.json, the page shows the result when the run
is done, and a run given up because its worker stopped says so in the reader's language."""

import datetime
from decimal import Decimal

import pytest

from analytics.models import AnalysisRun
from analytics.services import runs
from core import jobs
from tests.factories import CustomerFactory, OrderFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def wait_until(browser, condition, seconds=30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, seconds, poll_frequency=0.1).until(condition)


def a_queued_run() -> AnalysisRun:
    OrderFactory(
        customer=CustomerFactory(code="K1"),
        ordered_on=datetime.date.today() - datetime.timedelta(days=10),
        revenue=Decimal("100.00"),
        cost=Decimal("60.00"),
    )
    run, created = runs.run_request(trigger=AnalysisRun.Trigger.MANUAL, enqueue=False)
    assert created
    return run


@pytest.mark.parametrize("page", ["/analytics/", "/analytics/runs/"])
def test_the_bar_polls_and_the_page_shows_the_published_run_when_done(
    browser, log_in, live_server, executive_user, page
):
    from selenium.webdriver.common.by import By

    run = a_queued_run()
    log_in(executive_user)
    browser.get(live_server.url + page)
    bar = browser.find_element(By.CSS_SELECTOR, ".job-progress")
    assert bar.get_attribute("data-status-url") == f"/jobs/run/{run.pk}/status.json"
    assert "Queued · 0%" in browser.find_element(By.CSS_SELECTOR, ".run-progress-label").text

    runs.run_compute(run_id=run.pk)
    runbar = wait_until(
        browser,
        lambda d: not d.find_elements(By.CSS_SELECTOR, ".job-progress") and d.find_element(By.ID, "run-status"),
    )
    assert "The figures shown everywhere are for the 12 months to" in runbar.text
    assert not browser.find_element(By.CSS_SELECTOR, "#run-status button[type=submit]").get_attribute("disabled")
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []


def test_a_run_whose_worker_stopped_says_so_in_the_readers_language(browser, log_in, live_server, executive_user):
    from selenium.webdriver.common.by import By

    run = a_queued_run()
    log_in(executive_user, "zh-hans")
    browser.get(live_server.url + "/analytics/runs/")
    label = browser.find_element(By.CSS_SELECTOR, ".run-progress-label")
    runs.run_fail(run=run, error=jobs.WORKER_STOPPED)
    wait_until(browser, lambda d: "工作进程已停止" in label.text)
    # then the page reloads without the bar, Recompute free again
    wait_until(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, ".job-progress"))
    assert not browser.find_element(By.CSS_SELECTOR, "#run-status button[type=submit]").get_attribute("disabled")
