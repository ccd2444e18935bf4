"""Per-customer monthly order totals, kept in step with the orders.

Single order changes (admin, forms) update their customer-month through signals; bulk loads
(seed_demo, imports) call `monthly_totals_rebuild` for what they touched. The rebuild is one
INSERT ... SELECT the database runs itself, so 5 million orders never pass through Python.

On PostgreSQL every rebuild also refreshes what the SQL engine reads: the customers' running totals
(CustomerRunningTotal, from the first month that changed) and the company's monthly revenue and
orders (CompanyMonth, for the months that changed).
"""

import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from crm.models import Customer, Order

from .models import ZERO, CompanyMonth, CustomerMonth, CustomerRunningTotal
from .services.core import month_start

COLUMNS = (
    "customer_id",
    "month",
    "revenue",
    "cost",
    "service_cost",
    "orders",
    "error_orders",
    "dated_deliveries",
    "on_time_deliveries",
    "first_order_on",
    "last_order_on",
)


# The sums of counted orders (not cancelled or returned): the one definition of a counted, a dated and an
# on-time order, for the monthly totals and the readers (readers.py compiles it to SQL for its edge days).
DATED = Q(promised_on__isnull=False, delivered_on__isnull=False)
ORDER_SUMS = {
    "total_revenue": Sum("revenue"),
    "total_cost": Sum("cost"),
    "total_service_cost": Sum("service_cost"),
    "order_count": Count("id"),
    "error_count": Count("id", filter=Q(entry_error=True)),
    "dated_count": Count("id", filter=DATED),
    "on_time_count": Count("id", filter=DATED & Q(delivered_on__lte=F("promised_on"))),
    "first_on": Min("ordered_on"),
    "last_on": Max("ordered_on"),
}


def counted_orders():
    return Order.objects.filter(status__in=Order.COUNTED_STATUSES)


