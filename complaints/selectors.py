"""Read-side queries for complaints: the service queue and the complaint KPIs, computed in SQL."""

import datetime
import math
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    BooleanField,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.utils import timezone

from crm.models import Customer, Order, Survey
from crm.selectors import contains_text, customer_search_condition

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


def complaint_text_condition(text: str, *, using: str = "default") -> Q:
    """A complaint's own text matches: its number starts with `text` (any case; numbers are ASCII) or
    its description contains it. On PostgreSQL each test is one an index of complaints 0004 serves
    (the number's upper-cased prefix, the description's trigrams and short Chinese grams)."""
    condition = contains_text(
        text, text_fields=["description"], code_fields=[], gram_fields=["description"], using=using
    )
    if text.isascii():
        condition |= Q(number__istartswith=text)
    return condition


def complaints_matching(complaints: QuerySet[Complaint], text: str) -> QuerySet[Complaint]:
    """`complaints` whose own text matches (complaint_text_condition) or whose customer the customer
    search finds (code, name, email, phone). Each half is read through its own table's indexes and
    the two id lists joined once (IN over a UNION, a semi-join): one OR across the customer join
    served no index, and every complaint was joined to its customer and tested (0.25-1.7 s at
    200,000 complaints)."""
    db = complaints.db
    own = Complaint.objects.using(db).filter(complaint_text_condition(text, using=db)).order_by().values("pk")
    theirs = Customer.objects.using(db).filter(customer_search_condition(text, using=db)).order_by().values("pk")
    by_customer = Complaint.objects.using(db).filter(customer__in=theirs).order_by().values("pk")
    return complaints.filter(pk__in=own.union(by_customer))


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


def percentile(queryset: QuerySet, field: str, fraction: float, *, n: int | None = None) -> float | None:
    """Linear-interpolated percentile of a numeric column, found by the database (ORDER BY, OFFSET).

    fraction 0.5 is the usual median (mean of the two middle values when n is even). `n`: how many
    rows have the column (not null), when the caller has counted them already.
    """
    values = queryset.exclude(**{f"{field}__isnull": True})
    n = values.count() if n is None else n
    if n == 0:
        return None
    position = fraction * (n - 1)
    low, high = math.floor(position), math.ceil(position)
    pair = list(values.order_by(field).values_list(field, flat=True)[low : high + 1])
    return pair[0] + (pair[-1] - pair[0]) * (position - low)


