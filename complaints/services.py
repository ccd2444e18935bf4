"""Write-side operations on complaints. State changes go through complaints.workflow only."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm.roles import Role
from crm.services import record_update
from notifications import events as notification_events

from . import selectors
from .models import OPEN_STATES, Complaint, ComplaintNote, Problem, Severity, SlaTarget, State
from .workflow import (
    AssignmentError,
    check_assignment,
    check_may_work,
    complaint_transition,
    field_values,
    record_first_response,
    save_changed_fields,
)

# Used only when an SLA target row is missing; the data migration writes the same values.
DEFAULT_SLA_HOURS = {
    Severity.LOW: (48, 240),
    Severity.MEDIUM: (24, 120),
    Severity.HIGH: (8, 48),
    Severity.CRITICAL: (2, 24),
}

# Stored in the transition log as data, in English like every other stored value.
AUTO_CLOSE_NOTE = "Closed automatically: resolved and not reopened within the confirmation period."

EDITABLE_FIELDS = ("channel", "category", "severity", "significant", "description", "assignee", "order", "problem")


def sla_hours(severity: str) -> tuple[int, int]:
    target = SlaTarget.objects.filter(severity=severity).first()
    if target is None:
        return DEFAULT_SLA_HOURS[Severity(severity)]
    return target.first_response_hours, target.resolution_hours


def _set_due_times(complaint: Complaint) -> None:
    first_hours, resolution_hours = sla_hours(complaint.severity)
    paused = datetime.timedelta(seconds=complaint.paused_seconds)
    complaint.first_response_due_at = complaint.received_at + datetime.timedelta(hours=first_hours) + paused
    complaint.resolution_due_at = complaint.received_at + datetime.timedelta(hours=resolution_hours) + paused


@transaction.atomic
def complaint_create(*, customer, by, data: dict, notify: bool = False, acknowledge: bool = False) -> Complaint:
    """Logs a complaint in state `new`, with its SLA due times from the severity's targets.

    Without a `number` in `data`, the complaint is numbered `CP` + its id (zero-padded).
    `notify` (a person logs it on its page, not an import): its assignee, if not `by`, is told;
    `acknowledge`: the customer's contact is sent the acknowledgment (notifications.events).
    """
    data = dict(data)
    data.setdefault("received_at", timezone.now())
    number = data.pop("number", "") or ""
    complaint = Complaint(
        customer=customer, created_by=by, number=number or f"pending-{timezone.now().timestamp()}", **data
    )
    _set_due_times(complaint)
    complaint.full_clean(exclude=["number"])
    complaint._history_user = by
    complaint.save()
    if not number:
        complaint.number = f"CP{complaint.pk:07d}"
        Complaint.objects.filter(pk=complaint.pk).update(number=complaint.number)
    if notify:
        notification_events.complaint_assigned(complaint=complaint, by=by)
    if acknowledge:
        notification_events.complaint_acknowledge(complaint=complaint)
    return complaint


def complaint_update(*, complaint: Complaint, data: dict, by, as_worker: bool = False) -> Complaint:
    """Changes the complaint's descriptive fields named in `data` (never its state, workflow fields
    or SLA flags) and returns the complaint as saved; a new severity re-times the SLA.

    The row is locked and `data` applied to it as it is now, not to the instance passed in, and
    only the fields whose value changes are saved: a stale instance cannot undo anything. When
    nothing changes nothing is saved and the history gets no entry. A change of assignee must pass
    the assignment rule (workflow.check_assignment) on the locked row, so of two reps taking the
    same complaint one wins. `as_worker`: `by` edits it from its page and must be one who may work
    it (workflow.can_work). Raises AssignmentError (a ValidationError) when refused.
    """
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable here: {sorted(unknown)}")
    with transaction.atomic():
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        before = field_values(locked)
        if as_worker:
            check_may_work(by, locked)
        if "assignee" in data:
            check_assignment(by, locked, data["assignee"])
        for field, value in data.items():
            setattr(locked, field, value)
        if locked.severity != before["severity"]:
            _set_due_times(locked)
        if field_values(locked) != before:
            locked.full_clean()
            save_changed_fields(locked, before, by=by)
            notification_events.complaint_assigned(complaint=locked, by=by, previous_assignee_id=before["assignee_id"])
    return locked


def complaint_take(*, complaint: Complaint, by) -> Complaint:
    """`by` takes the complaint: an open one that nobody works (workflow.can_take), judged on the
    locked row, so of two reps taking it at once one wins. Taking one's own changes nothing."""
    return complaint_update(complaint=complaint, data={"assignee": by}, by=by)


@transaction.atomic
def complaint_add_note(
    *, complaint: Complaint, by, body: str, visibility: str, at: datetime.datetime | None = None
) -> ComplaintNote:
    """Adds a timeline note. The first customer-facing one is the first response."""
    at = at or timezone.now()
    note = ComplaintNote(complaint=complaint, author=by, body=body.strip(), visibility=visibility, created_at=at)
    note.full_clean()
    note.save()
    if visibility == ComplaintNote.Visibility.CUSTOMER:
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        before = field_values(locked)
        record_first_response(locked, at)
        if save_changed_fields(locked, before, by=by):
            complaint.refresh_from_db()
    return note