def orders_in_months(first: datetime.date, stop: datetime.date, edges: list[tuple[int, QuerySet]] = ()) -> int:
    """Counted orders in the whole months [first, stop) (first days of months), from the totals
    analytics keeps with the orders (every write of orders, imports included, goes through
    analytics.totals), plus each (sign, query) of `edges` times the one number its query selects
    (complaints.selectors.counted_orders: the period's edge days): one query.

    On PostgreSQL from the company's months (CompanyMonth.orders: at most 12 rows for a run's year,
    instead of two months of every customer's running totals, about 180,000 rows at 100,000
    customers). Elsewhere (SQLite, where the company months are not kept) the customer-months are
    summed.
    """
    edge_sql, edge_params = "0", []
    for sign, query in edges:
        sql, params = query.query.sql_with_params()
        edge_sql += f" {'+' if sign > 0 else '-'} coalesce(({sql}), 0)"
        edge_params += params
    table = (CompanyMonth if connection.vendor == "postgresql" else CustomerMonth)._meta.db_table
    sql = f"""SELECT coalesce((SELECT sum(orders) FROM {table} WHERE month >= %s AND month < %s), 0) + {edge_sql}"""
    params = [first, stop, *edge_params]
    if stop <= first:
        sql, params = f"SELECT {edge_sql}", list(edge_params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _totals_query(orders):
    orders = orders.filter(status__in=Order.COUNTED_STATUSES).annotate(month=TruncMonth("ordered_on"))
    return orders.order_by().values("customer_id", "month").annotate(**ORDER_SUMS)


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
    postgres = connection.vendor == "postgresql"
    # For some customers (an order saved), the company's months change by those customers' change:
    # summing the whole month again costs 0.35 s at 100,000 customers, on every order save.
    by_month = stale.order_by().values_list("month").annotate(total=Sum("revenue"), n=Sum("orders"))
    before = {m: (t, n) for m, t, n in by_month} if postgres and customer_ids is not None else None
    stale._raw_delete(stale.db)
    select_sql, params = _totals_query(orders).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {CustomerMonth._meta.db_table} ({', '.join(COLUMNS)}) {select_sql}", params)
    if not postgres:
        return
    since = months[0] if months else None
    if customer_ids is None and since is None:
        running_refresh()
    elif customer_ids is None:
        running_refresh(scope=(f"SELECT id, %s::date FROM {Customer._meta.db_table}", [since]))
    else:
        running_refresh(scope=("SELECT unnest(%s::bigint[]), %s::date", [customer_ids, since or datetime.date.min]))
    if before is None:
        company_months_refresh(months)
    else:
        after = {m: (t, n) for m, t, n in by_month.all()}  # the same customers and months, read again
        nothing = (ZERO, 0)
        company_months_adjust(
            {
                m: tuple(a - b for a, b in zip(after.get(m, nothing), before.get(m, nothing), strict=True))
                for m in {*before, *after}
            }
        )


PAIRS_TABLE = "analytics_rebuild_pairs"


@transaction.atomic
def monthly_totals_rebuild_pairs(
    *, pairs: Iterable[tuple[int, datetime.date]] | None = None, pairs_sql: tuple[str, list] | None = None
) -> int:
    """Recomputes the totals of exactly the given (customer id, day in the month) pairs, in SQL.

    For bulk writes (imports) instead of per-row signals: one DELETE and one INSERT ... SELECT
    per month on any database. On PostgreSQL the pairs may instead come as `pairs_sql`, a SELECT
    of (customer_id, month) run by the database itself, so a million rows never come to Python;
    then it is one DELETE and one INSERT for all pairs. Returns the number of pairs.
    """
    if pairs_sql is not None:
        if connection.vendor != "postgresql":
            raise ValueError("pairs_sql needs PostgreSQL")
        return _rebuild_pairs_postgres(*pairs_sql)
    by_month: dict[datetime.date, set[int]] = {}
    for customer_id, day in pairs or ():
        by_month.setdefault(month_start(day), set()).add(customer_id)
    for month, customer_ids in sorted(by_month.items()):
        ids = sorted(customer_ids)
        for start in range(0, len(ids), 5000):  # stays under every database's parameter limit
            monthly_totals_rebuild(customer_ids=ids[start : start + 5000], months=[month])
    return sum(len(ids) for ids in by_month.values())


def month_of_sql(column: str) -> str:
    """SQL for the first day of the month of a date column: plain date arithmetic, much cheaper
    than date_trunc (which goes through a time-zone-aware timestamp)."""
    return f"({column} - EXTRACT(DAY FROM {column})::integer + 1)"


# Above this many pairs, one hash join over all orders beats an index probe per pair.
PAIRS_HASH_JOIN_FROM = 20000


def _rebuild_pairs_postgres(select_sql: str, params: list) -> int:
    table = CustomerMonth._meta.db_table
    order = Order._meta.db_table
    counted = ", ".join(f"'{status}'" for status in Order.COUNTED_STATUSES)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {PAIRS_TABLE}")
        cursor.execute(
            f"CREATE TEMP TABLE {PAIRS_TABLE} ON COMMIT DROP AS "
            f"SELECT DISTINCT customer_id, month::date AS month FROM ({select_sql}) AS given",
            params,
        )
        cursor.execute(f"ANALYZE {PAIRS_TABLE}")
        cursor.execute(f"SELECT COUNT(*) FROM {PAIRS_TABLE}")
        count = cursor.fetchone()[0]
        cursor.execute(
            f"DELETE FROM {table} AS cm USING {PAIRS_TABLE} AS p WHERE cm.customer_id = p.customer_id AND cm.month = p.month"
        )
        if count >= PAIRS_HASH_JOIN_FROM:
            # Many pairs: read the orders once and hash-join on (customer, month). The planner
            # would otherwise probe the index per pair, slow over freshly written (bloated) rows.
            join = f"o.customer_id = p.customer_id AND {month_of_sql('o.ordered_on')} = p.month"
            cursor.execute("SELECT current_setting('enable_nestloop')")
            nestloop = cursor.fetchone()[0]
            cursor.execute("SELECT set_config('enable_nestloop', 'off', true)")
        else:
            join = (
                "o.customer_id = p.customer_id AND o.ordered_on >= p.month "
                "AND o.ordered_on < (p.month + INTERVAL '1 month')::date"
            )
        cursor.execute(
            f"""
            INSERT INTO {table} ({", ".join(COLUMNS)})
            SELECT o.customer_id, p.month, SUM(o.revenue), SUM(o.cost), SUM(o.service_cost), COUNT(*),
                   COUNT(*) FILTER (WHERE o.entry_error),
                   COUNT(*) FILTER (WHERE o.promised_on IS NOT NULL AND o.delivered_on IS NOT NULL),
                   COUNT(*) FILTER (WHERE o.promised_on IS NOT NULL AND o.delivered_on IS NOT NULL
                                    AND o.delivered_on <= o.promised_on),
                   MIN(o.ordered_on), MAX(o.ordered_on)
            FROM {PAIRS_TABLE} AS p JOIN {order} AS o ON {join}
            WHERE o.status IN ({counted})
            GROUP BY o.customer_id, p.month
            """
        )
        if count >= PAIRS_HASH_JOIN_FROM:
            cursor.execute("SELECT set_config('enable_nestloop', %s, true)", [nestloop])
        cursor.execute(f"SELECT DISTINCT month FROM {PAIRS_TABLE}")
        months = [row[0] for row in cursor.fetchall()]
    running_refresh(scope=(f"SELECT customer_id, month FROM {PAIRS_TABLE}", []))
    company_months_refresh(months)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {PAIRS_TABLE}")
    return count


# Running totals and company months (PostgreSQL only: the SQL engine is their only reader).

RUNNING_TABLE = CustomerRunningTotal._meta.db_table
RUNNING_SCOPE = "analytics_running_scope"
RUNNING_UNIQUE, RUNNING_INDEX = (
    "running_total_month_customer",
    "running_total_customer_month",
)  # as the model names them
RUNNING_WHOLE_FROM = 20000  # customers in a refresh from which the whole table is rebuilt instead
RUNNING_SUMS = ("revenue", "cost", "service_cost", "orders", "error_orders", "dated_deliveries", "on_time_deliveries")


def _month_after(month: datetime.date) -> datetime.date:
    return (month + datetime.timedelta(days=32)).replace(day=1)


def running_horizon() -> datetime.date | None:
    """The month every customer's running totals reach (they all reach the same one)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT max(month) FROM {RUNNING_TABLE}")
        return cursor.fetchone()[0]


def running_extend(through: datetime.date) -> int:
    """Carries every customer's running totals forward, unchanged, to the month of `through`. Returns
    the rows added (none when the horizon is already there)."""
    through = month_start(through)
    horizon = running_horizon()
    if horizon is None or horizon >= through:
        return 0
    columns = ", ".join(RUNNING_SUMS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {RUNNING_TABLE} (customer_id, month, {columns}, first_order_on, last_order_on)
                SELECT r.customer_id, g::date, {", ".join(f"r.{c}" for c in RUNNING_SUMS)}, r.first_order_on, r.last_order_on
                FROM {RUNNING_TABLE} r, generate_series(%s::date, %s::date, interval '1 month') g
                WHERE r.month = %s""",
            [_month_after(horizon), through, horizon],
        )
        return cursor.rowcount


