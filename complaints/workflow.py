"""The complaint state machine of DESIGN section 4, and who may work a complaint.

Every state change goes through `complaint_transition`: it locks the row, checks that nobody
moved the complaint meanwhile, checks the move is allowed and its guards hold, applies the
side effects (SLA clock, timestamps) and logs the transition, all in one transaction. Views,
admin, imports and tasks have no other way to change `Complaint.state`. An import records the
moves a complaint made in the system it comes from (RECORDED_TRANSITIONS) through it too.

Every write to a complaint, here and in complaints.services, changes the row it has locked
(`select_for_update` in a transaction) and saves only the fields it changed
(`save_changed_fields`): a write never carries back a value it read earlier, so an edit cannot
undo a move, and a move cannot undo an edit or an SLA flag.

Who works a complaint is one rule (`can_work`, `can_take`, `check_assignment`) that the pages,
Edit, Take and the assignment a move makes all obey: the assignee works it; an open complaint
that nobody works can be taken by a service rep; only an admin gives a complaint to someone else.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications import events as notification_events

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

# Moves made in another system that an import records (`complaint_transition(recorded=True)`): a
# complaints file's status is new or closed (DESIGN section 7), so a complaint closed there arrives
# closed; its earlier history stays in that system.
RECORDED_TRANSITIONS: dict[str, tuple[str, ...]] = {
    State.NEW: (State.CLOSED,),
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


# Moves that end the normal path: the page shows them apart and asks before making them.
CONFIRM_MESSAGES = {
    State.REJECTED: _("Reject complaint %(number)s? A rejected complaint cannot be reopened."),
    State.DUPLICATE: _("Mark complaint %(number)s as a duplicate? A duplicate cannot be reopened."),
    State.CLOSED: _("Close complaint %(number)s? Only a reopening, with its reason, brings it back."),
}

# "Customer notified at" is entered to the second (core.widgets.DateTimeInput) on a clock that
# may run a little apart from the server's, often typed to the minute: a time this close to the
# complaint's arrival or to now is taken as that moment.
NOTIFIED_TOLERANCE = datetime.timedelta(minutes=1)


class ComplaintRefused(ValidationError):
    """A refused write to a complaint; its message is meant for the user."""


class TransitionError(ComplaintRefused):
    """A refused move."""


class AssignmentError(ComplaintRefused):
    """A refused change of who works the complaint, or work by someone who may not do it."""


def can_work(user, complaint: Complaint) -> bool:
    """The assignee works a complaint; one that nobody works, any service rep (who takes it by
    working it); admins work any."""
    if user is None:
        return False
    if user.is_superuser:
        return True
    return user.has_perm("complaints.work_complaint") and complaint.assignee_id in (None, user.pk)


def can_take(user, complaint: Complaint) -> bool:
    """An open complaint that nobody works goes to the service rep (or admin) who takes it."""
    return (
        user is not None
        and complaint.is_open
        and complaint.assignee_id is None
        and user.has_perm("complaints.work_complaint")
    )


def can_reassign(user) -> bool:
    """Only an admin gives a complaint to someone else, takes it from its assignee or leaves it with nobody."""
    return user is not None and user.is_superuser


def check_assignment(user, complaint: Complaint, assignee) -> None:
    """Raises AssignmentError unless `user` may make `assignee` (a user, an id or None) the one who
    works `complaint` as it is now: keeping it as it is, taking it (can_take) or, for an admin, any change."""
    new_id = getattr(assignee, "pk", assignee)
    if new_id == complaint.assignee_id or can_reassign(user):
        return
    if user is not None and new_id == user.pk and can_take(user, complaint):
        return
    if complaint.assignee_id not in (None, getattr(user, "pk", None)):
        raise AssignmentError(
            _("%(assignee)s works this complaint now: only an admin can give it to someone else."),
            params={"assignee": complaint.assignee},
        )
    if user is not None and new_id == user.pk:  # taking it
        if not user.has_perm("complaints.work_complaint"):
            raise AssignmentError(_("Only service reps take complaints."))
        raise AssignmentError(_("Only an open complaint can be taken."))
    raise AssignmentError(_("Only an admin can give a complaint to someone else or leave it with nobody."))


def check_may_work(user, complaint: Complaint) -> None:
    """Raises AssignmentError unless `user` may work `complaint` as it is now (can_work)."""
    if can_work(user, complaint):
        return
    if complaint.assignee_id is not None:
        raise AssignmentError(
            _("%(assignee)s works this complaint now. Only the assignee (or an admin) works it."),
            params={"assignee": complaint.assignee},
        )
    raise AssignmentError(_("Only service reps work complaints."))


def field_values(complaint: Complaint) -> dict:
    """The complaint's stored fields as the instance holds them (foreign keys as ids)."""
    return {field.attname: getattr(complaint, field.attname) for field in complaint._meta.concrete_fields}


