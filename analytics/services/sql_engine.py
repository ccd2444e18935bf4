"""The analysis run on PostgreSQL: set-based reading inside the database, scoring on integer keys.

`results_and_company` works in one transaction, so a kill leaves nothing:
1. `inputs`: one statement reads each customer's running totals at three month ends and the orders
   of at most half a month of edge days per boundary (_boundary), so its reading does not grow with
   the order history; the window's sums are differences of running sums (the window ends at as_of,
   the prior window the day before the window starts). The per-customer inputs (sums, invoices,
   complaints, surveys, contacts, referrals, tenure) go into an unlogged scratch table.
2. `fetch`: one narrow row per customer (money in integer cents, counts, days) goes to keyed.score,
   which ranks percentiles, scores, tiers, quadrants, protection and actions on integer keys; its
   scores come back with COPY. The company aggregates (Scored.company) are computed in a thread while
   the server writes and indexes the run's rows.
3. `figures`: every stored figure computed from the inputs, while keyed.score runs in a thread;
   `insert`: the figures joined with the scores go into a table of the run's own, attached as its
   partition of the results.
The Python engine (metrics.py + scoring.py + company.py) is the reference:
tests/analytics/test_engine_equivalence.py proves both store the same values.

Exactness, as in scoring.py:
- money is `numeric` here and integer cents in keyed.py, exact;
- ratios are divided with 40 decimal places (`HI`) before they are rounded for storage (two
  different ratios of money amounts of at most 16 digits differ by more than 1e-32, and PostgreSQL
  rounds a quotient correctly at the scale it keeps), and ranked by exact integer keys (keyed.py);
- stored values are rounded half away from zero (PostgreSQL's round(numeric), Python's ROUND_HALF_UP).
"""

import datetime
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import psycopg
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from complaints.models import State
from crm.models import Order

from ..models import CompanyMonth, CustomerResult, CustomerRunningTotal, Tier
from ..totals import month_start, running_extend
from . import keyed
from .metrics import Window, next_month

logger = logging.getLogger(__name__)
HI = "numeric(1000, 40)"  # the scale ratios are divided at
WORK_MEM = "128MB"


def _boundary(day: datetime.date) -> tuple[datetime.date, list[datetime.date], int]:
    """Running sums through `day` as (running-total month, edge days, sign): that month's row plus
    (+1) or minus (-1) the orders of the edge days, whichever reads fewer days."""
    month = month_start(day)
    last = next_month(month) - datetime.timedelta(days=1)
    if day == last:
        return month, [], -1
    inside, outside = day.day, (last - day).days
    if inside <= outside:
        before = month_start(month - datetime.timedelta(days=1))
        return before, [month + datetime.timedelta(days=i) for i in range(inside)], 1
    return month, [day + datetime.timedelta(days=i) for i in range(1, outside + 1)], -1


