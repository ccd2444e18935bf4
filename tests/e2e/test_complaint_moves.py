"""Issue 14 in headless Chromium: Reject asks first (static/js/confirm.js), in the page's language,
and looks apart from Acknowledge; "Customer notified at" is filled with now, which the move accepts."""

import pytest

from complaints.models import Complaint, State
from complaints.workflow import complaint_transition
from tests.factories import make_complaint

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def wait_until(browser, condition, seconds=30):
    """Polls `condition` (a database read) while the live server writes: on SQLite's shared in-memory
    test database a read can meet the writer's table lock ("database table is locked"), so that
    error only means "not yet"."""
    from django.db import OperationalError
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, seconds, poll_frequency=0.2, ignored_exceptions=(OperationalError,)).until(condition)


def test_reject_asks_first_and_does_nothing_when_cancelled(browser, log_in, live_server, service_user):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions

    complaint = make_complaint(assignee=service_user)
    log_in(service_user)
    browser.get(live_server.url + complaint.get_absolute_url())
    reject = browser.find_element(By.CSS_SELECTOR, "button[value=rejected]")
    acknowledge = browser.find_element(By.CSS_SELECTOR, "button[value=acknowledged]")
    assert reject.value_of_css_property("color") != acknowledge.value_of_css_property("color")
    browser.find_element(By.ID, "id_rejected_note").send_keys("Not our product")

    reject.click()
    alert = wait_until(browser, expected_conditions.alert_is_present())
    assert alert.text == f"Reject complaint {complaint.number}? A rejected complaint cannot be reopened."
    alert.dismiss()
    assert Complaint.objects.get(pk=complaint.pk).state == State.NEW

    browser.find_element(By.CSS_SELECTOR, "button[value=rejected]").click()
    wait_until(browser, expected_conditions.alert_is_present()).accept()
    wait_until(browser, lambda d: "Rejected" in d.find_element(By.CSS_SELECTOR, ".pagehead .badge").text)
    assert Complaint.objects.get(pk=complaint.pk).state == State.REJECTED


def test_the_question_is_in_the_page_s_language_and_acknowledge_asks_nothing(
    browser, log_in, live_server, service_user
):
    from selenium.webdriver.common.by import By

    complaint = make_complaint(assignee=service_user)
    log_in(service_user, language="zh-hans")
    browser.get(live_server.url + complaint.get_absolute_url())
    question = browser.find_element(By.CSS_SELECTOR, "button[value=rejected]").get_attribute("data-confirm")
    assert question.startswith("确定拒绝投诉") and complaint.number in question
    browser.find_element(By.CSS_SELECTOR, "button[value=acknowledged]").click()  # no question: straight on
    wait_until(browser, lambda d: Complaint.objects.get(pk=complaint.pk).state == State.ACKNOWLEDGED)


def test_communicate_action_with_the_default_time(browser, log_in, live_server, service_user):
    from selenium.webdriver.common.by import By

    complaint = make_complaint(assignee=service_user)  # it arrived this very minute
    for to in (State.ACKNOWLEDGED, State.INVESTIGATING):
        complaint = complaint_transition(complaint=complaint, to=to, by=service_user)
    log_in(service_user)
    browser.get(live_server.url + complaint.get_absolute_url())
    assert browser.find_element(By.ID, "id_action_communicated_customer_notified_at").get_attribute("value")
    browser.find_element(By.ID, "id_action_communicated_action_plan").send_keys("Replace the goods")
    browser.find_element(By.CSS_SELECTOR, "button[value=action_communicated]").click()
    wait_until(browser, lambda d: Complaint.objects.get(pk=complaint.pk).state == State.ACTION_COMMUNICATED)
    assert Complaint.objects.get(pk=complaint.pk).first_response_at is not None
