"""Writing follow-ups: create, complete, snooze, reassign (one or many at once, all or nothing).

Every change locks the rows it changes (select_for_update) and saves only the fields it means to
change, so two people acting at once never undo each other's work; each change leaves a history
record (django-simple-history).
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.models import Interaction
from notifications.services import notify

from .kinds import TASK_DUE
from .models import ALERT_SOURCES, NOTE_MAX, Source, State, Task, due_q, effective_due
from .rules import REASSIGN, WORK, assignable_users, can_work_task

COMPLETE, SNOOZE = "complete", "snooze"
ACTIONS = (COMPLETE, SNOOZE, REASSIGN)


def short_note(text: str) -> str:
    """An interaction's summary as a follow-up's note: on one line, at most NOTE_MAX characters."""
    return Truncator(" ".join((text or "").split())).chars(NOTE_MAX)


def task_create(
    *,
    customer,
    assignee,
    due_on: datetime.date,
    note: str = "",
    by=None,
    source: str = Source.CUSTOMER,
    complaint=None,
    interaction=None,
) -> Task:
    """A new open follow-up. A portfolio alert (neglected, declining) makes at most one not done per
    customer: a second one is refused (ValidationError), even when two are sent at the same moment
    (the database's unique constraint decides)."""
    task = Task(
        customer=customer,
        complaint=complaint,
        interaction=interaction,
        source=source,
        assignee=assignee,
        created_by=by,
        due_on=due_on,
        note=Truncator((note or "").strip()).chars(NOTE_MAX),
    )
    if source in ALERT_SOURCES:
        existing = Task.objects.filter(customer=customer, source=source).exclude(state=State.DONE).first()
        if existing is not None:
            raise ValidationError(_alert_taken(existing), code="duplicate")
    try:
        with transaction.atomic():
            task.save()
    except IntegrityError as error:
        existing = Task.objects.filter(customer=customer, source=source).exclude(state=State.DONE).first()
        if existing is None:
            raise
        raise ValidationError(_alert_taken(existing), code="duplicate") from error
    return task


def _alert_taken(existing: Task) -> str:
    return _("This alert already has an open follow-up for %(customer)s, due %(due)s.") % {
        "customer": existing.customer.name,
        "due": date_format(existing.next_due),
    }


def task_from_interaction(*, interaction) -> Task | None:
    """The follow-up an interaction's "next follow-up" date asks for: made once per interaction; a
    changed date moves the open one's due date. Assigned to the customer's owner, else to the
    interaction's author; None when the interaction names no date."""
    if interaction.next_follow_up is None:
        return None
    with transaction.atomic():
        existing = Task.objects.select_for_update().filter(interaction=interaction).first()
        if existing is not None:
            if existing.state != State.DONE and existing.due_on != interaction.next_follow_up:
                existing.due_on = interaction.next_follow_up
                existing.save(update_fields=["due_on"])
            return existing
        customer = interaction.customer
        return task_create(
            customer=customer,
            assignee=customer.owner if customer.owner_id else interaction.by,
            due_on=interaction.next_follow_up,
            note=short_note(interaction.summary),
            by=interaction.by,
            source=Source.INTERACTION,
            interaction=interaction,
        )


class BulkRefused(Exception):
    """The whole bulk action is refused: nothing changed. `message` says why, to the user."""

    def __init__(self, message: str, *, forbidden: bool = False):
        super().__init__(message)
        self.message = message
        self.forbidden = forbidden


def _locked(*, tasks, ids: list[int], user, action: str) -> list[Task]:
    """The chosen follow-ups, locked, in id order; refuses all if one is missing or not the user's."""
    wanted = sorted(set(ids))
    if not wanted:
        raise BulkRefused(_("Choose at least one follow-up."))
    found = list(
        tasks.filter(pk__in=wanted)
        .select_for_update(of=("self",))
        .select_related("customer", "complaint")
        .order_by("pk")
    )
    if len(found) != len(wanted):
        missing = len(wanted) - len(found)
        raise BulkRefused(
            ngettext(
                "%(count)d of the chosen follow-ups does not exist or is not yours: nothing was changed.",
                "%(count)d of the chosen follow-ups do not exist or are not yours: nothing was changed.",
                missing,
            )
            % {"count": missing}
        )
    refused = [task for task in found if not can_work_task(user, task, REASSIGN if action == REASSIGN else WORK)]
    if refused:
        raise BulkRefused(_("You may not do this with follow-ups that are not yours."), forbidden=True)
    return found


def tasks_bulk(
    *, tasks, ids: list[int], user, action: str, until: datetime.date | None = None, assignee=None, now=None
) -> tuple[int, int]:
    """Completes, snoozes (until a date) or reassigns the follow-ups `ids` among `tasks` (those the
    user may see), all or none: raises BulkRefused and changes nothing when one of them is missing,
    not the user's, or cannot take the action. Returns (changed, unchanged): completing a follow-up
    already done changes nothing, nor does giving one to its assignee again."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    if action not in ACTIONS:
        raise BulkRefused(_("Choose what to do with the chosen follow-ups."))
    if action == SNOOZE and (until is None or until <= today):
        raise BulkRefused(_("Snooze until a day after today."))
    if action == REASSIGN and (assignee is None or not assignable_users().filter(pk=assignee.pk).exists()):
        raise BulkRefused(_("Choose a sales or service rep to give the follow-ups to."))
    with transaction.atomic():
        found = _locked(tasks=tasks, ids=ids, user=user, action=action)
        if action == SNOOZE:
            done = [task for task in found if task.state == State.DONE]
            if done:
                raise BulkRefused(
                    ngettext(
                        "%(count)d of the chosen follow-ups is done already and cannot be snoozed: nothing was changed.",
                        "%(count)d of the chosen follow-ups are done already and cannot be snoozed: nothing was changed.",
                        len(done),
                    )
                    % {"count": len(done)}
                )
        changed = 0
        for task in found:
            changed += _apply(task, action=action, user=user, until=until, assignee=assignee, now=now)
    return changed, len(found) - changed


def _apply(task: Task, *, action, user, until, assignee, now) -> bool:
    task._change_reason = action
    task._history_user = user
    if action == COMPLETE:
        if task.state == State.DONE:
            return False
        task.state, task.completed_at, task.completed_by = State.DONE, now, user
        task.save(update_fields=["state", "completed_at", "completed_by"])
    elif action == SNOOZE:
        task.state, task.snoozed_until = State.SNOOZED, until
        task.save(update_fields=["state", "snoozed_until"])
    else:
        if task.assignee_id == assignee.pk:
            return False
        task.assignee = assignee
        task.save(update_fields=["assignee"])
    return True


def tasks_remind_due(*, today: datetime.date | None = None) -> int:
    """Tells each assignee, once per follow-up and due date, that a follow-up has come due (in the
    app, and by e-mail in their language unless they turned "task due" off); the date reminded of is
    kept on the follow-up, so a second sweep tells nobody again, and a snoozed follow-up is told of
    again when its snooze's date comes. Returns how many reminders were written."""
    today = today or timezone.localdate()
    told = 0
    due = (
        Task.objects.filter(due_q(today), assignee__isnull=False)
        .annotate(next_due_on=effective_due())
        .filter(Q(reminded_for__isnull=True) | Q(reminded_for__lt=F("next_due_on")))
    )
    ids = list(due.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), 500):
        with transaction.atomic():
            batch = (
                Task.objects.filter(pk__in=ids[start : start + 500])
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("customer", "assignee")
                .order_by("pk")
            )
            for task in batch:
                when = task.next_due
                if (
                    task.state == State.DONE
                    or task.assignee is None
                    or (task.reminded_for and task.reminded_for >= when)
                ):
                    continue  # changed since it was found
                told += len(
                    notify(
                        recipients=[task.assignee],
                        kind=TASK_DUE,
                        args={"customer": task.customer.name, "due": when.isoformat()},
                        link=task.get_absolute_url(),
                        key=f"task:{task.pk}:{when.isoformat()}",
                        context={"task": task, "note": task.note},
                    )
                )
                Task.objects.filter(pk=task.pk).update(reminded_for=when)
    return told


