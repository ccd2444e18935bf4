"""Read-side queries for customer records. Selectors own select_related and aggregation."""

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, F, FilteredRelation, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from .models import Customer, Order
from .roles import Role, can_see_money

PUBLISHED_FIGURES = ("revenue", "profit", "score", "rank", "tier", "quadrant", "action", "protection")
SORTABLE_FIGURES = {"revenue", "profit", "score", "rank", "tier", "quadrant", "action"}


def customer_list(*, user, run_id: int | None = None, sorted_by_figure: bool = False) -> QuerySet[Customer]:
    """Every customer (all roles see all records), with what the list shows.

    With `run_id` (the published analysis run) and a user who may see money, each customer also
    carries that run's figures as annotations, so the database filters and sorts on them.
    """
    customers = Customer.objects.select_related("owner", "region", "industry")
    if run_id is None or not can_see_money(user):
        return customers
    figures = customers.annotate(published=FilteredRelation("results", condition=Q(results__run_id=run_id)))
    if sorted_by_figure:
        # Every customer has a row in the published run (analytics.services.runs.run_add_prospects),
        # so an inner join loses no one, and sorting on a figure walks the result index instead of
        # sorting 100,000 joined rows. Otherwise the outer join stays: PostgreSQL drops it from the
        # page count. (The filter sits between the annotations so that both use one join.)
        figures = figures.filter(published__run_id=run_id)
    return figures.annotate(**{name: F(f"published__{name}") for name in PUBLISHED_FIGURES})


def sales_reps() -> QuerySet:
    """Users who can own customers, for owner pickers and filters."""
    return get_user_model().objects.filter(groups__name=Role.SALES.value, is_active=True).order_by("username")


def customer_monthly_revenue(
    *, customer: Customer, months: int = 24, today: datetime.date | None = None
) -> list[tuple[str, Decimal]]:
    """Revenue per calendar month for the last `months` months (zero months included), oldest first.

    Cancelled and returned orders bring no revenue. The sum happens in SQL.
    """
    today = today or datetime.date.today()
    first = _add_months(today.replace(day=1), -(months - 1))
    rows = (
        Order.objects.filter(customer=customer, ordered_on__gte=first, status__in=Order.COUNTED_STATUSES)
        .annotate(month=TruncMonth("ordered_on"))
        .values("month")
        .annotate(revenue=Sum("revenue"), orders=Count("id"))
        .order_by("month")
    )
    by_month = {_as_date(row["month"]): row["revenue"] for row in rows}
    series = []
    for offset in range(months):
        month = _add_months(first, offset)
        series.append((month.strftime("%Y-%m"), by_month.get(month, Decimal("0.00"))))
    return series


def _as_date(value) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def customer_value(*, customer: Customer, runs: int = 12) -> dict:
    """The customer's figures in the published run, and its tier in the last `runs` published runs."""
    from analytics.models import AnalysisRun, CustomerResult

    history = list(
        CustomerResult.objects.filter(customer=customer, run__status=AnalysisRun.Status.SUCCEEDED)
        .select_related("run")
        .order_by("-run__published_at", "-run_id")[:runs]
    )
    return {"customer_value": history[0] if history else None, "tier_history": history[::-1]}
