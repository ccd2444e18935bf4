"""SLA: "breaching soon" and "breached" go once each (per clock) to the assignee and the service
leads, on a frozen clock (the services take `now`)."""

import datetime

import pytest
from django.utils import timezone

from complaints.models import Severity
from complaints.services import complaint_mark_breaches, complaint_sla_notify
from complaints.tasks import mark_sla_breaches
from crm.roles import Role
from notifications import kinds
from notifications.models import Notification
from tests.factories import CustomerFactory, make_complaint

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def people(make_user, admin_user_):
    rep = make_user(Role.SERVICE, username="rep", email="rep@staff.example")
    admin_user_.email = "lead@staff.example"
    admin_user_.save()
    bystander = make_user(Role.SERVICE, username="other-rep", email="other@staff.example")
    return rep, admin_user_, bystander


def texts(kind):
    return sorted((n.recipient.username, n.text) for n in Notification.objects.filter(kind=kind))


def tick(hours):
    now = T0 + datetime.timedelta(hours=hours)
    complaint_mark_breaches(now=now)
    return complaint_sla_notify(now=now)


def test_breaching_soon_then_breached_once_each(people, smtp, django_capture_on_commit_callbacks):
    rep, lead, bystander = people
    # High severity: first response within 8 hours, resolution within 48 (the default targets).
    complaint = make_complaint(
        customer=CustomerFactory(name="华东精密机械"), by=rep, assignee=rep, severity=Severity.HIGH, received_at=T0
    )
    number = complaint.number
    with django_capture_on_commit_callbacks(execute=True):
        assert tick(3) == 0  # the first response is due in 5 hours: not yet within the 4-hour warning
        assert tick(5) == 2  # due in 3 hours: the assignee and the lead
        assert tick(6) == 0  # said once
        assert tick(7.5) == 0
    soon = f"Complaint {number} is due within 4 hours (2026-03-03 01:00)"  # 17:00 UTC in Asia/Shanghai
    assert texts(kinds.SLA_BREACHING_SOON) == [("rep", soon), ("root1", soon)]
    with django_capture_on_commit_callbacks(execute=True):
        assert tick(9) == 2  # the first response is late
        assert tick(10) == 0
        assert tick(20) == 0
    breached = f"Complaint {number} breached its SLA (due 2026-03-03 01:00)"
    assert texts(kinds.SLA_BREACHED) == [("rep", breached), ("root1", breached)]
    with django_capture_on_commit_callbacks(execute=True):
        assert tick(45) == 2  # now the resolution clock: due within 4 hours
        assert tick(46) == 0
        assert tick(49) == 2  # and late
        assert tick(60) == 0
    assert len(texts(kinds.SLA_BREACHING_SOON)) == 4 and len(texts(kinds.SLA_BREACHED)) == 4
    assert not Notification.objects.filter(recipient=bystander).exists()
    # Each notification went by e-mail once, to its person.
    by_address = {}
    for mail in smtp.received:
        by_address.setdefault(mail.to[0], []).append(mail.subject)
    assert sorted(by_address) == ["lead@staff.example", "rep@staff.example"]
    assert by_address["rep@staff.example"] == [
        soon,
        breached,
        f"Complaint {number} is due within 4 hours (2026-03-04 17:00)",
        f"Complaint {number} breached its SLA (due 2026-03-04 17:00)",
    ]
    assert by_address["lead@staff.example"] == by_address["rep@staff.example"]


def test_a_paused_or_closed_complaint_is_not_warned(people, smtp):
    rep, _lead, _ = people
    complaint = make_complaint(by=rep, assignee=rep, severity=Severity.HIGH, received_at=T0)
    complaint.__class__.objects.filter(pk=complaint.pk).update(paused_since=T0)
    assert tick(5) == 0


def test_the_beat_task_tells_them(people, django_capture_on_commit_callbacks):
    rep, _lead, _ = people
    make_complaint(
        by=rep, assignee=rep, severity=Severity.HIGH, received_at=timezone.now() - datetime.timedelta(hours=9)
    )
    result = mark_sla_breaches()
    assert result["first_response"] == 1 and result["notified"] == 2
    assert mark_sla_breaches()["notified"] == 0