def tasks_from_follow_ups(*, batch: int = 2000) -> int:
    """A follow-up for every interaction whose next follow-up date has none yet, as the data
    migration made them (for rows written without the save signal, such as a bulk seed or import):
    open when no later interaction with the customer answered it (assigned to the customer's owner,
    else the author; one already overdue counts as reminded of), else done. Returns how many."""
    now = timezone.now()
    today = timezone.localdate(now)
    later = Interaction.objects.filter(customer_id=OuterRef("customer_id"), occurred_on__gt=OuterRef("occurred_on"))
    dated = (
        Interaction.objects.filter(next_follow_up__isnull=False)
        .exclude(Exists(Task.objects.filter(interaction_id=OuterRef("pk"))))
        .annotate(answered=Exists(later))
        .values_list("pk", "customer_id", "customer__owner_id", "by_id", "next_follow_up", "summary", "answered")
        .order_by("pk")
    )
    made, rows = 0, []
    for pk, customer_id, owner_id, by_id, due, summary, answered in dated.iterator(chunk_size=batch):
        rows.append(
            Task(
                customer_id=customer_id,
                interaction_id=pk,
                source=Source.INTERACTION,
                assignee_id=owner_id or by_id,
                created_by_id=by_id,
                due_on=due,
                note=short_note(summary),
                state=State.DONE if answered else State.OPEN,
                completed_at=now if answered else None,
                reminded_for=due if not answered and due < today else None,
            )
        )
        if len(rows) >= batch:
            made += len(Task.objects.bulk_create(rows))
            rows = []
    return made + len(Task.objects.bulk_create(rows))