def save_changed_fields(complaint: Complaint, before: dict, *, by, in_last_entry: bool = False) -> list[str]:
    """Saves the fields of a locked `complaint` that differ from `before` (field_values taken after
    locking), with a history entry naming `by`; returns their names. Nothing changed: no save, no entry.

    `in_last_entry`: the change goes into the complaint's latest history entry instead of one of its
    own (an import that created or changed the complaint in this transaction writes one entry).
    """
    changed = [
        field.name
        for field in complaint._meta.concrete_fields
        if getattr(complaint, field.attname) != before[field.attname]
    ]
    if not changed:
        return changed
    complaint._history_user = by
    if not in_last_entry:
        complaint.save(update_fields=[*changed, "updated_at"])
        return changed
    complaint.skip_history_when_saving = True
    try:
        complaint.save(update_fields=[*changed, "updated_at"])
    finally:
        del complaint.skip_history_when_saving
    entries = Complaint.history.model.objects.filter(id=complaint.pk)
    tracked = {field.attname for field in Complaint.history.model._meta.concrete_fields}
    values = {field.attname: getattr(complaint, field.attname) for field in map(complaint._meta.get_field, changed)}
    entries.filter(history_id=entries.aggregate(last=Max("history_id"))["last"]).update(
        **{name: value for name, value in values.items() if name in tracked}
    )
    return changed


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


def required_details(complaint: Complaint, to: str) -> dict:
    """The details the move to `to` needs that the complaint does not hold yet, each with the
    message that asks for it. The transition forms mark these fields required with the same messages."""
    needs = {}
    if to == State.ACTION_COMMUNICATED:
        needs["action_plan"] = _("Write the action plan the customer was told before moving on.")
        needs["customer_notified_at"] = _("Record when the customer was notified of the action plan.")
    elif to == State.RESOLVED:
        if not (complaint.root_cause or "").strip():
            needs["root_cause"] = _("Record the root cause before resolving, so the mistake is not repeated.")
        if complaint.significant and not (complaint.internal_review_notes or "").strip():
            needs["internal_review_notes"] = _(
                "A significant complaint needs internal review notes before it can be resolved."
            )
    elif to == State.DUPLICATE:
        needs["duplicate_of"] = _("Name the original complaint this one duplicates.")
    elif to == State.REJECTED:
        needs["note"] = _("Give the reason for rejecting the complaint.")
    elif complaint.state == State.CLOSED and to == State.INVESTIGATING:
        needs["note"] = _("Give the reason for reopening the complaint.")
    return needs


def _at_input_precision(moment: datetime.datetime) -> datetime.datetime:
    return moment.replace(microsecond=0)


