"""The complaint state machine: every legal move, every illegal one, every guard."""

import datetime

import pytest
from django.utils import timezone

from complaints.models import Complaint, ComplaintTransition, State
from complaints.workflow import TRANSITIONS, TransitionError, complaint_transition
from tests.factories import make_complaint

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def at(hours: float) -> datetime.datetime:
    return T0 + datetime.timedelta(hours=hours)


# Details each guarded move needs; the tests of the guards take them away one by one.
NEEDS = {
    State.ACTION_COMMUNICATED: lambda c: {"action_plan": "Replace the goods", "customer_notified_at": c.received_at},
    State.RESOLVED: lambda c: {"root_cause": "Packing too thin", "internal_review_notes": "Reviewed on Monday"},
    State.DUPLICATE: lambda c: {"duplicate_of": make_complaint(customer=c.customer, received_at=T0)},
    State.REJECTED: lambda c: {"note": "Not our product"},
}

# A path from `new` to each state, through legal moves only.
PATHS = {
    State.NEW: [],
    State.ACKNOWLEDGED: [State.ACKNOWLEDGED],
    State.INVESTIGATING: [State.ACKNOWLEDGED, State.INVESTIGATING],
    State.AWAITING_CUSTOMER: [State.ACKNOWLEDGED, State.INVESTIGATING, State.AWAITING_CUSTOMER],
    State.ACTION_COMMUNICATED: [State.ACKNOWLEDGED, State.INVESTIGATING, State.ACTION_COMMUNICATED],
    State.RESOLVED: [State.ACKNOWLEDGED, State.INVESTIGATING, State.ACTION_COMMUNICATED, State.RESOLVED],
    State.CLOSED: [State.ACKNOWLEDGED, State.INVESTIGATING, State.ACTION_COMMUNICATED, State.RESOLVED, State.CLOSED],
    State.REJECTED: [State.REJECTED],
    State.DUPLICATE: [State.DUPLICATE],
}


def move(complaint, to, by=None, now=None, **extra):
    details = NEEDS.get(to, lambda c: {})(complaint)
    if complaint.state == State.CLOSED and to == State.INVESTIGATING:
        details = {"note": "Customer says it broke again"}
    return complaint_transition(complaint=complaint, to=to, by=by, now=now or at(1), **{**details, **extra})


def complaint_in(state, **data):
    complaint = make_complaint(received_at=T0, **data)
    for step in PATHS[state]:
        complaint = move(complaint, step)
    assert complaint.state == state
    return complaint


def test_walk_through_every_legal_transition(service_user):
    complaint = make_complaint(received_at=T0, severity="high", significant=True)
    walk = [
        (State.ACKNOWLEDGED, 0.5),
        (State.INVESTIGATING, 1),
        (State.AWAITING_CUSTOMER, 2),
        (State.INVESTIGATING, 5),
        (State.ACTION_COMMUNICATED, 6),
        (State.RESOLVED, 7),
        (State.CLOSED, 30),
        (State.INVESTIGATING, 40),  # reopen
        (State.ACTION_COMMUNICATED, 41),
        (State.RESOLVED, 42),
        (State.CLOSED, 50),
    ]
    seen = [State.NEW]
    for to, hours in walk:
        complaint = move(complaint, to, by=service_user, now=at(hours))
        seen.append(to)
        assert Complaint.objects.get(pk=complaint.pk).state == to
    log = list(
        ComplaintTransition.objects.filter(complaint=complaint).values_list("from_state", "to_state", "by", "at")
    )
    assert log == [(a, b, service_user.pk, at(h)) for a, (b, h) in zip(seen, walk, strict=False)]
    complaint.refresh_from_db()
    assert complaint.reopen_count == 1
    assert complaint.paused_seconds == 3 * 3600
    assert complaint.resolved_at == at(7)  # the first resolution counts
    assert complaint.resolution_seconds == 4 * 3600  # 7 h minus 3 h paused
    assert complaint.closed_at == at(50)


@pytest.mark.parametrize("to", [State.REJECTED, State.DUPLICATE])
@pytest.mark.parametrize("start", [State.NEW, State.ACKNOWLEDGED])
def test_early_exits(start, to):
    complaint = complaint_in(start)
    complaint = move(complaint, to)
    assert complaint.state == to
    if to == State.DUPLICATE:
        assert complaint.duplicate_of is not None


@pytest.mark.parametrize("start", [State.INVESTIGATING, State.AWAITING_CUSTOMER, State.ACTION_COMMUNICATED])
def test_any_open_state_can_become_a_duplicate(start):
    complaint = move(complaint_in(start), State.DUPLICATE)
    assert complaint.state == State.DUPLICATE
    assert complaint.paused_since is None


ILLEGAL = [(start, to) for start in State.values for to in State.values if to not in TRANSITIONS[start]]


@pytest.mark.parametrize("start, to", ILLEGAL)
def test_every_illegal_transition_is_refused_and_changes_nothing(start, to):
    complaint = complaint_in(start)
    logged = ComplaintTransition.objects.filter(complaint=complaint).count()
    with pytest.raises(TransitionError) as refused:
        move(complaint, to, now=at(3))
    assert refused.value.messages == [f"A complaint that is “{State(start).label}” cannot move to “{State(to).label}”."]
    assert Complaint.objects.get(pk=complaint.pk).state == start
    assert ComplaintTransition.objects.filter(complaint=complaint).count() == logged


