"""Per-customer raw figures for a window, read in a handful of grouped SQL queries.

Order sums come from the monthly totals for the whole months inside the window, plus the
orders themselves only for the partial months at its edges, so the cost of a run does not
grow with the length of the order history.
"""

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, Count, DateField, DurationField, ExpressionWrapper, F, Max, Min, Q, Sum, Value, When

from complaints.models import Complaint, State
from crm.models import Customer, Interaction, Invoice, Order, Survey

from ..models import CustomerMonth
from ..totals import month_start
from .scoring import CustomerFigures

NOT_COUNTED_COMPLAINTS = (State.REJECTED, State.DUPLICATE)


@dataclass(frozen=True)
class Window:
    """The 12 months ending at as_of (both days included) and the 12 months before."""

    as_of: datetime.date
    start: datetime.date
    end: datetime.date
    prior_start: datetime.date
    prior_end: datetime.date

    @classmethod
    def ending(cls, as_of: datetime.date) -> "Window":
        start = shift_years(as_of, -1) + datetime.timedelta(days=1)
        prior_start = shift_years(as_of, -2) + datetime.timedelta(days=1)
        return cls(as_of, start, as_of, prior_start, start - datetime.timedelta(days=1))


def shift_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def next_month(month: datetime.date) -> datetime.date:
    return (month + datetime.timedelta(days=32)).replace(day=1)


def split_range(start: datetime.date, end: datetime.date) -> tuple[list[datetime.date], list[tuple]]:
    """Whole calendar months inside [start, end], and the partial day ranges left at the edges."""
    first_whole = start if start.day == 1 else next_month(start)
    months, month = [], first_whole
    while next_month(month) - datetime.timedelta(days=1) <= end:
        months.append(month)
        month = next_month(month)
    if not months:
        return [], [(start, end)]
    edges = []
    if start < months[0]:
        edges.append((start, months[0] - datetime.timedelta(days=1)))
    after = next_month(months[-1])
    if after <= end:
        edges.append((after, end))
    return months, edges


ORDER_SUMS = ("revenue", "cost", "service_cost", "orders", "error_orders", "dated_deliveries", "on_time_deliveries")


def order_sums(start: datetime.date, end: datetime.date, *, customers: Q, fields=ORDER_SUMS) -> dict[int, dict]:
    """Counted-order sums per customer for [start, end]: monthly totals plus edge-day orders."""
    months, edges = split_range(start, end)
    dated = Q(promised_on__isnull=False, delivered_on__isnull=False)
    monthly = {
        "revenue": Sum("revenue"),
        "cost": Sum("cost"),
        "service_cost": Sum("service_cost"),
        "orders": Sum("orders"),
        "error_orders": Sum("error_orders"),
        "dated_deliveries": Sum("dated_deliveries"),
        "on_time_deliveries": Sum("on_time_deliveries"),
    }
    daily = {
        "revenue": Sum("revenue"),
        "cost": Sum("cost"),
        "service_cost": Sum("service_cost"),
        "orders": Count("id"),
        "error_orders": Count("id", filter=Q(entry_error=True)),
        "dated_deliveries": Count("id", filter=dated),
        "on_time_deliveries": Count("id", filter=dated & Q(delivered_on__lte=F("promised_on"))),
    }
    sums: dict[int, dict] = {}
    if months:
        rows = (
            CustomerMonth.objects.filter(customers, month__gte=months[0], month__lte=months[-1])
            .values("customer_id")
            .annotate(**{name: monthly[name] for name in fields})
            .order_by()
        )
        sums = {row.pop("customer_id"): row for row in rows}
    for edge_start, edge_end in edges:  # a few days of orders: few rows to merge
        rows = (
            Order.objects.filter(
                customers, ordered_on__gte=edge_start, ordered_on__lte=edge_end, status__in=Order.COUNTED_STATUSES
            )
            .values("customer_id")
            .annotate(**{name: daily[name] for name in fields})
            .order_by()
        )
        for row in rows:
            target = sums.setdefault(row.pop("customer_id"), dict.fromkeys(fields, 0))
            for key, value in row.items():
                target[key] += value or 0
    return sums


def order_span(as_of: datetime.date, *, customers: Q) -> dict[int, tuple]:
    """(first, last) counted order day on or before as_of, per customer."""
    this_month = month_start(as_of)
    span: dict[int, list] = {}
    history = (
        CustomerMonth.objects.filter(customers, month__lt=this_month)
        .values("customer_id")
        .annotate(first=Min("first_order_on"), last=Max("last_order_on"))
        .order_by()
    )
    recent = (
        Order.objects.filter(
            customers, ordered_on__gte=this_month, ordered_on__lte=as_of, status__in=Order.COUNTED_STATUSES
        )
        .values("customer_id")
        .annotate(first=Min("ordered_on"), last=Max("ordered_on"))
        .order_by()
    )
    for row in list(history) + list(recent):
        first, last = span.setdefault(row["customer_id"], [row["first"], row["last"]])
        span[row["customer_id"]] = [min(first, row["first"]), max(last, row["last"])]
    return {key: tuple(value) for key, value in span.items()}