def build_sql(
    *, run_id: int, window: Window, order_handling_cost: Decimal, complaint_handling_cost: Decimal
) -> tuple[dict[str, str], dict]:
    """The run's statements and their parameters: `inputs` creates the scratch table of per-customer
    inputs, `fetch` reads its narrow integer rows for keyed.score, `figures` computes the stored
    figures from the inputs, `insert` writes the run's rows from the figures and the scores, `months`
    returns ARPU's monthly revenue."""
    as_of = window.as_of
    params: dict = {
        "run_id": run_id,
        "as_of": as_of,
        "start": window.start,
        "end": window.end,
        "ohc": order_handling_cost,
        "chc": complaint_handling_cost,
        "counted": [s.value for s in Order.COUNTED_STATUSES],
        "not_counted_complaints": [State.REJECTED.value, State.DUPLICATE.value],
        "tz": timezone.get_current_timezone_name(),
    }
    # Sums over [start, end] = running(end) - running(start - 1 day), each read as a running-total row
    # plus or minus the orders of a few edge days (_boundary).
    if window.end != as_of or window.prior_end != window.start - datetime.timedelta(days=1):
        raise ValueError("the SQL engine needs a window ending at as_of and a prior window ending the day before it")
    d_month, d_days, d_sign = _boundary(as_of)
    s_month, s_days, s_sign = _boundary(window.start - datetime.timedelta(days=1))
    p_month, p_days, p_sign = _boundary(window.prior_start - datetime.timedelta(days=1))
    params.update(d_month=d_month, d_days=d_days, s_month=s_month, s_days=s_days, p_month=p_month, p_days=p_days)
    # ARPU's months: the company's monthly revenue; as_of's month up to as_of only.
    this_month = month_start(as_of)
    month_over = next_month(this_month) - datetime.timedelta(days=1) == as_of
    params["arpu_first"] = month_start(this_month - datetime.timedelta(days=320))  # 11 months before
    params["arpu_last"] = this_month if month_over else month_start(this_month - datetime.timedelta(days=1))
    params["this_month"] = this_month

    def cum(alias: str, edge: str, sign: int, column: str) -> str:
        return f"(coalesce({alias}.{column}, 0) {'+' if sign > 0 else '-'} coalesce({edge}.{column}, 0))"

    def edge_cte(name: str, days_param: str, columns: str) -> str:
        return f"""{name} AS (
    SELECT o.customer_id, {columns}
    FROM crm_order o WHERE o.status = ANY(%(counted)s) AND o.ordered_on = ANY(%({days_param})s::date[])
    GROUP BY o.customer_id
)"""

    every = """sum(o.revenue) AS revenue, sum(o.cost) AS cost, sum(o.service_cost) AS service_cost,
           count(*) AS orders, count(*) FILTER (WHERE o.entry_error) AS error_orders,
           count(*) FILTER (WHERE o.promised_on IS NOT NULL AND o.delivered_on IS NOT NULL) AS dated_deliveries,
           count(*) FILTER (WHERE o.delivered_on <= o.promised_on) AS on_time_deliveries,
           min(o.ordered_on) AS first, max(o.ordered_on) AS last"""
    sums = {
        column: f"{cum('rd', 'ed', d_sign, column)} - {cum('rs', 'es', s_sign, column)}"
        for column in (
            "revenue",
            "cost",
            "service_cost",
            "orders",
            "error_orders",
            "dated_deliveries",
            "on_time_deliveries",
        )
    }
    prior_revenue = f"{cum('rs', 'es', s_sign, 'revenue')} - {cum('rp', 'ep', p_sign, 'revenue')}"
    if d_sign > 0:  # as_of's month: the running row of the month before, plus the days up to as_of
        first_order = "coalesce(rd.first_order_on, ed.first)"
        last_order = "coalesce(ed.last, rd.last_order_on)"
    else:  # the running row of as_of's month, less the days after as_of (orders dated after as_of, if any)
        first_order = "CASE WHEN rd.first_order_on <= %(as_of)s THEN rd.first_order_on END"
        last_order = """CASE WHEN rd.last_order_on <= %(as_of)s THEN rd.last_order_on
                WHEN rd.first_order_on <= %(as_of)s THEN (
                    SELECT max(o.ordered_on) FROM crm_order o
                    WHERE o.customer_id = c.id AND o.ordered_on <= %(as_of)s AND o.status = ANY(%(counted)s)) END"""
    running = CustomerRunningTotal._meta.db_table
    scratch = scratch_tables(run_id)
    tenure_from = "coalesce(since, first_order_on)"

    inputs = f"""
CREATE UNLOGGED TABLE {scratch["inputs"]} AS
WITH
{edge_cte("ed", "d_days", every)},
{edge_cte("es", "s_days", every)},
{edge_cte("ep", "p_days", "sum(o.revenue) AS revenue")},
pay AS (
    SELECT customer_id,
           count(*) FILTER (WHERE paid_on <= %(as_of)s AND paid_on <= due_on) AS on_time,
           count(*) FILTER (WHERE (paid_on <= %(as_of)s AND paid_on > due_on)
                               OR ((paid_on IS NULL OR paid_on > %(as_of)s) AND due_on < %(as_of)s)) AS late,
           coalesce(sum(amount) FILTER (WHERE (paid_on IS NULL OR paid_on > %(as_of)s) AND due_on < %(as_of)s), 0)
               AS overdue_amount,
           coalesce(sum(CASE WHEN paid_on <= %(as_of)s THEN paid_on ELSE %(as_of)s END - due_on)
                    FILTER (WHERE (paid_on <= %(as_of)s AND paid_on > due_on)
                                  OR ((paid_on IS NULL OR paid_on > %(as_of)s) AND due_on < %(as_of)s)), 0) AS days_late
    FROM crm_invoice WHERE due_on BETWEEN %(start)s AND %(end)s GROUP BY customer_id
),
compl AS (
    SELECT customer_id, count(*) AS n FROM complaints_complaint
    WHERE (received_at AT TIME ZONE %(tz)s)::date BETWEEN %(start)s AND %(end)s
      AND NOT (state = ANY(%(not_counted_complaints)s))
    GROUP BY customer_id
),
surv AS (
    SELECT customer_id, sum(score) AS total, count(*) AS n FROM crm_survey
    WHERE answered_on BETWEEN %(start)s AND %(end)s GROUP BY customer_id
),
contact AS (
    SELECT customer_id, max(occurred_on) AS last FROM crm_interaction WHERE occurred_on <= %(as_of)s GROUP BY customer_id
),
refs AS (
    SELECT referred_by_id AS customer_id, count(*) AS n FROM crm_customer WHERE referred_by_id IS NOT NULL
    GROUP BY referred_by_id
),
raw AS (
    SELECT c.id AS customer_id, c.code, c.since, c.growth_potential, c.strategic, c.churned_on, c.churn_reason,
           {sums["revenue"]} AS revenue, {sums["cost"]} AS cost_of_goods,
           {sums["service_cost"]} AS service_cost, {sums["orders"]} AS orders,
           {sums["error_orders"]} AS error_orders, {sums["dated_deliveries"]} AS dated,
           {sums["on_time_deliveries"]} AS on_time_deliveries, {prior_revenue} AS prior_revenue,
           coalesce(pay.on_time, 0) AS invoices_on_time, coalesce(pay.late, 0) AS late_invoices,
           coalesce(pay.overdue_amount, 0) AS overdue_amount, coalesce(pay.days_late, 0) AS days_late,
           coalesce(compl.n, 0) AS complaints, coalesce(surv.total, 0) AS survey_total,
           coalesce(surv.n, 0) AS survey_count, coalesce(refs.n, 0) AS referrals,
           {first_order} AS first_order_on, {last_order} AS last_order_on, contact.last AS last_contact
    FROM crm_customer c
    LEFT JOIN {running} rd ON rd.customer_id = c.id AND rd.month = %(d_month)s
    LEFT JOIN {running} rs ON rs.customer_id = c.id AND rs.month = %(s_month)s
    LEFT JOIN {running} rp ON rp.customer_id = c.id AND rp.month = %(p_month)s
    LEFT JOIN ed ON ed.customer_id = c.id
    LEFT JOIN es ON es.customer_id = c.id
    LEFT JOIN ep ON ep.customer_id = c.id
    LEFT JOIN pay ON pay.customer_id = c.id
    LEFT JOIN compl ON compl.customer_id = c.id
    LEFT JOIN surv ON surv.customer_id = c.id
    LEFT JOIN contact ON contact.customer_id = c.id
    LEFT JOIN refs ON refs.customer_id = c.id
)
SELECT raw.*,
       CASE WHEN {tenure_from} IS NULL THEN NULL
            WHEN {tenure_from} > %(as_of)s THEN 0
            ELSE extract(year FROM %(as_of)s::date)::int - extract(year FROM {tenure_from})::int
                 - CASE WHEN to_char(%(as_of)s::date, 'MMDD') < to_char({tenure_from}, 'MMDD') THEN 1 ELSE 0 END
       END AS tenure_years
FROM raw
"""

    fetch = f"""
SELECT customer_id, code, orders::int8, (revenue * 100)::int8, (cost_of_goods * 100)::int8, (service_cost * 100)::int8,
       (prior_revenue * 100)::int8, invoices_on_time::int8, late_invoices::int8, dated::int8, on_time_deliveries::int8,
       survey_total::int8, survey_count::int8, complaints::int8, referrals::int8, tenure_years::int8,
       growth_potential::int8, strategic, (%(as_of)s::date - last_order_on)::int8, (%(as_of)s::date - last_contact)::int8,
       churned_on, churn_reason, first_order_on
FROM {scratch["inputs"]}
"""

    # The figures of every customer, computed from the inputs while keyed.score runs (results_and_company).
    columns = """revenue, cost_of_goods, gross_margin, cost_to_serve, profit, prior_revenue, orders,
    average_order_value, margin_pct, on_time_delivery_pct, error_pct, on_time_payment_pct, average_days_late,
    overdue_amount, growth_pct, complaints, average_survey_score, referrals, tenure_years,
    days_since_last_order, days_since_last_interaction, first_order_on"""
    # Each figure already of its column's type, so that the insert (which waits for the scores) has no
    # value to convert.
    typed = ", ".join(f"{name}::{column_type(name)} AS {name}" for name in columns.replace(",", " ").split())
    figures = f"""
CREATE UNLOGGED TABLE {scratch["figures"]} AS
SELECT customer_id, {typed} FROM (
SELECT customer_id, revenue, cost_of_goods, revenue - cost_of_goods AS gross_margin,
       service_cost + orders * %(ohc)s + complaints * %(chc)s AS cost_to_serve,
       revenue - cost_of_goods - (service_cost + orders * %(ohc)s + complaints * %(chc)s) AS profit, prior_revenue, orders,
       round(revenue::{HI} / nullif(orders, 0), 4) AS average_order_value,
       round(CASE WHEN revenue <> 0 THEN (revenue - cost_of_goods)::{HI} * 100 / revenue END, 4) AS margin_pct,
       round(CASE WHEN dated <> 0 THEN on_time_deliveries::{HI} * 100 / dated END, 4) AS on_time_delivery_pct,
       round(CASE WHEN orders <> 0 THEN error_orders::{HI} * 100 / orders END, 4) AS error_pct,
       round(CASE WHEN invoices_on_time + late_invoices <> 0
                  THEN invoices_on_time::{HI} * 100 / (invoices_on_time + late_invoices) END, 4) AS on_time_payment_pct,
       round(CASE WHEN late_invoices <> 0 THEN days_late::{HI} / late_invoices END, 4) AS average_days_late,
       overdue_amount,
       round(CASE WHEN prior_revenue <> 0 THEN (revenue - prior_revenue)::{HI} * 100 / prior_revenue END, 4) AS growth_pct,
       complaints,
       round(CASE WHEN survey_count <> 0 THEN survey_total::{HI} / survey_count END, 4) AS average_survey_score,
       referrals, tenure_years,
       %(as_of)s::date - last_order_on AS days_since_last_order,
       %(as_of)s::date - last_contact AS days_since_last_interaction, first_order_on
FROM {scratch["inputs"]}
) AS computed
"""
    insert = f"""
INSERT INTO {partition_table(run_id)} (
    run_id, customer_id, {columns}, percentiles, score, rank, tier, quadrant, protection, action)
SELECT %(run_id)s, f.customer_id, {columns},
       coalesce(s.percentiles, '{{}}'::jsonb), s.score, s.rank, coalesce(s.tier, '{Tier.P}'),
       coalesce(s.quadrant, ''), coalesce(s.protection, ''), coalesce(s.action, '')
FROM {scratch["figures"]} f LEFT JOIN {scratch["scores"]} s ON s.customer_id = f.customer_id
"""

    partial = (
        "0"
        if d_sign > 0
        else (f"(SELECT coalesce(sum(revenue), 0) FROM {CompanyMonth._meta.db_table} WHERE month = %(this_month)s)")
    )
    months = f"""
WITH {edge_cte("ed", "d_days", "sum(o.revenue) AS revenue")},
by_month AS (
    SELECT month, revenue FROM {CompanyMonth._meta.db_table} WHERE month BETWEEN %(arpu_first)s AND %(arpu_last)s
    UNION ALL
    SELECT %(this_month)s, {partial} {"+" if d_sign > 0 else "-"} (SELECT coalesce(sum(revenue), 0) FROM ed)
    WHERE %(this_month)s > %(arpu_last)s
)
SELECT json_object_agg(month, revenue::text) FROM by_month
"""
    return {"inputs": inputs, "fetch": fetch, "figures": figures, "insert": insert, "months": months}, params


