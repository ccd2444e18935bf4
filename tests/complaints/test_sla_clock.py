"""The SLA clock: due times from targets, the pause, breaches that stay, the warning window, auto-close."""

import datetime

import pytest

from complaints import tasks
from complaints.models import Complaint, ComplaintTransition, SlaTarget, State
from complaints.selectors import complaints_breaching_soon
from complaints.services import complaint_add_note, complaint_auto_close, complaint_mark_breaches, complaint_update
from complaints.workflow import complaint_transition
from tests.factories import make_complaint

pytestmark = pytest.mark.django_db
T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def at(hours: float) -> datetime.datetime:
    return T0 + datetime.timedelta(hours=hours)


@pytest.mark.parametrize(
    "severity, first, resolution", [("low", 48, 240), ("medium", 24, 120), ("high", 8, 48), ("critical", 2, 24)]
)
def test_due_times_follow_the_severity_targets(severity, first, resolution):
    complaint = make_complaint(received_at=T0, severity=severity)
    assert (complaint.first_response_due_at, complaint.resolution_due_at) == (at(first), at(resolution))


def test_edited_targets_apply_to_new_complaints_and_a_new_severity_retimes(service_user):
    before = make_complaint(received_at=T0, severity="high")
    SlaTarget.objects.filter(severity="high").update(first_response_hours=4, resolution_hours=12)
    after = make_complaint(received_at=T0, severity="high")
    assert before.first_response_due_at == at(8) and after.first_response_due_at == at(4)
    complaint_update(complaint=before, data={"severity": "critical"}, by=service_user)
    before.refresh_from_db()
    assert (before.first_response_due_at, before.resolution_due_at) == (at(2), at(24))


def test_first_response_is_the_first_customer_facing_note():
    complaint = make_complaint(received_at=T0, severity="medium")
    complaint_add_note(complaint=complaint, by=None, body="internal", visibility="internal", at=at(1))
    complaint.refresh_from_db()
    assert complaint.first_response_at is None
    complaint_add_note(complaint=complaint, by=None, body="called", visibility="customer", at=at(3))
    complaint_add_note(complaint=complaint, by=None, body="again", visibility="customer", at=at(5))
    complaint.refresh_from_db()
    assert (complaint.first_response_at, complaint.first_response_seconds, complaint.first_response_breached) == (
        at(3),
        3 * 3600,
        False,
    )


def test_telling_the_action_plan_counts_as_first_response_and_late_means_breached():
    complaint = make_complaint(received_at=T0, severity="high")  # first response due in 8 h
    complaint = complaint_transition(complaint=complaint, to=State.ACKNOWLEDGED, by=None, now=at(1))
    complaint = complaint_transition(complaint=complaint, to=State.INVESTIGATING, by=None, now=at(2))
    complaint = complaint_transition(
        complaint=complaint,
        to=State.ACTION_COMMUNICATED,
        by=None,
        now=at(10),
        action_plan="replace",
        customer_notified_at=at(9),
    )
    assert (complaint.first_response_at, complaint.first_response_breached) == (at(9), True)


def test_the_pause_moves_the_due_times_by_the_time_waited():
    complaint = make_complaint(received_at=T0, severity="medium")
    complaint = complaint_transition(complaint=complaint, to=State.ACKNOWLEDGED, by=None, now=at(1))
    complaint = complaint_transition(complaint=complaint, to=State.INVESTIGATING, by=None, now=at(2))
    complaint = complaint_transition(complaint=complaint, to=State.AWAITING_CUSTOMER, by=None, now=at(3))
    # Past the nominal first-response due (24 h) while paused: not breached.
    assert complaint_mark_breaches(now=at(30)) == {"first_response": 0, "resolution": 0}
    complaint = complaint_transition(complaint=complaint, to=State.INVESTIGATING, by=None, now=at(33))
    assert complaint.paused_seconds == 30 * 3600
    assert (complaint.first_response_due_at, complaint.resolution_due_at) == (at(54), at(150))
    assert complaint_mark_breaches(now=at(55)) == {"first_response": 1, "resolution": 0}


def test_breaches_are_flagged_once_and_never_cleared():
    late = make_complaint(received_at=T0, severity="critical")  # 2 h / 24 h
    done = make_complaint(received_at=T0, severity="critical")
    complaint_transition(complaint=done, to=State.REJECTED, by=None, now=at(1), note="spam")
    assert complaint_mark_breaches(now=at(25)) == {"first_response": 1, "resolution": 1}
    assert complaint_mark_breaches(now=at(26)) == {"first_response": 0, "resolution": 0}
    SlaTarget.objects.filter(severity="critical").update(first_response_hours=100, resolution_hours=200)
    late = complaint_transition(complaint=late, to=State.ACKNOWLEDGED, by=None, now=at(27))
    complaint_add_note(complaint=late, by=None, body="sorry", visibility="customer", at=at(28))
    late.refresh_from_db()
    assert late.first_response_breached and late.resolution_breached
    assert not Complaint.objects.get(pk=done.pk).resolution_breached


def test_breaching_soon_is_the_next_four_hours_of_running_clocks():
    soon = make_complaint(received_at=T0, severity="critical")  # first response due at 2 h
    later = make_complaint(received_at=T0 + datetime.timedelta(hours=4), severity="critical")  # due at 6 h: 5 h away
    paused = make_complaint(received_at=T0, severity="critical")
    paused = complaint_transition(complaint=paused, to=State.ACKNOWLEDGED, by=None, now=at(0.1))
    paused = complaint_transition(complaint=paused, to=State.INVESTIGATING, by=None, now=at(0.2))
    complaint_transition(complaint=paused, to=State.AWAITING_CUSTOMER, by=None, now=at(0.3))
    breached = make_complaint(received_at=T0 - datetime.timedelta(hours=10), severity="critical")
    complaint_mark_breaches(now=at(1))
    listed = set(complaints_breaching_soon(now=at(1)))
    assert soon in listed and later not in listed and paused not in listed and breached not in listed


def test_auto_close_after_the_confirmation_period(settings):
    settings.COMPLAINT_AUTO_CLOSE_DAYS = 14

    def resolved(days_ago):
        complaint = make_complaint(received_at=T0 - datetime.timedelta(days=days_ago + 1))
        when = T0 - datetime.timedelta(days=days_ago)
        for to in (State.ACKNOWLEDGED, State.INVESTIGATING):
            complaint = complaint_transition(complaint=complaint, to=to, by=None, now=when)
        complaint = complaint_transition(
            complaint=complaint,
            to=State.ACTION_COMMUNICATED,
            by=None,
            now=when,
            action_plan="x",
            customer_notified_at=when,
        )
        return complaint_transition(complaint=complaint, to=State.RESOLVED, by=None, now=when, root_cause="y")

    old, recent = resolved(15), resolved(13)
    assert complaint_auto_close(now=T0) == 1
    assert Complaint.objects.get(pk=old.pk).state == State.CLOSED
    assert Complaint.objects.get(pk=recent.pk).state == State.RESOLVED
    assert ComplaintTransition.objects.filter(complaint=old, to_state=State.CLOSED, by=None).count() == 1


def test_the_beat_tasks_run_the_services(settings):
    settings.COMPLAINT_AUTO_CLOSE_DAYS = 14
    make_complaint(received_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC), severity="critical")
    result = tasks.mark_sla_breaches()
    assert (result["first_response"], result["resolution"], result["breaching_soon"]) == (1, 1, [])
    assert tasks.auto_close() == 0
