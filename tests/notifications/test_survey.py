"""The satisfaction survey: e-mailed when a complaint closes, answered through a signed, expiring
link on a public page (no login), once per complaint; the answer is a Survey record of the
complaint and counts in its KPIs. A tampered, expired or used link gets a page and writes nothing."""

import datetime
import re
from urllib.parse import urlparse

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints.models import State
from complaints.selectors import complaint_kpis
from complaints.services import complaint_auto_close
from complaints.workflow import complaint_transition
from crm.models import Survey
from notifications.models import Outbox, SurveyInvitation
from tests.factories import ContactFactory, CustomerFactory, make_complaint

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    customer = CustomerFactory(name="华东精密机械")
    ContactFactory(customer=customer, name="王经理", email="wang@huadong.example", decision_maker=True)
    return customer


def resolved(customer, user):
    complaint = make_complaint(
        customer=customer, by=user, assignee=user, category="delivery", description="Secret internal detail 内部"
    )
    complaint = complaint_transition(complaint=complaint, to=State.ACKNOWLEDGED, by=user)
    complaint = complaint_transition(complaint=complaint, to=State.INVESTIGATING, by=user)
    complaint = complaint_transition(
        complaint=complaint,
        to=State.ACTION_COMMUNICATED,
        by=user,
        action_plan="Replace",
        customer_notified_at=complaint.received_at,
    )
    return complaint_transition(complaint=complaint, to=State.RESOLVED, by=user, root_cause="Packing")


def close_on_the_page(client, user, complaint, callbacks, **fields):
    client.force_login(user)
    with callbacks(execute=True):
        response = client.post(
            reverse("complaints:complaint_transition", args=[complaint.pk]),
            {"to": State.CLOSED, "expected_state": State.RESOLVED, **fields},
        )
    assert response.status_code == 302
    client.logout()


def link_in(mail) -> str:
    url = re.search(r"http://localhost:8000(/\S+)", mail.text).group(1)
    assert f'href="http://localhost:8000{url}"' in mail.html
    return url


def test_the_close_form_offers_the_survey_ticked(client, customer, service_user):
    complaint = resolved(customer, service_user)
    client.force_login(service_user)
    page = client.get(complaint.get_absolute_url()).content.decode()
    assert 'id="id_closed_send_survey" checked>' in page


def test_answered_through_the_link_without_login(
    client, customer, service_user, smtp, django_capture_on_commit_callbacks
):
    complaint = resolved(customer, service_user)
    close_on_the_page(client, service_user, complaint, django_capture_on_commit_callbacks, send_survey="on")
    [mail] = smtp.received
    assert mail.to == ["wang@huadong.example"]
    assert mail.subject == f"How satisfied are you with how we handled {complaint.number}?"
    url = link_in(mail)

    page = client.get(url)  # anonymous
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]  # nor kept by the browser
    text = page.content.decode()
    assert f"Complaint {complaint.number}: Delivery" in text
    assert "Highly satisfied" in text and "Very dissatisfied" in text
    assert "Secret internal detail" not in text and "华东精密机械" not in text  # nothing beyond number and subject

    answered = client.post(url, {"score": "5", "comment": "很及时 Quick"})
    assert answered.status_code == 200 and "We have your answer" in answered.content.decode()
    survey = Survey.objects.get()
    assert (survey.complaint, survey.customer, survey.score, survey.comment) == (complaint, customer, 5, "很及时 Quick")
    assert survey.answered_on == timezone.localdate()
    assert SurveyInvitation.objects.get().survey == survey

    # The answer shows on the complaint and in the KPIs.
    client.force_login(service_user)
    assert "5/5 · Highly satisfied · 很及时 Quick" in client.get(complaint.get_absolute_url()).content.decode()
    kpis = complaint_kpis(start=complaint.received_at - datetime.timedelta(days=1), end=timezone.now())
    assert str(kpis["post_complaint_satisfaction"]) == "5.00"
    client.logout()

    # A second use of the link writes nothing.
    again = client.post(url, {"score": "1", "comment": "changed my mind"})
    assert again.status_code == 410 and "answered already" in again.content.decode()
    assert client.get(url).status_code == 410
    assert Survey.objects.get() == survey and survey.score == 5


def test_survey_in_the_customers_language(
    client, customer, service_user, smtp, settings, django_capture_on_commit_callbacks
):
    customer.language = "zh-hans"  # the e-mail and the page it links to, in the customer's language
    customer.save(update_fields=["language"])
    complaint = resolved(customer, service_user)
    close_on_the_page(client, service_user, complaint, django_capture_on_commit_callbacks, send_survey="on")
    [mail] = smtp.received
    assert mail.subject == f"您对我们处理 {complaint.number} 的方式满意吗？"
    assert "尊敬的华东精密机械：" in mail.text
    page = client.get(link_in(mail)).content.decode()
    assert '<html lang="zh-hans">' in page and "非常满意" in page and f"投诉 {complaint.number}：交付" in page


