"""The web import in headless Chromium (Debian's chromium and chromedriver, through selenium, as
the other browser tests): upload a file, read the check, confirm, watch the progress bar, read
the report. The import task is held back after confirming so the progress bar is seen polling;
the test then runs it, and the page reloads itself into the report."""

import datetime
from decimal import Decimal

import pytest

from crm.models import Order
from exchange import tasks
from exchange.models import ImportJob
from exchange.services import import_job_run
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ORDERS = (
    "number,customer,ordered_on,revenue,cost\n"
    "SO-1,K1,2026-01-05,100.00,60.00\n"
    "SO-2,K1,2026-02-05,20.50,5.00\n"
    "SO-3,K2,2026-02-06,7.25,1.00\n"
)


def wait_until(browser, condition, seconds=60):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, seconds, poll_frequency=0.2).until(condition)


def test_upload_preview_confirm_progress_report(
    browser, log_in, live_server, executive_user, tmp_path, monkeypatch, settings
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    settings.MEDIA_ROOT = str(tmp_path / "media")
    CustomerFactory(code="K1"), CustomerFactory(code="K2")
    held = []
    monkeypatch.setattr(tasks.run_import, "delay", lambda job_id: held.append(job_id))
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS, encoding="utf-8")
    log_in(executive_user)

    # upload
    browser.get(live_server.url + "/imports/")
    assert browser.find_element(By.CSS_SELECTOR, "a[href='/imports/templates/orders.xlsx']")
    Select(browser.find_element(By.NAME, "kind")).select_by_value("orders")
    browser.find_element(By.NAME, "file").send_keys(str(path))
    browser.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()

    # the check (dry run) shows what would happen; nothing is written yet
    preview = wait_until(browser, lambda d: d.find_element(By.ID, "import-preview"))
    assert "3 rows are fine: 3 new, 0 updated, 0 unchanged." in preview.text
    assert Order.objects.count() == 0

    # confirm: queued, the progress bar polls
    browser.find_element(By.ID, "confirm-import").click()
    bar = wait_until(browser, lambda d: d.find_element(By.CSS_SELECTOR, ".run-progress progress"))
    assert bar.get_attribute("value") == "0"
    assert "Queued" in browser.find_element(By.CSS_SELECTOR, ".run-progress-label").text
    job = ImportJob.objects.get()
    assert held == [job.pk] and job.status == ImportJob.Status.QUEUED

    # the worker runs it; the page notices, reloads and shows the kept report
    import_job_run(job_id=job.pk)
    report = wait_until(browser, lambda d: d.find_element(By.ID, "import-report"))
    assert "3 rows imported: 3 new, 0 updated, 0 unchanged." in report.text
    assert "Monthly order totals were recomputed for 3 customer-months." in report.text
    assert browser.find_element(By.ID, "job-status").text == "Imported"
    assert list(Order.objects.order_by("number").values_list("number", "revenue", "ordered_on")) == [
        ("SO-1", Decimal("100.00"), datetime.date(2026, 1, 5)),
        ("SO-2", Decimal("20.50"), datetime.date(2026, 2, 5)),
        ("SO-3", Decimal("7.25"), datetime.date(2026, 2, 6)),
    ]

    # the report stays: it is listed and opens again later
    browser.get(live_server.url + "/imports/")
    browser.find_element(By.LINK_TEXT, "orders.csv").click()
    assert "3 rows imported" in wait_until(browser, lambda d: d.find_element(By.ID, "import-report")).text


def test_bad_file_shows_its_rows_and_no_confirm_button(
    browser, log_in, live_server, executive_user, tmp_path, settings
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    settings.MEDIA_ROOT = str(tmp_path / "media")
    CustomerFactory(code="K1")
    path = tmp_path / "bad.csv"
    path.write_text(
        "number,customer,ordered_on,revenue,cost\nSO-1,K1,2026-01-05,100.00,60.00\nSO-2,K9,2026-01-32,1,1\n"
    )
    log_in(executive_user)

    browser.get(live_server.url + "/imports/")
    Select(browser.find_element(By.NAME, "kind")).select_by_value("orders")
    browser.find_element(By.NAME, "file").send_keys(str(path))
    browser.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()

    preview = wait_until(browser, lambda d: d.find_element(By.ID, "import-preview"))
    rows = [row.text for row in preview.find_elements(By.CSS_SELECTOR, "table.problems tbody tr")]
    assert rows == ["3 customer K9 Unknown customer code.", "3 ordered_on 2026-01-32 Not a date: write YYYY-MM-DD."]
    assert not browser.find_elements(By.ID, "confirm-import")
    assert Order.objects.count() == 0