def test_illegal_moves_cover_the_whole_matrix():
    assert len(ILLEGAL) == 9 * 9 - sum(len(targets) for targets in TRANSITIONS.values()) == 81 - 15


GUARDS = [
    (
        State.INVESTIGATING,
        State.ACTION_COMMUNICATED,
        {"action_plan": "  "},
        "action_plan",
        "Write the action plan the customer was told before moving on.",
    ),
    (
        State.INVESTIGATING,
        State.ACTION_COMMUNICATED,
        {"customer_notified_at": None},
        "customer_notified_at",
        "Record when the customer was notified of the action plan.",
    ),
    (
        State.INVESTIGATING,
        State.ACTION_COMMUNICATED,
        {"customer_notified_at": at(100)},
        "customer_notified_at",
        "The customer cannot have been notified in the future: 2026-03-06 21:00:00 is later than now (2026-03-02 20:00:00).",
    ),
    (
        State.INVESTIGATING,
        State.ACTION_COMMUNICATED,
        {"customer_notified_at": at(-1)},
        "customer_notified_at",
        "The customer cannot have been notified before the complaint arrived: 2026-03-02 16:00:00 is earlier than its "
        "arrival (2026-03-02 17:00:00).",
    ),
    (
        State.ACTION_COMMUNICATED,
        State.RESOLVED,
        {"root_cause": ""},
        "root_cause",
        "Record the root cause before resolving, so the mistake is not repeated.",
    ),
    (
        State.NEW,
        State.DUPLICATE,
        {"duplicate_of": None},
        "duplicate_of",
        "Name the original complaint this one duplicates.",
    ),
    (State.NEW, State.REJECTED, {"note": ""}, "note", "Give the reason for rejecting the complaint."),
    (State.CLOSED, State.INVESTIGATING, {"note": " "}, "note", "Give the reason for reopening the complaint."),
]


@pytest.mark.parametrize("start, to, override, field, message", GUARDS)
def test_each_guard_refuses_with_its_message(start, to, override, field, message):
    complaint = complaint_in(start)
    logged = ComplaintTransition.objects.filter(complaint=complaint).count()
    with pytest.raises(TransitionError) as refused:
        move(complaint, to, now=at(3), **override)
    assert refused.value.message_dict == {field: [message]}
    assert Complaint.objects.get(pk=complaint.pk).state == start
    assert ComplaintTransition.objects.filter(complaint=complaint).count() == logged


def test_significant_complaint_needs_internal_review_before_resolving():
    complaint = complaint_in(State.ACTION_COMMUNICATED, significant=True)
    with pytest.raises(TransitionError) as refused:
        move(complaint, State.RESOLVED, internal_review_notes="")
    assert refused.value.message_dict == {
        "internal_review_notes": ["A significant complaint needs internal review notes before it can be resolved."]
    }
    plain = complaint_in(State.ACTION_COMMUNICATED, significant=False)
    assert move(plain, State.RESOLVED, internal_review_notes="").state == State.RESOLVED


def test_duplicate_cannot_point_to_itself_or_to_another_duplicate():
    complaint = complaint_in(State.NEW)
    with pytest.raises(TransitionError) as refused:
        move(complaint, State.DUPLICATE, duplicate_of=complaint)
    assert refused.value.message_dict == {"duplicate_of": ["A complaint cannot duplicate itself."]}
    other_duplicate = complaint_in(State.DUPLICATE)
    with pytest.raises(TransitionError) as refused:
        move(complaint, State.DUPLICATE, duplicate_of=other_duplicate)
    assert refused.value.message_dict == {
        "duplicate_of": ["Point to the original complaint, not to another duplicate."]
    }


def test_a_stale_view_cannot_move_a_complaint_someone_else_moved():
    complaint = complaint_in(State.NEW)
    stale = Complaint.objects.get(pk=complaint.pk)
    move(complaint, State.ACKNOWLEDGED)
    with pytest.raises(TransitionError) as refused:
        move(stale, State.REJECTED)
    assert refused.value.messages == [
        "Someone else has just moved this complaint to “Acknowledged”. Reload the page and try again."
    ]
    assert Complaint.objects.get(pk=complaint.pk).state == State.ACKNOWLEDGED


def test_state_cannot_be_set_by_saving_the_model_form_fields():
    from django.forms import modelform_factory

    assert "state" not in modelform_factory(Complaint, fields="__all__")().fields


def test_deleting_a_user_keeps_the_complaint_and_its_history(service_user):
    complaint = make_complaint(by=service_user, received_at=T0, assignee=service_user)
    move(complaint, State.ACKNOWLEDGED, by=service_user)
    service_user.delete()
    complaint.refresh_from_db()
    assert complaint.assignee is None and complaint.created_by is None
    assert ComplaintTransition.objects.get(complaint=complaint).by is None
    assert complaint.history.count() >= 2
    assert timezone.is_aware(complaint.received_at)
