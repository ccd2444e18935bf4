"""Issue 19, acceptance 2: as a sales rep, create a follow-up from a neglected-account alert on the
portfolio, find it on My tasks, snooze it, then complete it; in English and Chinese; My tasks fits a
phone (390 px, mobile emulation)."""

import datetime

import pytest
from django.utils import timezone, translation
from django.utils.formats import date_format

from tasks.models import Source, State, Task
from tasks.services import task_create
from tests.analytics.test_portfolio import book, run  # noqa: F401 - the fixtures: S1 is sales1's neglected A account

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
TEXTS = {
    "en": {
        "snoozed": "1 follow-up snoozed until {until}.",
        "completed": "1 follow-up completed.",
        "created": "Follow-up on Sunrise Foods created, due {due}.",
        "due": "Due {due}",
    },
    "zh-hans": {
        "snoozed": "已将 1 项跟进推迟到 {until}。",
        "completed": "已完成 1 项跟进。",
        "created": "已为 Sunrise Foods 创建跟进，{due} 到期。",
        "due": "{due} 到期",
    },
}


def wait_until(browser, condition, seconds=30):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # A click's page may still be loading: an element read from the page before is then stale.
    return WebDriverWait(
        browser, seconds, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)
    ).until(condition)


def wait_for_message(browser, text):
    """Until the page a click led to shows `text` among its messages (not the page before's)."""
    wait_until(browser, lambda d: text in messages(d))


def messages(browser) -> list[str]:
    """The page's messages, read in one script (no element to go stale while a page replaces another)."""
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('.messages li'), item => item.textContent.trim());"
    )


def severe(browser) -> list:
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_follow_up_from_an_alert_snoozed_then_completed(browser, log_in, live_server, sales_user, run, book, language):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    texts = TEXTS[language]
    today = timezone.localdate()
    tomorrow = today + datetime.timedelta(days=1)
    with translation.override(language):
        shown = {"today": date_format(today), "tomorrow": date_format(tomorrow)}
    log_in(sales_user, language)
    browser.get(live_server.url + "/analytics/portfolio/")
    create = browser.find_element(By.CSS_SELECTOR, "a.button[href*='source=neglected']")
    row = create.find_element(By.XPATH, "./ancestor::tr")
    assert "S1 Sunrise Foods" in row.text
    create.click()

    # the form comes filled in: me, today, what the alert asks
    form = wait_until(browser, lambda d: d.find_element(By.ID, "task-form"))
    assert Select(form.find_element(By.ID, "id_assignee")).first_selected_option.get_attribute("value") == str(
        sales_user.pk
    )
    assert form.find_element(By.ID, "id_due_on").get_attribute("value") == today.isoformat()
    assert form.find_element(By.ID, "id_note").get_attribute("value")
    form.find_element(By.CSS_SELECTOR, "button.primary").click()

    # back on the portfolio: the alert's row now names the follow-up instead of offering another
    wait_for_message(browser, texts["created"].format(due=shown["today"]))
    assert browser.current_url.endswith("/analytics/portfolio/")
    assert messages(browser) == [texts["created"].format(due=shown["today"])]
    task = Task.objects.get()
    assert (task.customer, task.source, task.assignee, task.state) == (
        book["S1"],
        Source.NEGLECTED,
        sales_user,
        State.OPEN,
    )
    row = browser.find_element(By.CSS_SELECTOR, f"a[href$='?task={task.pk}']").find_element(By.XPATH, "./ancestor::tr")
    assert "S1 Sunrise Foods" in row.text and texts["due"].format(due=shown["today"]) in row.text
    assert not browser.find_elements(By.CSS_SELECTOR, "a.button[href*='source=neglected']")

    # My tasks: to do today; snooze it until tomorrow
    browser.get(live_server.url + "/tasks/")
    todo = browser.find_element(By.ID, "to-do")
    assert "S1 Sunrise Foods" in todo.text
    todo.find_element(By.CSS_SELECTOR, f"input[name=task][value='{task.pk}']").click()
    Select(browser.find_element(By.ID, "bulk-preset")).select_by_value("tomorrow")
    browser.find_element(By.CSS_SELECTOR, "button[value=snooze]").click()
    wait_for_message(browser, texts["snoozed"].format(until=shown["tomorrow"]))
    assert messages(browser) == [texts["snoozed"].format(until=shown["tomorrow"])]
    task.refresh_from_db()
    assert (task.state, task.snoozed_until) == (State.SNOOZED, tomorrow)
    snoozed = browser.find_element(By.ID, "snoozed")
    assert "S1 Sunrise Foods" in snoozed.text and shown["tomorrow"] in snoozed.text
    assert "S1 Sunrise Foods" not in browser.find_element(By.ID, "to-do").text

    # then complete it from the snoozed list
    snoozed.find_element(By.CSS_SELECTOR, f"input[name=task][value='{task.pk}']").click()
    browser.find_element(By.CSS_SELECTOR, "button[value=complete]").click()
    wait_for_message(browser, texts["completed"])
    task.refresh_from_db()
    assert (task.state, task.completed_by) == (State.DONE, sales_user)
    assert "S1 Sunrise Foods" not in browser.find_element(By.ID, "main").text.split(texts["completed"])[-1]
    assert severe(browser) == []


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_my_tasks_fits_a_phone(browser, log_in, live_server, sales_user, book, language):  # noqa: F811
    from selenium.webdriver.common.by import By

    today = timezone.localdate()
    for n, code in enumerate(("S1", "S2", "S3", "S4")):
        task_create(
            customer=book[code],
            assignee=sales_user,
            due_on=today + datetime.timedelta(days=n - 2),
            note="回访客户，确认第二季度的订货计划与交货时间安排" * 2,
        )
    Task.objects.filter(customer=book["S4"]).update(
        state=State.SNOOZED, snoozed_until=today + datetime.timedelta(days=5)
    )
    log_in(sales_user, language)
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    try:
        browser.get(live_server.url + "/tasks/")
        assert len(browser.find_elements(By.CSS_SELECTOR, "#to-do input[name=task]")) == 3
        assert len(browser.find_elements(By.CSS_SELECTOR, "#snoozed input[name=task]")) == 1
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert browser.execute_script("return window.innerWidth") == 390
        assert width <= 390, f"My tasks is {width} px wide on a 390 px screen"
        assert browser.find_element(By.CSS_SELECTOR, "button[value=snooze]").is_displayed()
        # the header's box ticks every follow-up of its list (tasks.js), and only of its list
        browser.find_element(By.CSS_SELECTOR, "#to-do input[data-check-all]").click()
        ticked = [box.is_selected() for box in browser.find_elements(By.CSS_SELECTOR, "input[name=task]")]
        assert ticked == [True, True, True, False]
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert severe(browser) == []