def running_refresh(*, scope: tuple[str, list] | None = None) -> None:
    """Recomputes running totals from CustomerMonth. `scope` is a SELECT of (customer id, first month
    that changed): those customers' rows from that month on are written again, starting from their
    row of the month before. Without a scope every row is (the whole table, as after a full rebuild)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT max(month) FROM {CustomerMonth._meta.db_table}")
        latest = cursor.fetchone()[0]
        horizon = max(filter(None, [month_start(timezone.localdate()), latest, running_horizon()]))
        cursor.execute("SET LOCAL work_mem = '256MB'")  # the window's sort of millions of rows, in memory
        cursor.execute(f"DROP TABLE IF EXISTS {RUNNING_SCOPE}")
        whole = scope is None
        if not whole:
            select_sql, params = scope
            cursor.execute(
                f"CREATE TEMP TABLE {RUNNING_SCOPE} ON COMMIT DROP AS SELECT customer_id, "
                f"date_trunc('month', min(since))::date AS since FROM ({select_sql}) AS given (customer_id, since) "
                "GROUP BY customer_id",
                params,
            )
            cursor.execute(f"SELECT count(*) FROM {RUNNING_SCOPE}")
            if cursor.fetchone()[0] >= RUNNING_WHOLE_FROM:
                whole = True
                cursor.execute(f"DROP TABLE {RUNNING_SCOPE}")
        if whole:
            # Every row again: emptied, loaded without indexes, the indexes built after in one pass each
            # (keeping them up to date row by row cost minutes at 100,000 customers). Loaded month by
            # month, so the rows a run reads (one month for every customer) lie together on disk.
            cursor.execute(f"TRUNCATE {RUNNING_TABLE}")
            cursor.execute(f"ALTER TABLE {RUNNING_TABLE} DROP CONSTRAINT {RUNNING_UNIQUE}")
            cursor.execute(f"DROP INDEX {RUNNING_INDEX}")
            cursor.execute(
                f"CREATE TEMP TABLE {RUNNING_SCOPE} ON COMMIT DROP AS SELECT customer_id, min(month) AS since "
                f"FROM {CustomerMonth._meta.db_table} GROUP BY customer_id"
            )
        else:
            running_extend(horizon)
            cursor.execute(
                f"DELETE FROM {RUNNING_TABLE} r USING {RUNNING_SCOPE} s WHERE r.customer_id = s.customer_id AND r.month >= s.since"
            )
        cursor.execute(f"ANALYZE {RUNNING_SCOPE}")
        sums = ", ".join(RUNNING_SUMS)
        running = ", ".join(f"coalesce(p.{c}, 0) + sum(coalesce(cm.{c}, 0)) OVER w" for c in RUNNING_SUMS)
        cursor.execute(
            f"""
            WITH start AS (
                -- From the month that changed when the customer had orders before it (then the row of
                -- the month before is the base), else from the customer's first month with orders.
                SELECT s.customer_id,
                       CASE WHEN p.customer_id IS NOT NULL THEN s.since
                            ELSE (SELECT min(cm.month) FROM {CustomerMonth._meta.db_table} cm
                                  WHERE cm.customer_id = s.customer_id AND cm.month >= s.since) END AS since
                FROM {RUNNING_SCOPE} s
                LEFT JOIN {RUNNING_TABLE} p ON p.customer_id = s.customer_id AND p.month = (s.since - interval '1 month')::date
            ),
            grid AS (
                SELECT st.customer_id, g::date AS month, st.since
                FROM start st, generate_series(st.since, %s::date, interval '1 month') g
                WHERE st.since IS NOT NULL
            )
            INSERT INTO {RUNNING_TABLE} (customer_id, month, {sums}, first_order_on, last_order_on)
            SELECT grid.customer_id, grid.month, {running},
                   coalesce(p.first_order_on, min(cm.first_order_on) OVER w),
                   coalesce(max(cm.last_order_on) OVER w, p.last_order_on)
            FROM grid
            LEFT JOIN {CustomerMonth._meta.db_table} cm ON cm.customer_id = grid.customer_id AND cm.month = grid.month
            LEFT JOIN {RUNNING_TABLE} p ON p.customer_id = grid.customer_id AND p.month = (grid.since - interval '1 month')::date
            WINDOW w AS (PARTITION BY grid.customer_id ORDER BY grid.month)
            {"ORDER BY grid.month, grid.customer_id" if whole else ""}
            """,
            [horizon],
        )
        cursor.execute(f"DROP TABLE {RUNNING_SCOPE}")
        if whole:
            cursor.execute(f"ALTER TABLE {RUNNING_TABLE} ADD CONSTRAINT {RUNNING_UNIQUE} UNIQUE (month, customer_id)")
            cursor.execute(f"CREATE INDEX {RUNNING_INDEX} ON {RUNNING_TABLE} (customer_id, month)")


def company_months_adjust(changes: dict[datetime.date, tuple[Decimal, int]]) -> None:
    """Adds each month's change in (revenue, orders) to the company's month; a month left without any
    customer-month goes, as `company_months_refresh` would leave it out."""
    if not changes:
        return
    table, source = CompanyMonth._meta.db_table, CustomerMonth._meta.db_table
    months = sorted(changes)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table} (month, revenue, orders)
                SELECT * FROM unnest(%s::date[], %s::numeric[], %s::bigint[])
                ON CONFLICT (month) DO UPDATE SET revenue = {table}.revenue + EXCLUDED.revenue,
                                                  orders = {table}.orders + EXCLUDED.orders""",
            [months, [changes[m][0] for m in months], [changes[m][1] for m in months]],
        )
        cursor.execute(
            f"DELETE FROM {table} c WHERE c.month = ANY(%s) AND NOT EXISTS (SELECT 1 FROM {source} cm WHERE cm.month = c.month)",
            [months],
        )


def company_months_refresh(months: Iterable[datetime.date] | None = None) -> None:
    """Recomputes the company's monthly revenue and orders for the given months (every month when not given)."""
    if connection.vendor != "postgresql":
        return
    table, source = CompanyMonth._meta.db_table, CustomerMonth._meta.db_table
    where, params = "", []
    if months is not None:
        where, params = "WHERE month = ANY(%s)", [sorted({month_start(m) for m in months})]
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} {where}", params)
        cursor.execute(
            f"INSERT INTO {table} (month, revenue, orders) SELECT month, sum(revenue), sum(orders) FROM {source} {where} "
            "GROUP BY month",
            params,
        )