class PercentileCont(Aggregate):
    """PostgreSQL's percentile_cont(fraction) WITHIN GROUP (ORDER BY column): the linear-interpolated
    percentile `percentile` finds, NULLs left out, computed in the aggregate's own scan."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


PERCENTILES = (("first_response_seconds", (0.5, 0.9)), ("resolution_seconds", (0.5, 0.9)))


def _pct(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _hours(seconds: float | None) -> Decimal | None:
    if seconds is None:
        return None
    return (Decimal(seconds) / 3600).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _month_after(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)


# The counted orders in the whole months [first, stop) (first days of months), read from totals kept with
# the orders, plus each (sign, query) of `edges` times the one number its query selects (one row, one
# column), in one statement: analytics passes one in (complaints may not import analytics).
MonthsOrders = Callable[[datetime.date, datetime.date, list[tuple[int, QuerySet]]], int]


def counted_orders(first: datetime.date, stop: datetime.date, *, months_orders: MonthsOrders | None = None) -> int:
    """Counted orders (Order.COUNTED_STATUSES) placed on the days [first, stop).

    Without `months_orders` the orders are counted. With it, the whole months come from it and only
    the days at the period's edges are counted from the orders, exactly, each edge from its shorter
    side: a partial month's days inside the period are counted and added, or the month is taken
    whole and its days outside the period are counted and subtracted. One query whatever the
    period's length (12 months were 2.4 million index entries at 100,000 customers).
    """
    if stop <= first:
        return 0
    counted = Order.objects.filter(status__in=Order.COUNTED_STATUSES)
    lo, hi = (first if first.day == 1 else _month_after(first)), stop.replace(day=1)
    if months_orders is None or hi <= lo:  # no whole month inside: the orders themselves
        return counted.filter(ordered_on__gte=first, ordered_on__lt=stop).count()
    plus, minus = [], []  # day ranges [a, b) to add and to subtract
    if first < lo:  # the first month is partial: [first, lo) inside, [month start, first) outside
        outside = first.replace(day=1)
        if (lo - first) <= (first - outside):
            plus.append((first, lo))
        else:
            lo = outside
            minus.append((outside, first))
    if hi < stop:  # the last month is partial: [hi, stop) inside, [stop, month end) outside
        following = _month_after(hi)
        if (stop - hi) <= (following - stop):
            plus.append((hi, stop))
        else:
            minus.append((stop, following))
            hi = following
    # One count per edge range, each a plain range the index on the order day answers alone (an OR of
    # the two ranges made PostgreSQL visit the orders' rows: 47,000 pages for 80,000 orders).
    one = Value(1, output_field=IntegerField())  # a constant to group by: one row, whatever matches
    edges = [
        (sign, counted.filter(ordered_on__gte=a, ordered_on__lt=b).order_by().annotate(one=one).values("one"))
        for sign, ranges in ((1, plus), (-1, minus))
        for a, b in ranges
    ]
    edges = [(sign, days.annotate(n=Count("*")).values("n")) for sign, days in edges]  # COUNT(*): from the index
    return months_orders(lo, hi, edges)


def _any_day_in(ranges: list[tuple[datetime.date, datetime.date]]) -> Q:
    q = Q()
    for a, b in ranges:
        q |= Q(ordered_on__gte=a, ordered_on__lt=b)
    return q


def complaint_kpis(
    *,
    start: datetime.datetime,
    end: datetime.datetime,
    now: datetime.datetime | None = None,
    months_orders: MonthsOrders | None = None,
) -> dict:
    """The complaint KPIs for complaints received in [start, end) (complaint_period_kpis), and the
    backlog as of `now` (complaint_backlog): the complaint KPIs page, live."""
    period = complaint_period_kpis(start=start, end=end, months_orders=months_orders)
    return period | complaint_backlog(now=now or timezone.now())


def complaint_period_kpis(
    *, start: datetime.datetime, end: datetime.datetime, months_orders: MonthsOrders | None = None
) -> dict:
    """The KPIs of the complaints received in [start, end), as the complaints stand when asked.

    - first response: first customer-facing note (or the customer notification of the action
      plan) minus received_at, minus paused time; median and 90th percentile, in hours.
    - resolution: first move to resolved minus received_at minus time paused awaiting the customer.
    - SLA compliance %: among complaints whose outcome is known (resolved, or breached), those
      that breached neither the first-response nor the resolution target.
    - reopen rate %: resolved complaints that were reopened at least once.
    - recurrence rate %: complaints whose problem already had another complaint received in the
      90 days before this one (complaints_with_recurrence).
    - complaints per 100 orders: complaints received / orders placed (counted ones) in the period's
      days (counted_orders: with `months_orders`, the whole months from the totals kept with them).
    - post-complaint satisfaction: mean score of surveys linked to these complaints.
    Rejected and duplicate complaints are not measured.
    """
    received = Complaint.objects.filter(received_at__gte=start, received_at__lt=end).exclude(state__in=NOT_MEASURED)

    breached = Q(first_response_breached=True) | Q(resolution_breached=True)
    decided = Q(resolved_at__isnull=False) | breached
    # One scan of the period's complaints for the counts and, on PostgreSQL, the four percentiles
    # (percentile_cont); elsewhere each percentile is one more query (ORDER BY, OFFSET) on the counts
    # of the columns found here. The recurring ones are counted apart: as a filter, PostgreSQL looks up
    # the earlier complaints of only the complaints with a problem, where a FILTER of the same
    # aggregate ran the look-up for every complaint of the period (0.8 s at 112,000 complaints).
    on_postgresql = connection.vendor == "postgresql"
    percentiles = {
        f"{field}_p{round(fraction * 100)}": PercentileCont(field, fraction)
        for field, fractions in PERCENTILES
        for fraction in fractions
    }
    counts = received.aggregate(
        total=Count("id"),
        decided=Count("id", filter=decided),
        compliant=Count("id", filter=decided & ~breached),
        resolved=Count("id", filter=Q(resolved_at__isnull=False)),
        reopened=Count("id", filter=Q(resolved_at__isnull=False, reopen_count__gt=0)),
        **{f"{field}_n": Count(field) for field, _fractions in PERCENTILES},
        **(percentiles if on_postgresql else {}),
    )
    if not on_postgresql:
        for field, fractions in PERCENTILES:
            for fraction in fractions:
                counts[f"{field}_p{round(fraction * 100)}"] = percentile(
                    received, field, fraction, n=counts[f"{field}_n"]
                )
    recurring = complaints_with_recurrence(received).filter(recurrence=True).count() if counts["total"] else 0

    orders = counted_orders(
        timezone.localtime(start).date(), timezone.localtime(end).date(), months_orders=months_orders
    )
    # From the surveys about a complaint, each joined to its complaint. Most surveys are about no
    # complaint: saying so lets PostgreSQL read the few that are from their index (30 ms of a scan of
    # every survey at 97,000 surveys, against 4 ms); an IN over the period's complaints read all of
    # them (48 ms at 112,000).
    about = Survey.objects.filter(
        complaint__isnull=False, complaint__received_at__gte=start, complaint__received_at__lt=end
    )
    satisfaction = about.exclude(complaint__state__in=NOT_MEASURED).aggregate(mean=Avg("score"))["mean"]

    return {
        "complaints": counts["total"],
        "first_response_median_hours": _hours(counts["first_response_seconds_p50"]),
        "first_response_p90_hours": _hours(counts["first_response_seconds_p90"]),
        "resolution_median_hours": _hours(counts["resolution_seconds_p50"]),
        "resolution_p90_hours": _hours(counts["resolution_seconds_p90"]),
        "sla_compliance_pct": _pct(counts["compliant"], counts["decided"]),
        "reopen_rate_pct": _pct(counts["reopened"], counts["resolved"]),
        "recurrence_rate_pct": _pct(recurring, counts["total"]),
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


def complaint_backlog(*, now: datetime.datetime) -> dict:
    """The open complaints as of `now`: how many by days since received ([0,1), [1,3), [3,7), 7+:
    backlog_by_age), and the days they have all been open, summed (unresolved_customer_days).

    Only the received time is read (counted, not the id: it is never null), so PostgreSQL reads the
    open complaints' own index alone (complaint_open_received_idx, an index-only scan) instead of
    their rows (21 ms of 5,300 pages at 34,000 open complaints, against 7 ms).
    """
    open_now = Complaint.objects.filter(state__in=OPEN_STATES, received_at__lte=now)
    day = datetime.timedelta(days=1)
    backlog = open_now.aggregate(
        d0_1=Count("received_at", filter=Q(received_at__gt=now - day)),
        d1_3=Count("received_at", filter=Q(received_at__lte=now - day, received_at__gt=now - 3 * day)),
        d3_7=Count("received_at", filter=Q(received_at__lte=now - 3 * day, received_at__gt=now - 7 * day)),
        d7_plus=Count("received_at", filter=Q(received_at__lte=now - 7 * day)),
        open_for=Sum(ExpressionWrapper(Value(now) - F("received_at"), output_field=DurationField())),
    )
    open_for = backlog.pop("open_for") or datetime.timedelta(0)
    return {
        "backlog_by_age": backlog,
        "unresolved_customer_days": Decimal(open_for.total_seconds() / 86400).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        ),
    }
