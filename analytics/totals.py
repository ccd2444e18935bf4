"""Per-customer monthly order totals, kept in step with the orders.

Single order changes (admin, forms) update their customer-month through signals; bulk loads
(seed_demo, imports) call `monthly_totals_rebuild` for what they touched. The rebuild is one
INSERT ... SELECT the database runs itself, so 5 million orders never pass through Python.
"""
import datetime
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Q, Sum
from django.db.models.functions import TruncMonth

from crm.models import Order

from .models import CustomerMonth

COLUMNS = (
    "customer_id", "month", "revenue", "cost", "service_cost", "orders", "error_orders",
    "dated_deliveries", "on_time_deliveries", "first_order_on", "last_order_on",
)  # fmt: skip


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def _totals_query(orders):
    dated = Q(promised_on__isnull=False, delivered_on__isnull=False)
    return (
        orders.filter(status__in=Order.COUNTED_STATUSES)
        .annotate(month=TruncMonth("ordered_on"))
        .order_by()
        .values("customer_id", "month")
        .annotate(
            revenue_sum=Sum("revenue"),
            cost_sum=Sum("cost"),
            service_cost_sum=Sum("service_cost"),
            order_count=Count("id"),
            error_count=Count("id", filter=Q(entry_error=True)),
            dated_count=Count("id", filter=dated),
            on_time_count=Count("id", filter=dated & Q(delivered_on__lte=F("promised_on"))),
            first_on=Min("ordered_on"),
            last_on=Max("ordered_on"),
        )
    )


@transaction.atomic
def monthly_totals_rebuild(
    *, customer_ids: Iterable[int] | None = None, months: Iterable[datetime.date] | None = None
) -> None:
    """Recomputes the totals of the given customers and months (all of them when not given)."""
    customer_ids = None if customer_ids is None else sorted(set(customer_ids))
    months = None if months is None else sorted({month_start(m) for m in months})
    stale = CustomerMonth.objects.all()
    orders = Order.objects.all()
    if customer_ids is not None:
        stale = stale.filter(customer_id__in=customer_ids)
        orders = orders.filter(customer_id__in=customer_ids)
    if months is not None:
        stale = stale.filter(month__in=months)
        ranges = Q()
        for month in months:
            following = (month + datetime.timedelta(days=32)).replace(day=1)
            ranges |= Q(ordered_on__gte=month, ordered_on__lt=following)
        orders = orders.filter(ranges)
    stale._raw_delete(stale.db)
    select_sql, params = _totals_query(orders).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {CustomerMonth._meta.db_table} ({', '.join(COLUMNS)}) {select_sql}", params)