RESULTS = CustomerResult._meta.db_table


def column_type(name: str) -> str:
    """The database type of a result column, as the model declares it ("numeric(16, 2)")."""
    return CustomerResult._meta.get_field(name).db_type(connection)


def run_settings(cursor) -> None:
    """For the current transaction only: no JIT (compiling these plans costs more than it saves), room
    for sorts in memory, and merge joins (the inputs come sorted by customer)."""
    cursor.execute("SET LOCAL jit = off")
    cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
    cursor.execute("SET LOCAL enable_hashjoin = off")


def partition_table(run_id: int) -> str:
    """The run's own table: written without indexes, then attached as its partition of the results
    (migration 0009), when PostgreSQL builds each index in one sorted pass."""
    return f"{RESULTS}_r{int(run_id)}"


def drop_result_partitions(run_ids) -> None:
    """Drops the partitions of runs that go; waits at most 2 s for readers (a later run tries again)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s AND c.relname = ANY(%s)",
            [RESULTS, [partition_table(pk) for pk in run_ids]],
        )
        names = [row[0] for row in cursor.fetchall()]
    for name in names:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
                cursor.execute(f"DROP TABLE {name}")
        except OperationalError:
            logger.warning("results of an old run (%s) stay until the next run: readers held the table", name)


def scratch_tables(run_id: int) -> dict[str, str]:
    """The run's scratch tables (unlogged, created and dropped inside the run's transaction)."""
    return {name: f"analytics_scratch_r{int(run_id)}_{name}" for name in ("inputs", "figures", "scores")}


def results_and_company(
    *,
    run_id: int,
    window: Window,
    weights: dict[str, int],
    core_pct: int,
    key_pct: int,
    order_handling_cost: Decimal,
    complaint_handling_cost: Decimal,
    previous_run_id: int | None,
    previous_started_at,
    progress=None,
) -> dict:
    """Writes the run's rows and returns the company aggregates (Scored.company's, plus the counts).

    In one transaction, so a kill leaves nothing: the per-customer inputs into a scratch table
    (set-based, from the running totals), their narrow integer rows to keyed.score, its scores back
    with COPY, the run's rows into a table of their own from both, attached as the run's partition.
    `progress(percent, note)`, if given, is told as each step starts; it must write on a connection
    of its own (runs.ProgressElsewhere) to be seen before the end."""
    clock, laps = time.perf_counter(), {}
    progress = progress or (lambda percent, note: None)

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        laps[name], clock = round(now - clock, 3), now

    with transaction.atomic():
        running_extend(window.as_of)  # running totals reach as_of's month (a new month: once)
    lap("extend")
    statements, params = build_sql(
        run_id=run_id,
        window=window,
        order_handling_cost=order_handling_cost,
        complaint_handling_cost=complaint_handling_cost,
    )
    scratch, partition = scratch_tables(run_id), partition_table(run_id)
    with transaction.atomic(), connection.cursor() as cursor:
        run_settings(cursor)
        for table in (*scratch.values(), partition):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(statements["inputs"], params)
        lap("inputs")
        progress(30, gettext_noop("scoring"))
        with psycopg.Cursor(cursor.connection) as raw:  # psycopg's own: binary rows and COPY
            raw.execute(statements["fetch"], params, binary=True)  # integers and dates in binary: no text to parse
            rows = raw.fetchall()
            previous_tiers = {}
            if previous_run_id is not None:
                raw.execute(
                    f"SELECT pr.customer_id, pr.tier FROM {RESULTS} pr JOIN crm_customer pc ON pc.id = pr.customer_id "
                    "WHERE pr.run_id = %s AND pc.created_at <= %s",
                    [previous_run_id, previous_started_at],
                    binary=True,
                )
                previous_tiers = dict(raw.fetchall())
            lap("fetch")
            # keyed.score in a thread while this one waits for the server to compute the figures
            # (psycopg waits without holding the GIL): Python on one core, PostgreSQL on the other.
            # Then the company aggregates in the thread while the server writes and indexes the rows.
            with ThreadPoolExecutor(max_workers=1) as pool:
                scoring = pool.submit(
                    keyed.score,
                    rows,
                    weights=weights,
                    core_pct=core_pct,
                    key_pct=key_pct,
                    order_handling_cents=int(order_handling_cost * 100),
                    complaint_handling_cents=int(complaint_handling_cost * 100),
                )
                cursor.execute(statements["figures"], params)
                lap("figures")
                scored = scoring.result()
                lap("scoring")
                scored_columns = ", ".join(
                    f"{name} {column_type(name)}"
                    for name in ("percentiles", "score", "rank", "tier", "quadrant", "protection", "action")
                )
                cursor.execute(
                    f"CREATE UNLOGGED TABLE {scratch['scores']} (customer_id bigint PRIMARY KEY, {scored_columns})"
                )
                with raw.copy(f"COPY {scratch['scores']} FROM STDIN") as copy:
                    for row in scored.rows:
                        copy.write_row(row)
                lap("scores")
                progress(55, gettext_noop("writing results"))
                aggregates = pool.submit(scored.company, as_of=window.as_of, previous_tiers=previous_tiers)
                cursor.execute(f"CREATE TABLE {partition} (LIKE {RESULTS} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
                # The check lets ATTACH skip its scan of the rows.
                cursor.execute(f"ALTER TABLE {partition} ADD CONSTRAINT {partition}_run CHECK (run_id = {int(run_id)})")
                cursor.execute(statements["insert"], params)
                written = cursor.rowcount
                lap("insert")
                progress(75, gettext_noop("indexing results"))
                cursor.execute(statements["months"], params)
                month_revenue = cursor.fetchone()[0]
                for table in scratch.values():
                    cursor.execute(f"DROP TABLE {table}")
                cursor.execute(f"ALTER TABLE {RESULTS} ATTACH PARTITION {partition} FOR VALUES IN ({int(run_id)})")
                lap("attach")
                company = aggregates.result()
                lap("company")
    lap("commit")
    month_revenue = json.loads(month_revenue) if isinstance(month_revenue, str) else month_revenue
    return {**company, "written": written, "month_revenue": month_revenue, "laps": laps}


def _decimal(value) -> Decimal:
    return Decimal(value) if value is not None else Decimal("0")


def company_figures(row: dict, window: Window, run_id: int) -> dict:
    """The company JSON (same keys, shapes and values as company.company_figures) from the statement's row."""
    from .company import arpu_and_churn, herfindahl, money, pct, to_json

    n = row["with_orders"]
    t = row["totals"] or {}
    total, total_profit = _decimal(t.get("revenue")), _decimal(t.get("profit"))
    top1 = pct(_decimal(t.get("top1")), total) if n else None
    hhi = herfindahl(_decimal(t.get("sum_sq")), total)
    if n and total_profit:
        # The statement returns the running profit at the curve's points only (every n // 400, the last, the peak).
        points = [(index, Decimal(running)) for index, running in row["whale_points"]]
        _peak_share, peak_at = row["whale_peak"]
        whale = {
            "peak_pct": pct(dict(points)[peak_at], total_profit),
            "peak_customers": peak_at,
            "curve": [[str(pct(index, n)), str(pct(running, total_profit))] for index, running in points],
        }
    else:
        whale = {"peak_pct": None, "peak_customers": None, "curve": []}
    first_orders = []
    for day, count in row["first_orders"] or []:
        first_orders.extend([datetime.date.fromisoformat(day)] * count)
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT coalesce(sum(cm.revenue), 0) FROM crm_customer c
               JOIN analytics_customermonth cm ON cm.customer_id = c.id
                AND cm.month >= (date_trunc('month', c.churned_on) - interval '1 year')::date
                AND cm.month < date_trunc('month', c.churned_on)::date
               WHERE c.churned_on BETWEEN %s AND %s""",
            [window.start, window.end],
        )
        lost = cursor.fetchone()[0]
    churn_rows = [
        (pk, datetime.date.fromisoformat(day), reason, datetime.date.fromisoformat(first) if first else None)
        for pk, day, reason, first in row["churned"] or []
    ]
    revenue = {
        datetime.date.fromisoformat(month): Decimal(value) for month, value in (row["month_revenue"] or {}).items()
    }
    tiers = row["tiers"] or {}
    top20 = t.get("top20_count", 0)
    figures = {
        "as_of": window.as_of.isoformat(),
        "window": [window.start.isoformat(), window.end.isoformat()],
        "prior_window": [window.prior_start.isoformat(), window.prior_end.isoformat()],
        "customers": row["customers"],
        "customers_with_orders": n,
        "median_profit": money(row["median_profit"]),
        "tiers": {tier: tiers.get(tier, 0) for tier in Tier.values},
        "revenue": money(total),
        "profit": money(total_profit),
        "top1_share_pct": top1,
        "top5_share_pct": pct(_decimal(t.get("top5")), total),
        "hhi": hhi,
        "concentration_alert": bool((top1 is not None and top1 > 25) or (hhi is not None and hhi > 2500)),
        "top20_count": top20,
        "top20_revenue_share_pct": pct(_decimal(t.get("top20_revenue")), total),
        "top20_profit_share_pct": pct(_decimal(t.get("top20_profit")), total_profit),
        "whale": whale,
        **arpu_and_churn(window, first_orders, churn_rows, revenue, lost),
        "dormant_count": row["dormant_count"],
        "dormant": row["dormant"] or [],
        "top20_trend": {
            "counts": {key: t.get(key, 0) for key in ("growing", "flat", "declining", "new")},
            "declining": row["declining"] or [],
        },
        "tier_migration": row["migration"] or {},
        "neglected_count": row["neglected_count"],
        "neglected": row["neglected"] or [],
    }
    return to_json(figures)
