"""The customer hears back: the acknowledgment when a complaint is logged, the action plan when it
is communicated, read from a real SMTP server, in the customer's language."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints.models import State
from complaints.workflow import TransitionError, complaint_transition
from notifications.models import Outbox
from tests.factories import ContactFactory, CustomerFactory, make_complaint

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    customer = CustomerFactory(name="华东精密机械", email="office@huadong.example")
    ContactFactory(customer=customer, name="王经理", email="wang@huadong.example", decision_maker=True)
    ContactFactory(customer=customer, name="Li", email="li@huadong.example")
    return customer


def log_complaint(client, user, customer, **fields):
    client.force_login(user)
    data = {
        "customer": customer.code,
        "channel": "phone",
        "category": "delivery",
        "severity": "high",
        "description": "货物破损 Goods arrived damaged",
        "assignee": user.pk,
        **fields,
    }
    return client.post(reverse("complaints:complaint_create"), data)


def test_the_form_offers_the_acknowledgment_ticked(client, service_user):
    client.force_login(service_user)
    page = client.get(reverse("complaints:complaint_create")).content.decode()
    assert 'name="send_acknowledgment"' in page
    assert 'id="id_send_acknowledgment" checked>' in page


def test_logging_a_complaint_sends_the_acknowledgment_to_the_decision_maker(
    client, service_user, customer, smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = log_complaint(client, service_user, customer, send_acknowledgment="on")
    assert response.status_code == 302
    complaint = customer.complaints.get()
    [mail] = smtp.received
    assert mail.to == ["wang@huadong.example"]
    assert mail.subject == f"We received your complaint {complaint.number}"
    assert "Dear 华东精密机械," in mail.text and "Goods arrived damaged" in mail.text
    assert complaint.number in mail.html and "<blockquote>" in mail.html
    assert mail.message_id == Outbox.objects.get().message_id
    assert Outbox.objects.get().status == Outbox.Status.SENT


def test_acknowledgment_in_chinese_for_a_chinese_customer(
    client, service_user, customer, smtp, settings, django_capture_on_commit_callbacks
):
    # The customer's own language decides, not the rep's (the rep works in English here).
    customer.language = "zh-hans"
    customer.save(update_fields=["language"])
    with django_capture_on_commit_callbacks(execute=True):
        log_complaint(client, service_user, customer, send_acknowledgment="on")
    complaint = customer.complaints.get()
    [mail] = smtp.received
    assert mail.subject == f"我们已收到您的投诉 {complaint.number}"
    assert "尊敬的华东精密机械：" in mail.text
    assert f"编号 {complaint.number}" in mail.text
    assert '<html lang="zh-hans">' in mail.html
    assert mail.message["Content-Language"] == "zh-hans"


def test_the_rep_can_untick_the_acknowledgment(
    client, service_user, customer, smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = log_complaint(client, service_user, customer)  # checkbox not posted: unticked
    assert response.status_code == 302
    assert customer.complaints.count() == 1
    assert smtp.received == [] and not Outbox.objects.exists()


def test_no_contact_address_falls_back_to_the_customer_and_none_sends_nothing(
    client, service_user, smtp, django_capture_on_commit_callbacks
):
    only_office = CustomerFactory(email="office@example.com")
    ContactFactory(customer=only_office, email="")
    nobody = CustomerFactory(email="")
    with django_capture_on_commit_callbacks(execute=True):
        log_complaint(client, service_user, only_office, send_acknowledgment="on")
        log_complaint(client, service_user, nobody, send_acknowledgment="on")
    assert [mail.to for mail in smtp.received] == [["office@example.com"]]
    assert nobody.complaints.count() == 1  # logged all the same


def investigating(customer, user, **data):
    complaint = make_complaint(customer=customer, by=user, assignee=user, **data)
    for to in (State.ACKNOWLEDGED, State.INVESTIGATING):
        complaint = complaint_transition(complaint=complaint, to=to, by=user)
    return complaint


def test_communicate_action_by_email_sends_the_plan_and_records_the_notification(
    client, service_user, customer, smtp, django_capture_on_commit_callbacks
):
    complaint = investigating(customer, service_user)
    client.force_login(service_user)
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("complaints:complaint_transition", args=[complaint.pk]),
            {
                "to": State.ACTION_COMMUNICATED,
                "expected_state": State.INVESTIGATING,
                "action_plan": "明天换货 We replace the goods tomorrow",
                "email_customer": "on",
            },
        )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.state == State.ACTION_COMMUNICATED
    assert before <= complaint.customer_notified_at <= timezone.now()
    assert complaint.first_response_at == complaint.customer_notified_at
    [mail] = smtp.received
    assert mail.to == ["wang@huadong.example"]
    assert mail.subject == f"What we will do about your complaint {complaint.number}"
    assert "We replace the goods tomorrow" in mail.text and "We replace the goods tomorrow" in mail.html


def test_action_plan_in_chinese(customer, service_user, smtp, settings, django_capture_on_commit_callbacks):
    customer.language = "zh-hans"
    customer.save(update_fields=["language"])
    complaint = investigating(customer, service_user)
    with django_capture_on_commit_callbacks(execute=True):
        complaint_transition(
            complaint=complaint,
            to=State.ACTION_COMMUNICATED,
            by=service_user,
            action_plan="明天换货",
            email_customer=True,
        )
    [mail] = smtp.received
    assert mail.subject == f"关于您的投诉 {complaint.number} 的处理方案"
    assert "我们将采取以下措施" in mail.text and "明天换货" in mail.text


def test_a_phone_call_is_still_recorded_by_hand(customer, service_user, smtp, django_capture_on_commit_callbacks):
    complaint = investigating(customer, service_user, received_at=timezone.now() - datetime.timedelta(hours=3))
    called = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        complaint = complaint_transition(
            complaint=complaint,
            to=State.ACTION_COMMUNICATED,
            by=service_user,
            action_plan="Told by phone",
            customer_notified_at=called,
        )
    assert complaint.customer_notified_at == called
    assert smtp.received == [] and not Outbox.objects.exists()


def test_emailing_a_customer_without_address_is_refused_and_changes_nothing(
    service_user, smtp, django_capture_on_commit_callbacks
):
    complaint = investigating(CustomerFactory(email=""), service_user)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(TransitionError) as refused:
        complaint_transition(
            complaint=complaint, to=State.ACTION_COMMUNICATED, by=service_user, action_plan="Plan", email_customer=True
        )
    assert "email_customer" in refused.value.message_dict
    complaint.refresh_from_db()
    assert complaint.state == State.INVESTIGATING and complaint.customer_notified_at is None
    assert smtp.received == [] and not Outbox.objects.exists()


def test_a_retired_contact_is_no_longer_written_to(
    client, service_user, customer, smtp, django_capture_on_commit_callbacks
):
    customer.contacts.filter(name="王经理").update(retired_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        log_complaint(client, service_user, customer, send_acknowledgment="on")
    [mail] = smtp.received
    assert mail.to == ["li@huadong.example"]
    customer.contacts.update(retired_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        log_complaint(client, service_user, customer, send_acknowledgment="on")
    assert smtp.received[-1].to == ["office@huadong.example"]
