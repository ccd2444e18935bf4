"""Write-side operations on complaints. State changes go through complaints.workflow only."""
import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm.services import record_update

from .models import OPEN_STATES, Complaint, ComplaintNote, Problem, Severity, SlaTarget, State
from .workflow import complaint_transition, record_first_response

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
def complaint_create(*, customer, by, data: dict) -> Complaint:
    """Logs a complaint in state `new`, with its SLA due times from the severity's targets.

    Without a `number` in `data`, the complaint is numbered `CP` + its id (zero-padded).
    """
    data = dict(data)
    data.setdefault("received_at", timezone.now())
    number = data.pop("number", "") or ""
    complaint = Complaint(customer=customer, created_by=by, number=number or f"pending-{timezone.now().timestamp()}", **data)
    _set_due_times(complaint)
    complaint.full_clean(exclude=["number"])
    complaint._history_user = by
    complaint.save()
    if not number:
        complaint.number = f"CP{complaint.pk:07d}"
        Complaint.objects.filter(pk=complaint.pk).update(number=complaint.number)
    return complaint


@transaction.atomic
def complaint_update(*, complaint: Complaint, data: dict, by) -> Complaint:
    """Changes the complaint's descriptive fields (never its state); a new severity re-times the SLA."""
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable here: {sorted(unknown)}")
    old_severity = complaint.severity
    for field, value in data.items():
        setattr(complaint, field, value)
    if complaint.severity != old_severity:
        _set_due_times(complaint)
    complaint.full_clean()
    complaint._history_user = by
    complaint.save()
    return complaint


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
        if locked.first_response_at is None:
            record_first_response(locked, at)
            locked._history_user = by
            locked.save(
                update_fields=["first_response_at", "first_response_seconds", "first_response_breached", "updated_at"]
            )
            complaint.refresh_from_db()
    return note


def complaint_mark_breaches(*, now: datetime.datetime | None = None) -> dict:
    """Flags open complaints whose clock ran out. A breach is never un-flagged; paused clocks don't run."""
    now = now or timezone.now()
    running = Complaint.objects.filter(state__in=OPEN_STATES, paused_since__isnull=True)
    first = running.filter(
        first_response_at__isnull=True, first_response_breached=False, first_response_due_at__lt=now
    ).update(first_response_breached=True)
    resolution = running.filter(resolution_breached=False, resolution_due_at__lt=now).update(resolution_breached=True)
    return {"first_response": first, "resolution": resolution}


def complaint_auto_close(*, now: datetime.datetime | None = None, by=None) -> int:
    """Closes complaints resolved more than COMPLAINT_AUTO_CLOSE_DAYS ago with no reopening since."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.COMPLAINT_AUTO_CLOSE_DAYS)
    closed = 0
    for complaint in Complaint.objects.filter(state=State.RESOLVED).filter(
        Q(transitions__to_state=State.RESOLVED, transitions__at__lt=cutoff)
    ).distinct():
        last = complaint.transitions.filter(to_state=State.RESOLVED).order_by("-at").first()
        if last and last.at < cutoff:
            complaint_transition(complaint=complaint, to=State.CLOSED, by=by, now=now, note=AUTO_CLOSE_NOTE)
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
