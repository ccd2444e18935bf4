"""Contacts in headless Chromium (issue 19), in English and in Chinese, on a phone (390 px) and a
desktop: the owning sales rep adds a contact from the customer page, edits it, retires it (through
the confirmation page) and brings it back; the history says who did what; no page is wider than the
screen. A service rep then reads the contacts and their history, with no action offered."""

import pytest

from crm.models import Contact
from tests.factories import CustomerFactory

from .browsing import click_and_wait, fits, loaded, wait

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

VIEWPORTS = {
    390: {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True},
    1440: {"width": 1440, "height": 900, "deviceScaleFactor": 1, "mobile": False},
}
WORDS = {
    "en": {
        "add": "Add a contact",
        "submit_new": "Add contact",
        "edit": "Edit",
        "retire": "Retire",
        "retire_button": "Retire contact",
        "restore": "Restore",
        "retired": "Retired contacts",
        "added": "Added by sales1 on",
        "edited": "Edited by sales1 on",
        "retired_by": "Retired by sales1 on",
        "restored": "Restored by sales1 on",
        "title_change": "Title: 采购经理 → 采购总监",
        "empty": "No contacts yet. Add the people you deal with at this customer",
    },
    "zh-hans": {
        "add": "添加联系人",
        "submit_new": "添加",
        "edit": "编辑",
        "retire": "停用",
        "retire_button": "停用联系人",
        "restore": "恢复",
        "retired": "已停用的联系人",
        "added": "由 sales1 添加于",
        "edited": "由 sales1 编辑于",
        "retired_by": "由 sales1 停用于",
        "restored": "由 sales1 恢复于",
        "title_change": "职务: 采购经理 → 采购总监",
        "empty": "还没有联系人。请添加您在该客户对接的人",
    },
}


def contacts_block(browser):
    from selenium.webdriver.common.by import By

    return browser.find_element(By.ID, "contacts")


def link(browser, text, within=None):
    from selenium.webdriver.common.by import By

    return (within or browser).find_element(By.XPATH, f".//a[normalize-space()='{text}']")


def button(browser, text, within=None):
    from selenium.webdriver.common.by import By

    return (within or browser).find_element(By.XPATH, f".//button[normalize-space()='{text}']")


@pytest.mark.parametrize("width", [390, 1440])
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_sales_rep_adds_edits_retires_and_restores_a_contact(
    browser, log_in, live_server, sales_user, service_user, language, width
):
    from selenium.webdriver.common.by import By

    words = WORDS[language]
    customer = CustomerFactory(code="MINE", name="华东精密机械", owner=sales_user)
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", VIEWPORTS[width])
    log_in(sales_user, language)
    browser.get(live_server.url + customer.get_absolute_url())
    loaded(browser)
    assert words["empty"] in contacts_block(browser).text
    fits(browser, width)

    # add
    click_and_wait(browser, link(browser, words["add"], contacts_block(browser)))
    fits(browser, width)
    browser.find_element(By.NAME, "name").send_keys("王经理")
    browser.find_element(By.NAME, "title").send_keys("采购经理")
    browser.find_element(By.NAME, "email").send_keys("wang@")  # a mistake first: the page says what is wrong
    browser.find_element(By.NAME, "phone").send_keys("+86 21 5555 0101")
    click_and_wait(browser, button(browser, words["submit_new"]))
    errors = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".field .error")]
    assert errors == [
        "请输入电子邮件地址，例如 name@company.com。"
        if language == "zh-hans"
        else "Enter an e-mail address such as name@company.com."
    ]
    fits(browser, width)
    email = browser.find_element(By.NAME, "email")
    assert email.get_attribute("value") == "wang@"  # what was typed comes back
    email.clear()
    email.send_keys("wang@huadong.example")
    click_and_wait(browser, button(browser, words["submit_new"]))
    contact = Contact.objects.get(customer=customer)
    assert (contact.name, contact.email) == ("王经理", "wang@huadong.example")
    block = contacts_block(browser)
    assert "王经理" in block.text and "wang@huadong.example" in block.text and words["added"] in block.text
    fits(browser, width)

    # edit
    click_and_wait(browser, link(browser, words["edit"], block))
    title = browser.find_element(By.NAME, "title")
    title.clear()
    title.send_keys("采购总监")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form.stacked button[type=submit]"))
    block = contacts_block(browser)
    assert "采购总监" in block.text and words["edited"] in block.text
    block.find_element(By.CSS_SELECTOR, "details.contact-history summary").click()  # the history opens
    wait(browser, lambda d: words["title_change"] in contacts_block(d).text)
    fits(browser, width)

    # retire, through the confirmation
    click_and_wait(browser, link(browser, words["retire"], contacts_block(browser)))
    fits(browser, width)
    click_and_wait(browser, button(browser, words["retire_button"]))
    block = contacts_block(browser)
    assert words["retired"] in block.text and words["retired_by"] in block.text
    struck = block.find_element(By.CSS_SELECTOR, ".retired-contacts s")
    assert struck.text == "王经理"
    assert block.find_elements(By.CSS_SELECTOR, "table") == []  # no current contact left
    contact.refresh_from_db()
    assert contact.retired_at is not None
    fits(browser, width)

    # a service rep reads it, with no action offered
    log_in(service_user, language)
    browser.get(live_server.url + customer.get_absolute_url())
    loaded(browser)
    block = contacts_block(browser)
    assert "王经理" in block.text and words["retired_by"] in block.text
    assert block.find_elements(By.CSS_SELECTOR, "a[href*='/contacts/'], form") == []

    # restore
    log_in(sales_user, language)
    browser.get(live_server.url + customer.get_absolute_url())
    loaded(browser)
    click_and_wait(browser, button(browser, words["restore"], contacts_block(browser)))
    block = contacts_block(browser)
    assert words["restored"] in block.text and block.find_elements(By.CSS_SELECTOR, ".retired-contacts") == []
    contact.refresh_from_db()
    assert contact.retired_at is None
    assert [r.history_type for r in contact.history.order_by("history_id")] == ["+", "~", "~", "~"]
    fits(browser, width)
