"""Bulk reassignment in headless Chromium (issue 19), in English and in Chinese, on a phone (390 px)
and a desktop: an executive filters the customer list by owner, selects every customer matching,
picks the new owner, reads the confirmation and confirms; the list then shows them under their new
owner and a customer's page records the change and who made it. No page is wider than the screen.
The header's tick box ticks the page's rows (static/js/bulk_select.js)."""

import pytest

from crm.models import Customer
from tests.factories import CustomerFactory

from .browsing import click_and_wait, fits, loaded

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

VIEWPORTS = {
    390: {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True},
    1440: {"width": 1440, "height": 900, "deviceScaleFactor": 1, "mobile": False},
}
WORDS = {
    "en": {
        "matching": "3 customers match the list's filter.",
        "moving": "3 customers go to sales2, each with an entry in its history.",
        "confirm": "Reassign 3 customers to sales2",
        "done": "3 customers now belong to sales2.",
        "change": "Owner: sales1 → sales2",
        "ticked": "2 ticked",
    },
    "zh-hans": {
        "matching": "共有 3 位客户符合列表的筛选条件。",
        "moving": "3 位客户将转给 sales2，每位客户的变更历史中都会留有记录。",
        "confirm": "将 3 位客户重新分配给 sales2",
        "done": "3 位客户现归 sales2 负责。",
        "change": "负责人: sales1 → sales2",
        "ticked": "已勾选 2 项",
    },
}


def main_text(browser) -> str:
    from selenium.webdriver.common.by import By

    return " ".join(browser.find_element(By.TAG_NAME, "main").text.split())


@pytest.mark.parametrize("width", [390, 1440])
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_an_executive_reassigns_every_customer_matching_a_filter(
    browser, log_in, live_server, executive_user, sales_user, other_sales_user, language, width
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    words = WORDS[language]
    mine = [CustomerFactory(code=f"E{i}", name=f"华东精密机械 {i}", owner=sales_user) for i in range(3)]
    CustomerFactory(code="KEEP", name="北方物流", owner=other_sales_user)
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", VIEWPORTS[width])
    log_in(executive_user, language)
    browser.get(live_server.url + "/customers/")
    loaded(browser)
    fits(browser, width)

    # the header's box ticks the page, and the bar says how many are ticked
    boxes = browser.find_elements(By.CSS_SELECTOR, "input.bulk-pick")
    assert len(boxes) == 4
    browser.find_element(By.CSS_SELECTOR, "input.bulk-page").click()
    assert all(box.is_selected() for box in browser.find_elements(By.CSS_SELECTOR, "input.bulk-pick"))
    browser.find_element(By.CSS_SELECTOR, "input.bulk-page").click()
    assert not any(box.is_selected() for box in browser.find_elements(By.CSS_SELECTOR, "input.bulk-pick"))
    for box in browser.find_elements(By.CSS_SELECTOR, "input.bulk-pick")[:2]:
        box.click()
    assert browser.find_element(By.CSS_SELECTOR, ".bulk-count").text == words["ticked"]

    # filter by owner, then every customer matching it
    Select(browser.find_element(By.ID, "id_owner")).select_by_visible_text("sales1")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]"))
    assert len(browser.find_elements(By.CSS_SELECTOR, "input.bulk-pick")) == 3
    browser.find_element(By.ID, "bulk-all").click()
    Select(browser.find_element(By.ID, "bulk-to")).select_by_value(str(other_sales_user.pk))
    fits(browser, width)
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form.bulk-bar button[type=submit]"))

    # the confirmation
    text = main_text(browser)
    assert words["matching"] in text and words["moving"] in text
    for customer in mine:
        assert customer.code in text
    assert "KEEP" not in text
    fits(browser, width)
    confirm = browser.find_element(By.CSS_SELECTOR, "form.bulk-execute button[type=submit]")
    assert confirm.text == words["confirm"]
    click_and_wait(browser, confirm)

    # the result: the list of the new owner, and the change on a customer's page
    assert words["done"] in main_text(browser)
    assert {box.get_attribute("value") for box in browser.find_elements(By.CSS_SELECTOR, "input.bulk-pick")} == {
        str(pk) for pk in Customer.objects.filter(owner=other_sales_user).values_list("pk", flat=True)
    }
    assert Customer.objects.filter(owner=other_sales_user).count() == 4
    fits(browser, width)
    browser.get(live_server.url + mine[0].get_absolute_url())
    loaded(browser)
    text = main_text(browser)
    assert words["change"] in text and "exec1" in text
    fits(browser, width)


COMPLAINT_WORDS = {
    "en": {
        "ticked": "2 complaints are ticked.",
        "confirm": "Reassign 2 complaints to service2",
        "done": "2 complaints are now worked by service2.",
    },
    "zh-hans": {
        "ticked": "已勾选 2 件投诉。",
        "confirm": "将 2 件投诉重新分配给 service2",
        "done": "2 件投诉现由 service2 处理。",
    },
}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_service_lead_reassigns_ticked_complaints_on_a_phone(
    browser, log_in, live_server, admin_user_, service_user, make_user, language
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from complaints.models import Complaint
    from crm.roles import Role
    from tests.factories import make_complaint

    words = COMPLAINT_WORDS[language]
    colleague = make_user(Role.SERVICE, username="service2")
    ticked = [make_complaint(number=f"CP-T{i}", assignee=service_user) for i in range(2)]
    make_complaint(number="CP-LEFT", assignee=service_user)
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", VIEWPORTS[390])
    log_in(admin_user_, language)
    browser.get(live_server.url + "/complaints/?tab=open")
    loaded(browser)
    fits(browser, 390)
    for complaint in ticked:
        browser.find_element(By.CSS_SELECTOR, f'input.bulk-pick[value="{complaint.pk}"]').click()
    Select(browser.find_element(By.ID, "bulk-to")).select_by_value(str(colleague.pk))
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form.bulk-bar button[type=submit]"))

    text = main_text(browser)
    assert words["ticked"] in text and "CP-T0" in text and "CP-T1" in text and "CP-LEFT" not in text
    fits(browser, 390)
    confirm = browser.find_element(By.CSS_SELECTOR, "form.bulk-execute button[type=submit]")
    assert confirm.text == words["confirm"]
    click_and_wait(browser, confirm)
    assert words["done"] in main_text(browser)
    fits(browser, 390)
    assert dict(Complaint.objects.values_list("number", "assignee__username")) == {
        "CP-T0": "service2",
        "CP-T1": "service2",
        "CP-LEFT": service_user.username,
    }
