"""The complaint state machine of DESIGN section 4.

Every state change goes through `complaint_transition`: it locks the row, checks that nobody
moved the complaint meanwhile, checks the move is allowed and its guards hold, applies the
side effects (SLA clock, timestamps) and logs the transition, all in one transaction. Views,
admin, imports and tasks have no other way to change `Complaint.state`.
"""
import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Complaint, ComplaintTransition, Problem, State

TRANSITIONS: dict[str, tuple[str, ...]] = {
    State.NEW: (State.ACKNOWLEDGED, State.REJECTED, State.DUPLICATE),
    State.ACKNOWLEDGED: (State.INVESTIGATING, State.REJECTED, State.DUPLICATE),
    State.INVESTIGATING: (State.AWAITING_CUSTOMER, State.ACTION_COMMUNICATED, State.DUPLICATE),
    State.AWAITING_CUSTOMER: (State.INVESTIGATING, State.DUPLICATE),
    State.ACTION_COMMUNICATED: (State.RESOLVED, State.DUPLICATE),
    State.RESOLVED: (State.CLOSED,),
    State.CLOSED: (State.INVESTIGATING,),  # reopen
    State.REJECTED: (),
    State.DUPLICATE: (),
}

# The label of the button that makes each move, as a person reads it.
ACTION_LABELS = {
    State.ACKNOWLEDGED: _("Acknowledge"),
    State.INVESTIGATING: _("Investigate"),
    State.AWAITING_CUSTOMER: _("Wait for customer"),
    State.ACTION_COMMUNICATED: _("Communicate action"),
    State.RESOLVED: _("Resolve"),
    State.CLOSED: _("Close"),
    State.REJECTED: _("Reject"),
    State.DUPLICATE: _("Mark duplicate"),
}


class TransitionError(ValidationError):
    """A refused move; its message is meant for the user."""


def allowed_transitions(complaint: Complaint) -> tuple[str, ...]:
    return TRANSITIONS[complaint.state]


def action_label(complaint: Complaint, to: str):
    if complaint.state == State.CLOSED and to == State.INVESTIGATING:
        return _("Reopen")
    if complaint.state == State.AWAITING_CUSTOMER and to == State.INVESTIGATING:
        return _("Customer answered")
    return ACTION_LABELS[to]


def _seconds(delta: datetime.timedelta) -> int:
    return max(0, int(delta.total_seconds()))


def _end_pause(complaint: Complaint, now: datetime.datetime) -> None:
    """Stops the paused SLA clock; the due times move on by the time spent waiting."""
    if complaint.paused_since is None:
        return
    paused = now - complaint.paused_since
    complaint.paused_seconds += _seconds(paused)
    complaint.resolution_due_at += paused
    if complaint.first_response_at is None:
        complaint.first_response_due_at += paused
    complaint.paused_since = None


def record_first_response(complaint: Complaint, at: datetime.datetime) -> None:
    """The first time the customer hears from us starts nothing and stops the first-response clock."""
    if complaint.first_response_at is not None:
        return
    complaint.first_response_at = at
    complaint.first_response_seconds = _seconds(at - complaint.received_at) - complaint.paused_seconds
    complaint.first_response_seconds = max(0, complaint.first_response_seconds)
    if at > complaint.first_response_due_at:
        complaint.first_response_breached = True


