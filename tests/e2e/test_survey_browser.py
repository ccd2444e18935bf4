"""Issue 18, acceptance 3, in headless Chromium: a customer answers the satisfaction survey through
the link e-mailed when the complaint closed, without logging in; the answer shows on the complaint
and in the KPIs; a tampered link, an expired one and a second use are refused."""

import re

import pytest
from django.core import mail

from complaints.models import State
from complaints.workflow import complaint_transition
from crm.models import Survey
from tests.factories import ContactFactory, CustomerFactory, make_complaint

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def closed_with_survey(user):
    customer = CustomerFactory(name="华东精密机械")
    ContactFactory(customer=customer, email="wang@huadong.example", decision_maker=True)
    complaint = make_complaint(customer=customer, by=user, assignee=user, category="delivery")
    for to, details in (
        (State.ACKNOWLEDGED, {}),
        (State.INVESTIGATING, {}),
        (State.ACTION_COMMUNICATED, {"action_plan": "Replace", "customer_notified_at": complaint.received_at}),
        (State.RESOLVED, {"root_cause": "Packing"}),
        (State.CLOSED, {"send_survey": True}),
    ):
        complaint = complaint_transition(complaint=complaint, to=to, by=user, **details)
    [message] = [m for m in mail.outbox if m.to == ["wang@huadong.example"]]
    path = re.search(r"http://localhost:8000(/\S+)", message.body).group(1)
    return complaint, path


def text_of(browser):
    from selenium.webdriver.common.by import By

    return browser.find_element(By.TAG_NAME, "main").text


def shows(browser, text: str) -> bool:
    """Waits for the page the last click led to (up to 10 s) to show `text`."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    def found(driver):
        try:
            return text in text_of(driver)
        except (NoSuchElementException, StaleElementReferenceException):
            return False  # the next page is still on its way

    WebDriverWait(browser, 10, poll_frequency=0.1).until(found, message=f"{text!r} not shown")
    return True


def test_a_customer_answers_through_the_link(browser, log_in, live_server, service_user, settings):
    from selenium.webdriver.common.by import By

    complaint, path = closed_with_survey(service_user)
    browser.get(live_server.url + path)  # no login
    assert f"Complaint {complaint.number}: Delivery" in text_of(browser)
    browser.find_element(By.CSS_SELECTOR, "input[name=score][value='4']").click()
    browser.find_element(By.ID, "id_comment").send_keys("换货很快 Quick replacement")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit].primary").click()
    assert shows(browser, "We have your answer")
    survey = Survey.objects.get()
    assert (survey.complaint_id, survey.score, survey.comment) == (complaint.pk, 4, "换货很快 Quick replacement")

    # A second use of the link, a changed link, an old link: a page that says so, nothing written.
    browser.get(live_server.url + path)
    assert "answered already" in text_of(browser)
    browser.get(live_server.url + path.replace(path.rstrip("/").rsplit(":", 1)[1], "x" * 27))
    assert "This survey link is not valid" in text_of(browser)
    settings.SURVEY_LINK_DAYS = -1
    browser.get(live_server.url + path)  # not from the cache: the page is never cached
    assert "This survey link has expired" in text_of(browser)
    assert Survey.objects.count() == 1

    # Staff see the answer on the complaint and in the KPIs.
    log_in(service_user)
    browser.get(live_server.url + complaint.get_absolute_url())
    assert "4/5 · Satisfied · 换货很快 Quick replacement" in text_of(browser)
    browser.get(live_server.url + "/complaints/kpis/")
    kpi = browser.find_element(
        By.XPATH, "//div[@class='kpi'][span[contains(., 'Satisfaction after a complaint')]]/strong"
    )
    assert kpi.text == "4.00"