def test_unticked_sends_no_survey(client, customer, service_user, smtp, django_capture_on_commit_callbacks):
    complaint = resolved(customer, service_user)
    close_on_the_page(client, service_user, complaint, django_capture_on_commit_callbacks)
    assert smtp.received == [] and not SurveyInvitation.objects.exists()


def test_once_per_complaint_even_closed_twice(customer, service_user, smtp, django_capture_on_commit_callbacks):
    complaint = resolved(customer, service_user)
    with django_capture_on_commit_callbacks(execute=True):
        complaint = complaint_transition(complaint=complaint, to=State.CLOSED, by=service_user, send_survey=True)
        complaint = complaint_transition(complaint=complaint, to=State.INVESTIGATING, by=service_user, note="Again")
        complaint = complaint_transition(
            complaint=complaint, to=State.ACTION_COMMUNICATED, by=service_user, action_plan="X", email_customer=False,
            customer_notified_at=timezone.now(),
        )  # fmt: skip
        complaint = complaint_transition(complaint=complaint, to=State.RESOLVED, by=service_user)
        complaint_transition(complaint=complaint, to=State.CLOSED, by=service_user, send_survey=True)
    assert SurveyInvitation.objects.count() == 1
    assert [mail.subject for mail in smtp.received].count(
        f"How satisfied are you with how we handled {complaint.number}?"
    ) == 1


def test_auto_close_sends_the_survey(customer, service_user, smtp, django_capture_on_commit_callbacks):
    complaint = resolved(customer, service_user)
    with django_capture_on_commit_callbacks(execute=True):
        assert complaint_auto_close(now=timezone.now() + datetime.timedelta(days=15)) == 1
    assert [mail.to for mail in smtp.received] == [["wang@huadong.example"]]
    assert SurveyInvitation.objects.get().complaint == complaint


def invitation_link(customer, service_user):
    complaint = resolved(customer, service_user)
    complaint_transition(complaint=complaint, to=State.CLOSED, by=service_user, send_survey=True)
    from notifications.surveys import survey_url

    return survey_url(SurveyInvitation.objects.get())


def test_a_tampered_link_is_refused_and_writes_nothing(client, customer, service_user):
    url = invitation_link(customer, service_user)
    token = url.rstrip("/").rsplit("/", 1)[1]
    value, stamp, signature = token.split(":")
    for bad in (f"{int(value) + 1}:{stamp}:{signature}", f"{value}:{stamp}:{signature[:-1]}x", "garbage"):
        bad_url = reverse("notifications:survey", args=[bad])
        for response in (client.get(bad_url), client.post(bad_url, {"score": "1"})):
            assert response.status_code == 404
            assert "This survey link is not valid" in response.content.decode()
    assert not Survey.objects.exists()


def test_an_expired_link_is_refused_and_writes_nothing(client, customer, service_user, settings):
    url = invitation_link(customer, service_user)
    settings.SURVEY_LINK_DAYS = -1  # every link is past its age
    response = client.post(url, {"score": "4"})
    assert response.status_code == 410 and "This survey link has expired" in response.content.decode()
    assert not Survey.objects.exists() and SurveyInvitation.objects.get().answered_at is None


def test_guessing_is_rate_limited(client, customer, service_user, settings):
    from django.core.cache import cache

    cache.clear()
    settings.PUBLIC_RATE_LIMIT = 3
    url = invitation_link(customer, service_user)
    for n in range(3):
        assert client.get(reverse("notifications:survey", args=[f"{n}:x:y"])).status_code == 404
    limited = client.post(url, {"score": "5"})  # even the right link, from this address, for a while
    assert limited.status_code == 429 and "Too many requests" in limited.content.decode()
    assert not Survey.objects.exists()
    cache.clear()
    assert client.get(url).status_code == 200


def test_no_address_no_survey(service_user, smtp, django_capture_on_commit_callbacks):
    complaint = resolved(CustomerFactory(email=""), service_user)
    with django_capture_on_commit_callbacks(execute=True):
        complaint_transition(complaint=complaint, to=State.CLOSED, by=service_user, send_survey=True)
    assert smtp.received == [] and not SurveyInvitation.objects.exists() and not Outbox.objects.exists()


def test_link_is_absolute_and_public(customer, service_user):
    url = invitation_link(customer, service_user)
    assert urlparse(url).path.startswith("/notifications/survey/")