def _check_guards(complaint: Complaint, to: str, details: dict, note: str, now) -> None:
    errors = {}
    if to == State.ACTION_COMMUNICATED:
        if not (details.get("action_plan") or "").strip():
            errors["action_plan"] = _("Write the action plan the customer was told before moving on.")
        notified = details.get("customer_notified_at")
        if notified is None:
            errors["customer_notified_at"] = _("Record when the customer was notified of the action plan.")
        elif notified > now:
            errors["customer_notified_at"] = _("The customer cannot have been notified in the future.")
        elif notified < complaint.received_at:
            errors["customer_notified_at"] = _("The customer cannot have been notified before the complaint arrived.")
    elif to == State.RESOLVED:
        if not (details.get("root_cause") or complaint.root_cause or "").strip():
            errors["root_cause"] = _("Record the root cause before resolving, so the mistake is not repeated.")
        review = (details.get("internal_review_notes") or complaint.internal_review_notes or "").strip()
        if complaint.significant and not review:
            errors["internal_review_notes"] = _(
                "A significant complaint needs internal review notes before it can be resolved."
            )
    elif to == State.DUPLICATE:
        original = details.get("duplicate_of")
        if original is None:
            errors["duplicate_of"] = _("Name the original complaint this one duplicates.")
        elif original.pk == complaint.pk:
            errors["duplicate_of"] = _("A complaint cannot duplicate itself.")
        elif original.state == State.DUPLICATE:
            errors["duplicate_of"] = _("Point to the original complaint, not to another duplicate.")
    elif to == State.REJECTED and not note.strip():
        errors["note"] = _("Give the reason for rejecting the complaint.")
    elif complaint.state == State.CLOSED and to == State.INVESTIGATING and not note.strip():
        errors["note"] = _("Give the reason for reopening the complaint.")
    if errors:
        raise TransitionError(errors)


def _apply(complaint: Complaint, to: str, details: dict, now) -> None:
    if complaint.state == State.AWAITING_CUSTOMER:
        _end_pause(complaint, now)
    if to == State.AWAITING_CUSTOMER:
        complaint.paused_since = now
    elif to == State.ACTION_COMMUNICATED:
        complaint.action_plan = details["action_plan"].strip()
        complaint.customer_notified_at = details["customer_notified_at"]
        record_first_response(complaint, complaint.customer_notified_at)
    elif to == State.RESOLVED:
        if details.get("root_cause"):
            complaint.root_cause = details["root_cause"].strip()
        if details.get("internal_review_notes"):
            complaint.internal_review_notes = details["internal_review_notes"].strip()
        if details.get("problem") is not None:
            complaint.problem = details["problem"]
        if complaint.resolved_at is None:  # KPIs count the first resolution
            complaint.resolved_at = now
            complaint.resolution_seconds = max(0, _seconds(now - complaint.received_at) - complaint.paused_seconds)
            if now > complaint.resolution_due_at:
                complaint.resolution_breached = True
    elif to == State.CLOSED:
        complaint.closed_at = now
    elif to == State.DUPLICATE:
        complaint.duplicate_of = details["duplicate_of"]
    if complaint.state == State.CLOSED and to == State.INVESTIGATING:
        complaint.reopen_count += 1
        complaint.closed_at = None


def complaint_transition(
    *,
    complaint: Complaint,
    to: str,
    by,
    note: str = "",
    expected_state: str | None = None,
    now: datetime.datetime | None = None,
    action_plan: str = "",
    customer_notified_at: datetime.datetime | None = None,
    root_cause: str = "",
    internal_review_notes: str = "",
    problem: Problem | None = None,
    duplicate_of: Complaint | None = None,
) -> Complaint:
    """Moves the complaint to state `to`, or raises TransitionError and changes nothing.

    `expected_state` is the state the user saw (default: the state of the object passed in).
    If someone else moved the complaint since, the move is refused: two reps acting at once
    cannot both succeed.
    """
    now = now or timezone.now()
    expected = expected_state or complaint.state
    details = {
        "action_plan": action_plan,
        "customer_notified_at": customer_notified_at,
        "root_cause": root_cause,
        "internal_review_notes": internal_review_notes,
        "problem": problem,
        "duplicate_of": duplicate_of,
    }
    with transaction.atomic():
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        if locked.state != expected:
            raise TransitionError(
                _("Someone else has just moved this complaint to “%(state)s”. Reload the page and try again."),
                params={"state": locked.get_state_display()},
            )
        if to not in TRANSITIONS[locked.state]:
            raise TransitionError(
                _("A complaint that is “%(from)s” cannot move to “%(to)s”."),
                params={"from": locked.get_state_display(), "to": State(to).label if to in State.values else to},
            )
        _check_guards(locked, to, details, note, now)
        from_state = locked.state
        _apply(locked, to, details, now)
        locked.state = to
        locked._history_user = by
        locked.save()
        ComplaintTransition.objects.create(complaint=locked, from_state=from_state, to_state=to, by=by, at=now, note=note.strip())
    return locked
