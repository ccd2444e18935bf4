"""Saved views in headless Chromium (issue 19), in English and in Chinese: filter the customer list,
pick its columns and page size, save it under a name, open it again from the picker and find the same
list; on a phone (390 px) the bar, opened, does not widen the page."""

import pytest
from django.utils import translation

from core.models import SavedView
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

LANGUAGES = ["en", "zh-hans"]
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}


def wait_until(browser, condition, seconds=30):
    """Polls `condition` (it may read the database while the live server writes: on SQLite's shared
    in-memory test database "database table is locked" only means "not yet")."""
    from django.db import OperationalError
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, seconds, poll_frequency=0.2, ignored_exceptions=(OperationalError,)).until(condition)


def headers(browser) -> list[str]:
    from selenium.webdriver.common.by import By

    return [th.text.strip() for th in browser.find_elements(By.CSS_SELECTOR, "table.table-customers thead th")]


def row_count(browser) -> int:
    from selenium.webdriver.common.by import By

    return len(browser.find_elements(By.CSS_SELECTOR, "table.table-customers tbody tr"))


def label(name: str, language: str) -> str:
    from crm.models import Customer

    with translation.override(language):
        return str(Customer._meta.get_field(name).verbose_name).capitalize()


@pytest.mark.parametrize("language", LANGUAGES)
def test_save_a_filtered_list_with_its_columns_and_page_size_and_open_it_again(
    browser, log_in, live_server, service_user, language
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    CustomerFactory.create_batch(40, status="active")
    CustomerFactory.create_batch(3, status="churned")
    log_in(service_user, language)
    browser.get(live_server.url + "/customers/")
    assert len(headers(browser)) == 10 and row_count(browser) == 43

    # filter
    Select(browser.find_element(By.ID, "id_status")).select_by_value("active")
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    wait_until(browser, lambda d: "status=active" in d.current_url)
    assert row_count(browser) == 40

    # columns and page size
    browser.find_element(By.CSS_SELECTOR, ".list-views-columns summary").click()
    for box in browser.find_elements(By.CSS_SELECTOR, ".list-views-columns input[name=cols]"):
        if box.is_selected() != (box.get_attribute("value") in {"region", "status"}):
            box.click()
    Select(browser.find_element(By.ID, "list-per-page")).select_by_value("25")
    browser.find_element(By.CSS_SELECTOR, ".list-views-columns button[type=submit]").click()
    wait_until(browser, lambda d: "per_page=25" in d.current_url)
    chosen = [label("code", language), label("region", language), label("status", language)]
    assert headers(browser) == chosen
    assert row_count(browser) == 25

    # save under a name
    browser.find_element(By.CSS_SELECTOR, ".list-views-save summary").click()
    browser.find_element(By.ID, "save-view-name").send_keys("活跃客户" if language == "zh-hans" else "Active ones")
    browser.find_element(By.CSS_SELECTOR, ".list-views-save button.primary").click()
    wait_until(browser, lambda d: "view=" in d.current_url)
    view = SavedView.objects.get(user=service_user)
    assert (view.list_key, view.query, view.columns) == (
        "crm.customers",
        "status=active&per_page=25",
        ["region", "status"],
    )
    saved = "视图“活跃客户”已保存。" if language == "zh-hans" else "View “Active ones” saved."
    assert saved in browser.find_element(By.CSS_SELECTOR, ".messages").text

    # back to the plain list, then open the view from the picker
    browser.get(live_server.url + "/customers/")
    assert len(headers(browser)) == 10
    Select(browser.find_element(By.ID, "list-view-pick")).select_by_value(str(view.pk))
    browser.find_element(By.CSS_SELECTOR, ".list-views-open button[type=submit]").click()
    wait_until(browser, lambda d: f"view={view.pk}" in d.current_url)
    assert headers(browser) == chosen and row_count(browser) == 25
    assert Select(browser.find_element(By.ID, "id_status")).first_selected_option.get_attribute("value") == "active"
    assert Select(browser.find_element(By.ID, "list-per-page")).first_selected_option.get_attribute("value") == "25"
    assert Select(browser.find_element(By.ID, "list-view-pick")).first_selected_option.get_attribute("value") == str(
        view.pk
    )
    # the next page keeps it all
    browser.find_element(By.CSS_SELECTOR, ".pagination li.next a").click()
    wait_until(browser, lambda d: "&page=2" in d.current_url)
    assert headers(browser) == chosen and row_count(browser) == 15


@pytest.mark.parametrize("language", LANGUAGES)
def test_on_a_phone_the_opened_bar_does_not_widen_the_page(browser, log_in, live_server, service_user, language):
    from selenium.webdriver.common.by import By

    CustomerFactory.create_batch(3)
    SavedView.objects.create(
        user=service_user, list_key="crm.customers", name="一个很长的视图名称" * 4, query="status=active"
    )
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    log_in(service_user, language)
    browser.get(live_server.url + "/customers/")
    for summary in browser.find_elements(By.CSS_SELECTOR, ".list-views summary"):
        summary.click()
    widths = browser.execute_script(
        "return {page: document.documentElement.scrollWidth, inner: window.innerWidth,"
        " bar: document.querySelector('.list-views').scrollWidth};"
    )
    assert widths["inner"] == 390 and widths["page"] <= 390 and widths["bar"] <= 390