def payment_facts(window: Window, *, customers: Q) -> dict[int, dict]:
    """Invoices due in the window. On time: paid on or before due_on. Late: paid after due_on, or
    unpaid (as of as_of) and due before as_of. Unpaid and not yet due: not counted. Days late run
    to the payment, or to as_of while unpaid. Overdue amount: the late ones still unpaid at as_of."""
    as_of = window.as_of
    unpaid = Q(paid_on__isnull=True) | Q(paid_on__gt=as_of)
    paid = Q(paid_on__isnull=False) & Q(paid_on__lte=as_of)
    on_time = paid & Q(paid_on__lte=F("due_on"))
    paid_late = paid & Q(paid_on__gt=F("due_on"))
    overdue = unpaid & Q(due_on__lt=as_of)
    # Days late run to the payment, or to as_of while unpaid; the database sums the durations.
    settled = Case(When(paid, then=F("paid_on")), default=Value(as_of), output_field=DateField())
    late_days = ExpressionWrapper(settled - F("due_on"), output_field=DurationField())
    rows = (
        Invoice.objects.filter(customers, due_on__gte=window.start, due_on__lte=window.end)
        .values("customer_id")
        .annotate(
            on_time=Count("id", filter=on_time),
            paid_late=Count("id", filter=paid_late),
            overdue=Count("id", filter=overdue),
            overdue_amount=Sum("amount", filter=overdue),
            days_late=Sum(late_days, filter=paid_late | overdue),
        )
        .order_by()
    )
    return {
        row["customer_id"]: {
            "on_time": row["on_time"],
            "late": row["paid_late"] + row["overdue"],
            "overdue_amount": row["overdue_amount"] or Decimal("0"),
            "days_late": row["days_late"].days if row["days_late"] else 0,
        }
        for row in rows
    }


def grouped_counts(queryset, **aggregates) -> dict[int, dict]:
    return {row.pop("customer_id"): row for row in queryset.values("customer_id").annotate(**aggregates).order_by()}


def tenure_years(since: datetime.date | None, as_of: datetime.date) -> int | None:
    if since is None or since > as_of:
        return None if since is None else 0
    years = as_of.year - since.year
    if (as_of.month, as_of.day) < (since.month, since.day):
        years -= 1
    return years


def customer_figures(window: Window, *, id_range: tuple[int, int] | None = None) -> Iterator[CustomerFigures]:
    """The raw figures of every customer (or of ids in [low, high]) for the window."""
    customers = Q()
    people = Customer.objects.all()
    if id_range is not None:
        customers = Q(customer_id__gte=id_range[0], customer_id__lte=id_range[1])
        people = people.filter(pk__gte=id_range[0], pk__lte=id_range[1])
    current = order_sums(window.start, window.end, customers=customers)
    prior = order_sums(window.prior_start, window.prior_end, customers=customers, fields=("revenue",))
    span = order_span(window.as_of, customers=customers)
    payments = payment_facts(window, customers=customers)
    complaints = grouped_counts(
        Complaint.objects.filter(
            customers, received_at__date__gte=window.start, received_at__date__lte=window.end
        ).exclude(state__in=NOT_COUNTED_COMPLAINTS),
        n=Count("id"),
    )
    surveys = grouped_counts(
        Survey.objects.filter(customers, answered_on__gte=window.start, answered_on__lte=window.end),
        total=Sum("score"),
        n=Count("id"),
    )
    interactions = grouped_counts(
        Interaction.objects.filter(customers, occurred_on__lte=window.as_of), last=Max("occurred_on")
    )
    referral_filter = Q(referred_by__isnull=False)
    if id_range is not None:
        referral_filter &= Q(referred_by_id__gte=id_range[0], referred_by_id__lte=id_range[1])
    referrals = {
        row["referred_by_id"]: row["n"]
        for row in Customer.objects.filter(referral_filter).values("referred_by_id").annotate(n=Count("id")).order_by()
    }
    for pk, code, since, potential, strategic in (
        people.values_list("pk", "code", "since", "growth_potential", "strategic")
        .order_by("pk")
        .iterator(chunk_size=10000)
    ):
        sums = current.get(pk, {})
        first_last = span.get(pk)
        pay = payments.get(pk)
        survey = surveys.get(pk)
        last_contact = interactions.get(pk, {}).get("last")
        yield CustomerFigures(
            customer_id=pk,
            code=code,
            revenue=sums.get("revenue", Decimal("0")),
            cost_of_goods=sums.get("cost", Decimal("0")),
            service_cost=sums.get("service_cost", Decimal("0")),
            orders=sums.get("orders", 0),
            error_orders=sums.get("error_orders", 0),
            dated_deliveries=sums.get("dated_deliveries", 0),
            on_time_deliveries=sums.get("on_time_deliveries", 0),
            prior_revenue=prior.get(pk, {}).get("revenue", Decimal("0")),
            invoices_counted=(pay["on_time"] + pay["late"]) if pay else 0,
            invoices_on_time=pay["on_time"] if pay else 0,
            late_invoices=pay["late"] if pay else 0,
            days_late_total=pay["days_late"] if pay else 0,
            overdue_amount=pay["overdue_amount"] if pay else Decimal("0"),
            complaints=complaints.get(pk, {}).get("n", 0),
            survey_total=survey["total"] if survey else 0,
            survey_count=survey["n"] if survey else 0,
            referrals=referrals.get(pk, 0),
            tenure_years=tenure_years(since or (first_last[0] if first_last else None), window.as_of),
            growth_potential=potential,
            strategic=strategic,
            days_since_last_order=(window.as_of - first_last[1]).days if first_last else None,
            first_order_on=first_last[0] if first_last else None,
            days_since_last_interaction=(window.as_of - last_contact).days if last_contact else None,
        )
