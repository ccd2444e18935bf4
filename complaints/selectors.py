"""Read-side queries for complaints: the service queue and the complaint KPIs, computed in SQL."""

import datetime
import math
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import (
    Avg,
    BooleanField,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.utils import timezone

from crm.models import Order, Survey

from .models import OPEN_STATES, Complaint, State


class Tab:
    MINE = "mine"
    UNASSIGNED = "unassigned"
    BREACHING = "breaching"
    OPEN = "open"
    ALL = "all"


TABS = (Tab.MINE, Tab.UNASSIGNED, Tab.BREACHING, Tab.OPEN, Tab.ALL)

# Rejected and duplicate complaints are not complaints to measure.
NOT_MEASURED = (State.REJECTED, State.DUPLICATE)

RECURRENCE_WINDOW = datetime.timedelta(days=90)


def complaints_with_recurrence(complaints: QuerySet[Complaint]) -> QuerySet[Complaint]:
    """`complaints`, each with `recurrence`: its problem already had another complaint received in the
    90 days before it (DESIGN section 4). Rejected and duplicate complaints are not measured: they
    neither recur nor make another complaint a recurrence. The one definition: the recurrence rate
    KPI and the problem page both read it. One subquery per row, in SQL.
    """
    earlier_on_same_problem = Complaint.objects.filter(
        problem=OuterRef("problem"),
        received_at__lt=OuterRef("received_at"),
        received_at__gte=ExpressionWrapper(OuterRef("received_at") - RECURRENCE_WINDOW, output_field=DateTimeField()),
    ).exclude(state__in=NOT_MEASURED)
    recurs = Q(problem__isnull=False) & ~Q(state__in=NOT_MEASURED) & Q(Exists(earlier_on_same_problem))
    return complaints.annotate(recurrence=ExpressionWrapper(recurs, output_field=BooleanField()))


def complaint_list() -> QuerySet[Complaint]:
    return Complaint.objects.select_related("customer", "assignee", "problem")


def customer_complaints(customer, *, rows: int = 20) -> dict:
    """The customer page's complaints section (registered into crm.extensions by ComplaintsConfig):
    the latest `rows` complaints and how many there are."""
    return {
        "complaints": customer.complaints.select_related("assignee")[:rows],
        "complaint_count": customer.complaints.count(),
    }


def _warning_window(now: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    return now, now + datetime.timedelta(hours=settings.COMPLAINT_BREACH_WARNING_HOURS)


def _soon_q(now: datetime.datetime) -> Q:
    start, end = _warning_window(now)
    first = Q(
        first_response_at__isnull=True,
        first_response_breached=False,
        first_response_due_at__gt=start,
        first_response_due_at__lte=end,
    )
    resolution = Q(resolution_breached=False, resolution_due_at__gt=start, resolution_due_at__lte=end)
    return Q(state__in=OPEN_STATES, paused_since__isnull=True) & (first | resolution)


def complaints_breaching_soon(*, now: datetime.datetime | None = None) -> QuerySet[Complaint]:
    """Open, running (not paused) complaints whose first response or resolution falls due within the warning window."""
    return complaint_list().filter(_soon_q(now or timezone.now())).order_by("resolution_due_at")


def complaint_queue(*, user, tab: str, now: datetime.datetime | None = None) -> QuerySet[Complaint]:
    """The service queue's tabs: mine, unassigned, breaching (soon or already), all open, all."""
    now = now or timezone.now()
    complaints = complaint_list()
    if tab == Tab.ALL:
        return complaints
    complaints = complaints.filter(state__in=OPEN_STATES)
    if tab == Tab.MINE:
        return complaints.filter(assignee=user)
    if tab == Tab.UNASSIGNED:
        return complaints.filter(assignee__isnull=True)
    if tab == Tab.BREACHING:
        breached = Q(first_response_breached=True) | Q(resolution_breached=True)
        return complaints.filter(breached | _soon_q(now)).order_by("resolution_due_at")
    return complaints


def percentile(queryset: QuerySet, field: str, fraction: float) -> float | None:
    """Linear-interpolated percentile of a numeric column, found by the database (ORDER BY, OFFSET).

    fraction 0.5 is the usual median (mean of the two middle values when n is even).
    """
    values = queryset.exclude(**{f"{field}__isnull": True})
    n = values.count()
    if n == 0:
        return None
    position = fraction * (n - 1)
    low, high = math.floor(position), math.ceil(position)
    pair = list(values.order_by(field).values_list(field, flat=True)[low : high + 1])
    return pair[0] + (pair[-1] - pair[0]) * (position - low)


def _pct(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _hours(seconds: float | None) -> Decimal | None:
    if seconds is None:
        return None
    return (Decimal(seconds) / 3600).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def complaint_kpis(*, start: datetime.datetime, end: datetime.datetime, now: datetime.datetime | None = None) -> dict:
    """The complaint KPIs for complaints received in [start, end), and the backlog as of `now`.

    - first response: first customer-facing note (or the customer notification of the action
      plan) minus received_at, minus paused time; median and 90th percentile, in hours.
    - resolution: first move to resolved minus received_at minus time paused awaiting the customer.
    - SLA compliance %: among complaints whose outcome is known (resolved, or breached), those
      that breached neither the first-response nor the resolution target.
    - backlog by age: open complaints now, by days since received: [0,1), [1,3), [3,7), 7+.
    - unresolved customer-days: the days all open complaints have been open, summed.
    - reopen rate %: resolved complaints that were reopened at least once.
    - recurrence rate %: complaints whose problem already had another complaint received in the
      90 days before this one (complaints_with_recurrence).
    - complaints per 100 orders: complaints received / orders placed (counted ones) in the period.
    - post-complaint satisfaction: mean score of surveys linked to these complaints.
    Rejected and duplicate complaints are not measured.
    """
    now = now or timezone.now()
    received = Complaint.objects.filter(received_at__gte=start, received_at__lt=end).exclude(state__in=NOT_MEASURED)

    breached = Q(first_response_breached=True) | Q(resolution_breached=True)
    decided = Q(resolved_at__isnull=False) | breached
    counts = complaints_with_recurrence(received).aggregate(
        total=Count("id"),
        decided=Count("id", filter=decided),
        compliant=Count("id", filter=decided & ~breached),
        resolved=Count("id", filter=Q(resolved_at__isnull=False)),
        reopened=Count("id", filter=Q(resolved_at__isnull=False, reopen_count__gt=0)),
        recurring=Count("id", filter=Q(recurrence=True)),
    )

    open_now = Complaint.objects.filter(state__in=OPEN_STATES, received_at__lte=now)
    day = datetime.timedelta(days=1)
    backlog = open_now.aggregate(
        d0_1=Count("id", filter=Q(received_at__gt=now - day)),
        d1_3=Count("id", filter=Q(received_at__lte=now - day, received_at__gt=now - 3 * day)),
        d3_7=Count("id", filter=Q(received_at__lte=now - 3 * day, received_at__gt=now - 7 * day)),
        d7_plus=Count("id", filter=Q(received_at__lte=now - 7 * day)),
        open_for=Sum(ExpressionWrapper(Value(now) - F("received_at"), output_field=DurationField())),
    )
    open_for = backlog.pop("open_for") or datetime.timedelta(0)

    orders = Order.objects.filter(
        ordered_on__gte=timezone.localtime(start).date(),
        ordered_on__lt=timezone.localtime(end).date(),
        status__in=Order.COUNTED_STATUSES,
    ).count()
    satisfaction = Survey.objects.filter(complaint__in=received).aggregate(mean=Avg("score"))["mean"]

    return {
        "complaints": counts["total"],
        "first_response_median_hours": _hours(percentile(received, "first_response_seconds", 0.5)),
        "first_response_p90_hours": _hours(percentile(received, "first_response_seconds", 0.9)),
        "resolution_median_hours": _hours(percentile(received, "resolution_seconds", 0.5)),
        "resolution_p90_hours": _hours(percentile(received, "resolution_seconds", 0.9)),
        "sla_compliance_pct": _pct(counts["compliant"], counts["decided"]),
        "backlog_by_age": backlog,
        "unresolved_customer_days": Decimal(open_for.total_seconds() / 86400).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        ),
        "reopen_rate_pct": _pct(counts["reopened"], counts["resolved"]),
        "recurrence_rate_pct": _pct(counts["recurring"], counts["total"]),
        "complaints_per_100_orders": (
            (Decimal(100) * counts["total"] / orders).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            if orders
            else None
        ),
        "post_complaint_satisfaction": (
            Decimal(str(satisfaction)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            if satisfaction is not None
            else None
        ),
    }
