"""A customer's timeline in headless Chromium (issue 19), in English and in Chinese, on a phone
(390 px) and a desktop: the timeline page and the customer page (its ten newest entries) are never
wider than the screen, keep a clean console, show no English on a Chinese page and no raw code, and
axe finds no serious violation (the checks of test_every_page.py, on these two pages for the roles
that see them differently); a sales rep filters the timeline to one kind with its checkbox."""

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.test_every_page import VIEWPORTS, Sweep

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

FILTER = {"en": ("Interactions", "Filter"), "zh-hans": ("客户互动", "筛选")}


@pytest.fixture(scope="module")
def checks(module_browser, site, sign_in):
    return Sweep(module_browser, site, sign_in)


@pytest.mark.parametrize("width", [390, 1440])
@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("role", ["sales", "service"])
def test_timeline_and_customer_page_read_well(module_browser, site, sign_in, checks, role, language, width):
    module_browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", VIEWPORTS[width])
    sign_in(role, language)
    module_browser.get_log("browser")
    customer = site.customer
    for url in (f"/customers/{customer.pk}/timeline/", customer.get_absolute_url()):
        visit = checks.visit(url, language, width, axe=True)
        assert (visit.overflow, visit.console, visit.english, visit.codes, visit.axe) == ([], [], [], [], []), url
        entries = module_browser.find_elements("css selector", "#timeline .timeline-entry")
        assert entries, url  # the data set's customer has a timeline
        kinds = {entry.get_attribute("class").split("kind-")[1] for entry in entries}
        if role == "service":
            assert not kinds & {"order", "invoice"}, url


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_checkbox_filters_the_timeline_to_its_kind(module_browser, site, sign_in, language):
    module_browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", VIEWPORTS[390])
    sign_in("sales", language)
    module_browser.get(f"{site.url}/customers/{site.customer.pk}/timeline/")
    label, button = FILTER[language]
    box = module_browser.find_element("xpath", f"//label[normalize-space()='{label}']/input[@name='kind']")
    box.click()
    module_browser.find_element("xpath", f"//form[contains(@class,'timeline-filter')]//button[.='{button}']").click()
    WebDriverWait(module_browser, 10).until(lambda d: "kind=interaction" in d.current_url)
    entries = module_browser.find_elements("css selector", "#timeline .timeline-entry")
    assert entries
    assert {entry.get_attribute("class") for entry in entries} == {"timeline-entry kind-interaction"}
    assert module_browser.find_element("css selector", "input[value='interaction']").is_selected()
