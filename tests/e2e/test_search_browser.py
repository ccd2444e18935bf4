"""Issue 19, acceptance 2, in headless Chromium: a user types a Chinese name fragment into the top
bar's search, sees the results grouped by kind and opens the customer; on a phone (390 px) the box
sits in the folded menu, and neither the menu nor the results page is wider than the screen."""

import pytest

from tests.factories import ContactFactory, CustomerFactory, make_complaint

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

LANGUAGES = ("en", "zh-hans")
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
HEADINGS = {"en": ("Customers", "Contacts", "Complaints"), "zh-hans": ("客户", "联系人", "投诉")}


@pytest.fixture
def book():
    customer = CustomerFactory(code="HZ01", name="杭州西湖茶业有限公司")
    CustomerFactory(code="BJ01", name="北京宏图实业有限公司")  # not found
    ContactFactory(customer=customer, name="王西湖", title="采购经理")
    make_complaint(customer=customer, number="CP0000101", description="西湖龙井到货时包装破损，客户要求更换。" * 2)
    return customer


def wait_for(browser, condition, message):
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    def check(driver):
        try:
            return condition(driver)
        except (NoSuchElementException, StaleElementReferenceException):
            return False  # the next page is still on its way

    WebDriverWait(browser, 10, poll_frequency=0.1).until(check, message=message)


def search_from_the_top_bar(browser, text):
    from selenium.webdriver.common.by import By

    box = browser.find_element(By.ID, "topsearch-q")
    assert box.is_displayed()
    box.send_keys(text)
    browser.find_element(By.CSS_SELECTOR, "form.topsearch button[type=submit]").click()
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".search-group"), "no results shown")


def groups_shown(browser) -> dict[str, list[str]]:
    from selenium.webdriver.common.by import By

    return {
        group.find_element(By.TAG_NAME, "h2").text: [a.text for a in group.find_elements(By.CSS_SELECTOR, "li a")]
        for group in browser.find_elements(By.CSS_SELECTOR, ".search-group")
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_chinese_name_fragment_from_the_top_bar_finds_and_opens_the_customer(
    browser, log_in, live_server, service_user, book, language
):
    from selenium.webdriver.common.by import By

    log_in(service_user, language)
    browser.get(live_server.url + "/complaints/")
    search_from_the_top_bar(browser, "西湖")

    customers, contacts, complaints = HEADINGS[language]
    assert groups_shown(browser) == {
        f"{customers} 1": ["HZ01 杭州西湖茶业有限公司"],
        f"{contacts} 1": ["王西湖"],
        f"{complaints} 1": ["CP0000101 " + ("西湖龙井到货时包装破损，客户要求更换。" * 2)],
    }
    assert browser.find_element(By.ID, "topsearch-q").get_attribute("value") == "西湖"  # kept in the box

    browser.find_element(By.LINK_TEXT, "HZ01 杭州西湖茶业有限公司").click()
    wait_for(browser, lambda d: d.current_url.endswith(book.get_absolute_url()), "the customer did not open")
    assert "杭州西湖茶业有限公司" in browser.find_element(By.TAG_NAME, "h1").text


@pytest.mark.parametrize("language", LANGUAGES)
def test_on_a_phone_the_search_is_in_the_folded_menu_and_nothing_overflows(
    browser, log_in, live_server, make_user, book, language
):
    from selenium.webdriver.common.by import By

    admin = make_user(None, username="root2", is_staff=True, is_superuser=True)  # the longest menu
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    log_in(admin, language)
    browser.get(live_server.url + "/customers/")

    box = browser.find_element(By.ID, "topsearch-q")
    assert not box.is_displayed()  # folded away with the menu
    browser.find_element(By.CSS_SELECTOR, ".topbar .menu-toggle").click()
    assert box.is_displayed()
    right = browser.execute_script(
        "var r = document.querySelector('form.topsearch').getBoundingClientRect(); return r.right;"
    )
    assert right <= 390
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390

    search_from_the_top_bar(browser, "西湖")
    assert len(groups_shown(browser)) == 3
    assert browser.execute_script("return window.innerWidth") == 390
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390  # long results wrap