def _local_text(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def _notified_error(complaint: Complaint, notified: datetime.datetime, now: datetime.datetime):
    """Why `notified` cannot be when the customer heard the action plan, or None. Compared at the
    input's precision (the second) with NOTIFIED_TOLERANCE either side."""
    if notified > _at_input_precision(now) + NOTIFIED_TOLERANCE:
        return _("The customer cannot have been notified in the future: %(notified)s is later than now (%(now)s).") % {
            "notified": _local_text(notified),
            "now": _local_text(now),
        }
    if notified < _at_input_precision(complaint.received_at) - NOTIFIED_TOLERANCE:
        return _(
            "The customer cannot have been notified before the complaint arrived: %(notified)s is earlier "
            "than its arrival (%(received)s)."
        ) % {"notified": _local_text(notified), "received": _local_text(complaint.received_at)}
    return None


def _check_guards(complaint: Complaint, to: str, details: dict, note: str, now) -> None:
    errors = {}
    given = {**details, "note": note}
    for name, message in required_details(complaint, to).items():
        value = given.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            errors[name] = message
    notified = details.get("customer_notified_at")
    if to == State.ACTION_COMMUNICATED and notified is not None:
        if problem := _notified_error(complaint, notified, now):
            errors["customer_notified_at"] = problem
    original = details.get("duplicate_of")
    if to == State.DUPLICATE and original is not None:
        if original.pk == complaint.pk:
            errors["duplicate_of"] = _("A complaint cannot duplicate itself.")
        elif original.state == State.DUPLICATE:
            errors["duplicate_of"] = _("Point to the original complaint, not to another duplicate.")
    if errors:
        raise TransitionError(errors)


def _apply(complaint: Complaint, to: str, details: dict, now) -> None:
    if complaint.state == State.AWAITING_CUSTOMER:
        _end_pause(complaint, now)
    if to == State.AWAITING_CUSTOMER:
        complaint.paused_since = now
    elif to == State.ACTION_COMMUNICATED:
        complaint.action_plan = details["action_plan"].strip()
        # Within the tolerance of the arrival or of now, the time is that moment.
        complaint.customer_notified_at = min(max(details["customer_notified_at"], complaint.received_at), now)
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
    as_worker: bool = False,
    recorded: bool = False,
    in_last_entry: bool = False,
    email_customer: bool = False,
    send_survey: bool = False,
) -> Complaint:
    """Moves the complaint to state `to`, or raises TransitionError and changes nothing.

    `expected_state` is the state the user saw (default: the state of the object passed in).
    If someone else moved the complaint since, the move is refused: two reps acting at once
    cannot both succeed. Only the fields the move changes are written.

    `as_worker`: `by` works the complaint (a rep on its page, not a task or an import). The move
    is refused with AssignmentError unless `by` may work it as it is now (can_work, on the locked
    row), and a complaint that nobody works becomes theirs when they may take it (can_take).

    `recorded`: the move was made in another system and an import records it: it must be one of
    RECORDED_TRANSITIONS instead of TRANSITIONS; guards, side effects and the log are the same.
    `in_last_entry`: see save_changed_fields (the import's own history entry says it).
    `email_customer` (to action_communicated): the action plan is e-mailed to the customer's contact
    (written to the outbox in this transaction) and the customer counts as notified now.
    A reopening by a person (`as_worker`) is told to the assignee and the service leads.
    `send_survey` (to closed): the customer's contact is e-mailed the satisfaction survey's link,
    once per complaint (notifications.surveys).
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
    if email_customer and to == State.ACTION_COMMUNICATED:
        details["customer_notified_at"] = now
    with transaction.atomic():
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        before = field_values(locked)
        if as_worker:
            check_may_work(by, locked)
        if locked.state != expected:
            raise TransitionError(
                _("Someone else has just moved this complaint to “%(state)s”. Reload the page and try again."),
                params={"state": locked.get_state_display()},
            )
        allowed = RECORDED_TRANSITIONS.get(locked.state, ()) if recorded else TRANSITIONS[locked.state]
        if to not in allowed:
            raise TransitionError(
                _("A complaint that is “%(from)s” cannot move to “%(to)s”."),
                params={"from": locked.get_state_display(), "to": State(to).label if to in State.values else to},
            )
        _check_guards(locked, to, details, note, now)
        from_state = locked.state
        takes = as_worker and can_take(by, locked)  # judged on the open complaint the mover found
        _apply(locked, to, details, now)
        locked.state = to
        if as_worker and locked.assignee_id is None and (takes or can_take(by, locked)):
            locked.assignee = by
        save_changed_fields(locked, before, by=by, in_last_entry=in_last_entry)
        ComplaintTransition.objects.create(
            complaint=locked, from_state=from_state, to_state=to, by=by, at=now, note=note.strip()
        )
        if email_customer and to == State.ACTION_COMMUNICATED:
            if not notification_events.complaint_send_action_plan(complaint=locked):
                raise TransitionError(
                    {"email_customer": _("The customer has no e-mail address: record the phone call instead.")}
                )
        if as_worker and from_state == State.CLOSED and to == State.INVESTIGATING:
            notification_events.complaint_reopened(complaint=locked, by=by, reason=note.strip())
        if send_survey and to == State.CLOSED:
            notification_events.complaint_send_survey(complaint=locked)
    return locked
