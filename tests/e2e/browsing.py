"""Waiting and measuring in the browser tests: the helpers several of them share."""

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def wait(browser, condition, seconds=30):
    return WebDriverWait(browser, seconds, poll_frequency=0.1).until(condition)


def loaded(browser):
    wait(browser, lambda d: d.execute_script("return document.readyState") == "complete")


def replaced(page):
    """A wait condition: `page` (the old <html>) has left the document. Chromium says so either as a
    stale element or, when it asks just as the new page arrives, as "Node with given id does not
    belong to the document", which selenium's staleness_of does not take for an answer."""

    def gone(_driver):
        try:
            page.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if "does not belong to the document" in str(error):
                return True
            raise
        return False

    return gone


def click_and_wait(browser, element):
    """Clicks a link or button that leads to another page and waits for that page."""
    page = browser.find_element(By.TAG_NAME, "html")
    element.click()
    wait(browser, replaced(page))
    loaded(browser)


def fits(browser, width):
    scroll = browser.execute_script("return document.documentElement.scrollWidth")
    assert scroll <= width, f"{browser.current_url}: {scroll} px wide on a {width} px screen"
