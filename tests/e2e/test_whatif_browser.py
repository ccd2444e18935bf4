"""What-if previews in headless Chromium (issue 17): Preview beside Save posts the draft, the page
shows the job's progress bar until the worker is done, then the customers the draft would move, the
draft still in its form; Save then keeps it. The book is tests/analytics/test_whatif.py's."""

import pytest

from analytics.models import ScoringModel, WhatIf
from analytics.services import whatif
from tests.analytics.test_whatif import EXPECTED_MOVES, MARGIN_RAISED, book  # noqa: F401 - `book`: the fixture

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def wait_until(browser, condition, seconds=30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, seconds, poll_frequency=0.1).until(condition)


def severe(browser) -> list:
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


@pytest.mark.parametrize("width", [390, 1440])
def test_preview_then_save(browser, log_in, live_server, executive_user, book, width):  # noqa: F811
    from selenium.webdriver.common.by import By

    browser.set_window_size(width, 900)
    log_in(executive_user)
    browser.get(live_server.url + "/analytics/settings/")
    margin = browser.find_element(By.ID, "id_margin")
    margin.clear()
    margin.send_keys("90")
    form = margin.find_element(By.XPATH, "./ancestor::form")
    form.find_element(By.CSS_SELECTOR, "button[formaction]").click()  # Preview (tasks run in-process here)
    section = wait_until(browser, lambda d: d.find_element(By.ID, "preview"))
    assert browser.current_url.endswith(f"/analytics/settings/preview/{WhatIf.objects.get().pk}/")
    rows = section.find_elements(By.CSS_SELECTOR, "table:not(.tier-matrix) tbody tr")
    assert [row.find_element(By.CSS_SELECTOR, "td").text for row in rows] == list(EXPECTED_MOVES)
    assert section.find_element(By.CSS_SELECTOR, ".kpi strong").text == "4"
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    assert ScoringModel.objects.latest().weights != MARGIN_RAISED  # nothing saved yet

    # the draft is still in its form: Save keeps it
    margin = browser.find_element(By.ID, "id_margin")
    assert margin.get_attribute("value") == "90"
    margin.find_element(By.XPATH, "./ancestor::form").find_element(By.CSS_SELECTOR, "button.primary").click()
    wait_until(browser, lambda d: d.current_url.endswith("/analytics/settings/"))
    assert ScoringModel.objects.latest().weights == MARGIN_RAISED
    assert severe(browser) == []


def test_the_bar_moves_and_the_preview_shows_when_done(browser, log_in, live_server, executive_user, book):  # noqa: F811
    from selenium.webdriver.common.by import By

    job = WhatIf.objects.create(which="scoring", draft=MARGIN_RAISED, run=book, requested_by=executive_user)
    log_in(executive_user, "zh-hans")
    browser.get(live_server.url + f"/analytics/settings/preview/{job.pk}/")
    bar = browser.find_element(By.CSS_SELECTOR, ".job-progress")
    assert bar.get_attribute("data-status-url") == f"/jobs/whatif/{job.pk}/status.json"
    assert not browser.find_elements(By.CSS_SELECTOR, "#preview .kpi")

    whatif.whatif_compute(whatif_id=job.pk)  # the worker
    kpi = wait_until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#preview .kpi strong"))
    assert kpi[0].text == "4" and "等级变化的客户" in browser.find_element(By.ID, "preview").text
    assert not browser.find_elements(By.CSS_SELECTOR, ".job-progress")
    assert severe(browser) == []