def complaint_mark_breaches(*, now: datetime.datetime | None = None) -> dict:
    """Flags open complaints whose clock ran out. A breach is never un-flagged; paused clocks don't run.

    Each flag is one conditional UPDATE of that column alone, which waits for any row a move or an
    edit holds locked and then re-checks its condition: it writes nothing else, and the other
    writes save only their own fields, so neither undoes the other."""
    now = now or timezone.now()
    running = Complaint.objects.filter(state__in=OPEN_STATES, paused_since__isnull=True)
    first = running.filter(
        first_response_at__isnull=True, first_response_breached=False, first_response_due_at__lt=now
    ).update(first_response_breached=True)
    resolution = running.filter(resolution_breached=False, resolution_due_at__lt=now).update(resolution_breached=True)
    return {"first_response": first, "resolution": resolution}


def complaint_sla_notify(*, now: datetime.datetime | None = None) -> int:
    """Tells the assignee and the service leads once per complaint and clock that its SLA falls
    due within COMPLAINT_BREACH_WARNING_HOURS, and once that it breached (notifications.events.sla_warn)."""
    now = now or timezone.now()
    return notification_events.sla_warn(
        breaching_soon=selectors.complaints_breaching_soon(now=now),
        breached=Complaint.objects.filter(state__in=OPEN_STATES).filter(
            Q(first_response_breached=True) | Q(resolution_breached=True)
        ),
        hours=settings.COMPLAINT_BREACH_WARNING_HOURS,
        now=now,
    )


def complaint_auto_close(*, now: datetime.datetime | None = None, by=None) -> int:
    """Closes complaints resolved more than COMPLAINT_AUTO_CLOSE_DAYS ago with no reopening since."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.COMPLAINT_AUTO_CLOSE_DAYS)
    closed = 0
    for complaint in (
        Complaint.objects.filter(state=State.RESOLVED)
        .filter(Q(transitions__to_state=State.RESOLVED, transitions__at__lt=cutoff))
        .distinct()
    ):
        last = complaint.transitions.filter(to_state=State.RESOLVED).order_by("-at").first()
        if last and last.at < cutoff:
            complaint_transition(
                complaint=complaint, to=State.CLOSED, by=by, now=now, note=AUTO_CLOSE_NOTE, send_survey=True
            )
            closed += 1
    return closed


@transaction.atomic
def problem_create(*, by, data: dict) -> Problem:
    """Records a root cause that complaints can link to."""
    problem = Problem(created_by=by, **data)
    problem.full_clean()
    problem._history_user = by
    problem.save()
    return problem


@transaction.atomic
def problem_update(*, problem: Problem, data: dict, by) -> Problem:
    return record_update(problem, data=data, by=by)


@transaction.atomic
def sla_targets_update(*, forms, by) -> None:
    """Saves edited SLA targets. Complaints already logged keep the due times they were given."""
    for form in forms:
        if form.has_changed():
            target = form.save(commit=False)
            target._history_user = by
            target.save()


BULK_REASSIGN_MAX = 100  # complaints in one bulk reassignment: each is told to its new assignee


@dataclass(frozen=True)
class BulkReassigned:
    changed: int  # complaints given to the new assignee, each with one history entry and one notification
    already: int  # complaints the new assignee had already (left as they were)


def service_reps():
    """Whom complaints are given to: active service reps."""
    return get_user_model().objects.filter(groups__name=Role.SERVICE.value, is_active=True).order_by("username")


def not_open(complaints) -> list[str]:
    """The numbers of the complaints a bulk reassignment refuses: those no longer open (resolved,
    closed, rejected, duplicates keep the assignee who worked them)."""
    return [complaint.number for complaint in complaints if not complaint.is_open]


def complaints_reassign(*, complaint_ids, assignee, by) -> BulkReassigned:
    """Gives the open complaints of `complaint_ids` to `assignee` (an active service rep), all or none.

    One transaction: the rows are locked in id order; an unknown id, or a complaint that is not open
    (not_open), refuses the whole batch with the numbers at fault. Each complaint goes through the
    assignment rule (workflow.check_assignment: only an admin gives complaints to someone else) and
    saves its assignee alone, with one history entry naming `by`; its new assignee is told, as when
    one complaint is reassigned (notifications.events.complaint_assigned: in the app, and by e-mail
    once this commits unless they turned that kind off). Raises AssignmentError when refused.
    """
    ids = sorted({int(pk) for pk in complaint_ids})
    if not ids:
        raise AssignmentError(_("No complaint is selected."))
    if len(ids) > BULK_REASSIGN_MAX:
        raise AssignmentError(
            _("At most %(max)s complaints are reassigned at once."), params={"max": BULK_REASSIGN_MAX}
        )
    if assignee is None or not service_reps().filter(pk=assignee.pk).exists():
        raise AssignmentError(_("Complaints can only be given to an active service rep."))
    with transaction.atomic():
        locked = list(
            Complaint.objects.select_for_update(of=("self",))
            .select_related("customer", "assignee")
            .filter(pk__in=ids)
            .order_by("pk")
        )
        if len(locked) < len(ids):
            missing = len(ids) - len(locked)
            raise AssignmentError(
                ngettext(
                    "%(count)s of the selected complaints no longer exists; nothing was reassigned.",
                    "%(count)s of the selected complaints no longer exist; nothing was reassigned.",
                    missing,
                )
                % {"count": missing}
            )
        refused = not_open(locked)
        if refused:
            raise AssignmentError(
                _("Only open complaints are reassigned, and these are not: %(numbers)s. Nothing was reassigned."),
                params={"numbers": ", ".join(refused)},
            )
        changed = 0
        for complaint in locked:
            before = field_values(complaint)
            check_assignment(by, complaint, assignee)
            complaint.assignee = assignee
            if save_changed_fields(complaint, before, by=by):
                changed += 1
                notification_events.complaint_assigned(
                    complaint=complaint, by=by, previous_assignee_id=before["assignee_id"]
                )
    return BulkReassigned(changed=changed, already=len(locked) - changed)
