"""Reading follow-ups: My tasks (and the team's), a customer's, a portfolio's due this week."""

import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import ALERT_SOURCES, State, Task, due_q, effective_due
from .rules import visible_tasks

OVERDUE, TODAY, WEEK, LATER = "overdue", "today", "week", "later"
LISTED = 50  # follow-ups per page of My tasks


def week_end(today: datetime.date) -> datetime.date:
    """The Sunday of `today`'s week (weeks start on Monday, as the portfolio's)."""
    return today + datetime.timedelta(days=6 - today.weekday())


@dataclass(frozen=True)
class TaskFilters:
    state: str = State.OPEN  # open: to act on (snoozed ones apart); snoozed: only those; done
    due: str = ""  # overdue, today, week (by Sunday, overdue ones included), later
    assignee: object = None  # a user; the team view only
    team: bool = False  # every follow-up the user may see, not only those assigned to them


def _due_filter(due: str, today: datetime.date) -> Q:
    if due == OVERDUE:
        return Q(next_due_on__lt=today)
    if due == TODAY:
        return Q(next_due_on=today)
    if due == WEEK:
        return Q(next_due_on__lte=week_end(today))
    if due == LATER:
        return Q(next_due_on__gt=week_end(today))
    return Q()


def task_list(*, user, filters: TaskFilters, today: datetime.date | None = None) -> tuple[QuerySet, QuerySet]:
    """(to act on, snoozed) for My tasks: the first, overdue first then by the day they are due
    (a snoozed follow-up whose day has come among them, at that day); the second, the snoozed ones
    whose day is still to come, by that day. With state "done": the done ones, last completed first,
    and no second list. Both carry `next_due_on` and their customer, complaint and assignee."""
    today = today or timezone.localdate()
    # One's own follow-ups are always one's to see (rules.visible_tasks).
    tasks = visible_tasks(user) if filters.team else Task.objects.filter(assignee=user)
    if filters.team and filters.assignee is not None:
        tasks = tasks.filter(assignee=filters.assignee)
    tasks = tasks.annotate(next_due_on=effective_due()).select_related("customer", "complaint", "assignee")
    tasks = tasks.filter(_due_filter(filters.due, today))
    if filters.state == State.DONE:
        return tasks.filter(state=State.DONE).order_by("-completed_at", "-pk"), Task.objects.none()
    snoozed = tasks.filter(state=State.SNOOZED, snoozed_until__gt=today).order_by("snoozed_until", "pk")
    if filters.state == State.SNOOZED:
        return snoozed, Task.objects.none()
    active = tasks.filter(Q(state=State.OPEN) | Q(state=State.SNOOZED, snoozed_until__lte=today))
    return active.order_by("next_due_on", "customer__code", "pk"), snoozed


def customer_tasks(customer) -> dict:
    """The customer page's section: its follow-ups not done, the next due first."""
    tasks = (
        Task.objects.filter(customer=customer)
        .exclude(state=State.DONE)
        .annotate(next_due_on=effective_due())
        .select_related("assignee", "complaint")
        .order_by("next_due_on", "pk")
    )
    return {"customer_tasks": list(tasks[:20]), "tasks_today": timezone.localdate()}


def complaint_tasks(complaint) -> list[Task]:
    """A complaint's follow-ups not done, the next due first."""
    return list(
        Task.objects.filter(complaint=complaint)
        .exclude(state=State.DONE)
        .annotate(next_due_on=effective_due())
        .select_related("assignee")
        .order_by("next_due_on", "pk")[:20]
    )


def due_this_week(*, assignee, today: datetime.date | None = None, limit: int = 50) -> tuple[int, list[Task]]:
    """Follow-ups assigned to `assignee` to act on by the end of this week (overdue ones included),
    overdue first then by due day: how many, and the first `limit` (two queries)."""
    today = today or timezone.localdate()
    due = Task.objects.filter(due_q(week_end(today)), assignee=assignee).exclude(
        state=State.SNOOZED, snoozed_until__gt=today
    )
    due = due.annotate(next_due_on=effective_due()).order_by("next_due_on", "customer__code", "pk")
    count = due.count()
    return count, list(due.select_related("customer", "complaint")[:limit]) if count else []


def open_alert_tasks(*, customer_ids) -> dict[tuple[int, str], Task]:
    """(customer id, alert) -> the follow-up not done that a portfolio alert made, for those customers (one query)."""
    if not customer_ids:
        return {}
    found = Task.objects.filter(customer_id__in=list(customer_ids), source__in=ALERT_SOURCES).exclude(state=State.DONE)
    return {(task.customer_id, task.source): task for task in found}
