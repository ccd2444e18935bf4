"""Readers: each customer's inputs for a window, as the core's `Book`, read the way each database reads best.

- PostgreSQL (`_sql_book`): one set-based statement reads each customer's running totals at three
  month ends plus the orders of at most half a month of edge days per boundary (_boundary), so its
  reading does not grow with the order history: the window's sums are differences of running sums.
  The narrow integer rows go into an unlogged scratch table and come back in binary (COPY), straight
  into numpy columns.
- Elsewhere (`_orm_book`, SQLite): grouped ORM queries over the orders of the two windows.
Both return the same rows; tests/analytics/test_core.py proves it on PostgreSQL. Nothing is decided
here: the core (core.py) decides every figure.
"""

import datetime
from decimal import Decimal

import numpy as np
import psycopg
from django.db import connection, transaction
from django.db.models import Case, Count, DateField, DurationField, ExpressionWrapper, F, Max, Min, Q, Sum, Value, When
from django.utils import timezone

from complaints.models import Complaint, State
from complaints.selectors import complaint_period_kpis
from crm.models import Customer, Interaction, Invoice, Order, Survey

from ..models import CompanyMonth, CustomerMonth, CustomerRunningTotal
from ..totals import ORDER_SUMS, counted_orders, orders_in_months, running_extend
from .core import BOOK, NULL, Book, Window, day_number, month_ends, month_start, next_month

NOT_COUNTED_COMPLAINTS = (State.REJECTED, State.DUPLICATE)
WORK_MEM = "128MB"


def read_book(window: Window, *, scratch: str = "analytics_scratch_inputs") -> Book:
    """Every customer's inputs for the window (on PostgreSQL in a transaction of its own)."""
    if connection.vendor == "postgresql":
        return _sql_book(window, scratch)
    return _orm_book(window)


def read_company_inputs(window: Window) -> dict:
    """What the company figures read besides the book: the company's revenue by month (as_of's month up
    to as_of), and the revenue each customer churned in the window brought in the 12 whole months before
    its churn month (summed)."""
    if connection.vendor == "postgresql":
        return _sql_company_inputs(window)
    return _orm_company_inputs(window)


def read_service_figures(first: datetime.date, last: datetime.date) -> dict:
    """The complaint KPIs of the complaints received on the days first..last (both included, in the
    current time zone), as the complaints stand now (complaints.selectors.complaint_period_kpis; the
    orders from the monthly totals kept with them). The run keeps them with its company figures, so
    its service page reads them as of the run, as it reads every other figure. Decimals as text (JSON).
    """
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(first, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    kpis = complaint_period_kpis(start=start, end=end, months_orders=orders_in_months)
    return {key: str(value) if isinstance(value, Decimal) else value for key, value in kpis.items()}


def previous_tiers(run) -> dict[int, str]:
    """The tiers of a previous run, for the migration. Customers that came after it started hold only a
    stand-in prospect row there (storage.add_prospects): for the migration they are new."""
    if run is None:
        return {}
    rows = run.results.filter(customer__created_at__lte=run.started_at).values_list("customer_id", "tier")
    if connection.vendor != "postgresql":
        return dict(rows)
    with connection.cursor() as cursor, psycopg.Cursor(cursor.connection) as raw:  # psycopg's own
        raw.execute(*rows.query.sql_with_params(), binary=True)  # integers in binary: no text to parse
        return dict(raw.fetchall())


# ----------------------------------------------------------------------------------- PostgreSQL


def run_settings(cursor) -> None:
    """For the current transaction only: no JIT (compiling these plans costs more than it saves), room
    for sorts in memory, and merge joins (the inputs come sorted by customer)."""
    cursor.execute("SET LOCAL jit = off")
    cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
    cursor.execute("SET LOCAL enable_hashjoin = off")


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


def _edge_sums(days: list[datetime.date]) -> str:
    """SQL of the counted orders' sums per customer on the given days (the rule in totals.ORDER_SUMS)."""
    query = counted_orders().filter(ordered_on__in=days or [datetime.date.min]).values("customer_id")
    return connection.ops.compose_sql(*query.annotate(**ORDER_SUMS).order_by().query.sql_with_params())


# Running-total columns and the names totals.ORDER_SUMS gives the same sums.
SUMS = {
    "revenue": "total_revenue",
    "cost": "total_cost",
    "service_cost": "total_service_cost",
    "orders": "order_count",
    "error_orders": "error_count",
    "dated_deliveries": "dated_count",
    "on_time_deliveries": "on_time_count",
}


def input_statement(window: Window, scratch: str) -> tuple[str, dict]:
    """The statement that writes every customer's book row into the unlogged table `scratch`."""
    as_of = window.as_of
    if window.end != as_of or window.prior_end != window.start - datetime.timedelta(days=1):
        raise ValueError("the SQL reader needs a window ending at as_of and a prior window ending the day before it")
    d_month, d_days, d_sign = _boundary(as_of)
    s_month, s_days, s_sign = _boundary(window.start - datetime.timedelta(days=1))
    p_month, p_days, p_sign = _boundary(window.prior_start - datetime.timedelta(days=1))
    params = {
        "as_of": as_of,
        "start": window.start,
        "end": window.end,
        "d_month": d_month,
        "s_month": s_month,
        "p_month": p_month,
        "not_counted": [s.value for s in NOT_COUNTED_COMPLAINTS],
        "tz": timezone.get_current_timezone_name(),
    }

    def cum(alias: str, edge: str, sign: int, column: str) -> str:
        return f"(coalesce({alias}.{column}, 0) {'+' if sign > 0 else '-'} coalesce({edge}.{SUMS[column]}, 0))"

    def window_sum(column: str) -> str:
        return f"{cum('rd', 'ed', d_sign, column)} - {cum('rs', 'es', s_sign, column)}"

    if d_sign > 0:  # as_of's month: the running row of the month before, plus the days up to as_of
        first_order, last_order = "coalesce(rd.first_order_on, ed.first_on)", "coalesce(ed.last_on, rd.last_order_on)"
    else:  # the running row of as_of's month, less the days after as_of (orders dated after as_of, if any)
        first_order = "CASE WHEN rd.first_order_on <= %(as_of)s THEN rd.first_order_on END"
        last_order = """CASE WHEN rd.last_order_on <= %(as_of)s THEN rd.last_order_on
            WHEN rd.first_order_on <= %(as_of)s THEN (
                SELECT max(o.ordered_on) FROM crm_order o
                WHERE o.customer_id = c.id AND o.ordered_on <= %(as_of)s AND o.status = ANY(%(counted)s)) END"""
        params["counted"] = [s.value for s in Order.COUNTED_STATUSES]
    running = CustomerRunningTotal._meta.db_table
    unpaid_due = "((paid_on IS NULL OR paid_on > %(as_of)s) AND due_on < %(as_of)s)"
    late = f"((paid_on <= %(as_of)s AND paid_on > due_on) OR {unpaid_due})"

    def day(expression: str) -> str:
        return f"coalesce(({expression}) - DATE '1970-01-01', {NULL})"

    def money(expression: str) -> str:
        return f"(({expression}) * 100)::int8"

    columns = {
        "customer_id": "c.id",
        "orders": window_sum("orders"),
        "revenue": money(window_sum("revenue")),
        "cost_of_goods": money(window_sum("cost")),
        "service_cost": money(window_sum("service_cost")),
        "error_orders": window_sum("error_orders"),
        "dated": window_sum("dated_deliveries"),
        "on_time_deliveries": window_sum("on_time_deliveries"),
        "prior_revenue": money(f"{cum('rs', 'es', s_sign, 'revenue')} - {cum('rp', 'ep', p_sign, 'revenue')}"),
        "invoices_on_time": "coalesce(pay.on_time, 0)",
        "late_invoices": "coalesce(pay.late, 0)",
        "days_late": "coalesce(pay.days_late, 0)",
        "overdue_amount": money("coalesce(pay.overdue_amount, 0)"),
        "complaints": "coalesce(compl.n, 0)",
        "survey_total": "coalesce(surv.total, 0)",
        "survey_count": "coalesce(surv.n, 0)",
        "referrals": "coalesce(refs.n, 0)",
        "growth_potential": "c.growth_potential",
        "strategic": "c.strategic::int",
        "since": day("c.since"),
        "first_order_on": day(first_order),
        "last_order_on": day(last_order),
        "last_contact_on": day("contact.last"),
        "churned_on": day("c.churned_on"),
    }
    assert tuple(columns) == BOOK
    select = ",\n       ".join(f"({sql})::int8 AS {name}" for name, sql in columns.items())
    sql = f"""
CREATE UNLOGGED TABLE {scratch} AS
WITH
ed AS ({_edge_sums(d_days)}),
es AS ({_edge_sums(s_days)}),
ep AS ({_edge_sums(p_days)}),
pay AS (
    SELECT customer_id,
           count(*) FILTER (WHERE paid_on <= %(as_of)s AND paid_on <= due_on) AS on_time,
           count(*) FILTER (WHERE {late}) AS late,
           sum(amount) FILTER (WHERE {unpaid_due}) AS overdue_amount,
           sum(CASE WHEN paid_on <= %(as_of)s THEN paid_on ELSE %(as_of)s END - due_on) FILTER (WHERE {late}) AS days_late
    FROM crm_invoice WHERE due_on BETWEEN %(start)s AND %(end)s GROUP BY customer_id
),
compl AS (
    SELECT customer_id, count(*) AS n FROM complaints_complaint
    WHERE (received_at AT TIME ZONE %(tz)s)::date BETWEEN %(start)s AND %(end)s AND NOT (state = ANY(%(not_counted)s))
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
)
SELECT {select},
       c.code, c.churn_reason
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
"""
    return sql, params


def _sql_book(window: Window, scratch: str) -> Book:
    running_extend(window.as_of)  # running totals reach as_of's month (a new month: once)
    sql, params = input_statement(window, scratch)
    with transaction.atomic(), connection.cursor() as cursor:
        run_settings(cursor)
        cursor.execute(f"DROP TABLE IF EXISTS {scratch}")
        cursor.execute(sql, params)
        raw = cursor.connection.cursor()  # psycopg's own: binary COPY
        data = bytearray()
        with raw.copy(f"COPY {scratch} ({', '.join(BOOK)}) TO STDOUT (FORMAT BINARY)") as copy:
            for chunk in copy:
                data += chunk
        cursor.execute(f"SELECT customer_id, code, churn_reason FROM {scratch}")
        texts = cursor.fetchall()
        cursor.execute(f"DROP TABLE {scratch}")
    columns = _binary_int8(data, len(BOOK))
    order = np.argsort(columns[0], kind="stable")
    texts.sort()
    return Book(
        code=[code for _id, code, _reason in texts],
        churn_reason=[reason for _id, _code, reason in texts],
        **{name: values[order] for name, values in zip(BOOK, columns, strict=True)},
    )


def _binary_int8(data: bytes, fields: int) -> list[np.ndarray]:
    """The columns of a binary COPY whose fields are all non-null int8: fixed-size tuples after a
    19-byte header (no extension), each a 2-byte field count and (4-byte length, 8-byte value) per field."""
    row = np.dtype([("n", ">i2"), *[(f, [("len", ">i4"), ("v", ">i8")]) for f in map(str, range(fields))]])
    rows = (len(data) - 19 - 2) // row.itemsize
    table = np.frombuffer(data, dtype=row, count=rows, offset=19)
    return [table[str(i)]["v"].astype(np.int64) for i in range(fields)]


def _sql_company_inputs(window: Window) -> dict:
    this_month = month_start(window.as_of)
    whole = [
        first for first, last in month_ends(window.as_of) if last == next_month(first) - datetime.timedelta(days=1)
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT month, revenue FROM {CompanyMonth._meta.db_table} WHERE month = ANY(%s)", [[*whole, this_month]]
        )
        stored = dict(cursor.fetchall())
        revenue = {month: stored[month] for month in whole if month in stored}
        if this_month not in whole:  # as_of's month up to as_of: its total less the later days, or its first days
            _month, days, sign = _boundary(window.as_of)
            cursor.execute(f"SELECT coalesce(sum(total_revenue), 0) FROM ({_edge_sums(days)}) AS edge")
            revenue[this_month] = (stored.get(this_month, 0) if sign < 0 else 0) + sign * cursor.fetchone()[0]
        cursor.execute(
            f"""SELECT coalesce(sum(cm.revenue), 0) FROM crm_customer c
               JOIN {CustomerMonth._meta.db_table} cm ON cm.customer_id = c.id
                AND cm.month >= (date_trunc('month', c.churned_on) - interval '1 year')::date
                AND cm.month < date_trunc('month', c.churned_on)::date
               WHERE c.churned_on BETWEEN %s AND %s""",
            [window.start, window.end],
        )
        return {"month_revenue": revenue, "revenue_lost": cursor.fetchone()[0]}


# ---------------------------------------------------------------------------------- the ORM reader


def _grouped(queryset, **aggregates) -> dict[int, dict]:
    return {row.pop("customer_id"): row for row in queryset.values("customer_id").annotate(**aggregates).order_by()}


def _orm_book(window: Window) -> Book:
    as_of, start, end = window.as_of, window.start, window.end
    orders = counted_orders()
    sums = _grouped(orders.filter(ordered_on__gte=start, ordered_on__lte=end), **ORDER_SUMS)
    prior = _grouped(orders.filter(ordered_on__gte=window.prior_start, ordered_on__lte=window.prior_end), **ORDER_SUMS)
    span = _grouped(orders.filter(ordered_on__lte=as_of), first=Min("ordered_on"), last=Max("ordered_on"))
    # Invoices due in the window. On time: paid on or before due_on. Late: paid after due_on, or unpaid
    # (as of as_of) and due before as_of. Unpaid and not yet due: not counted. Days late run to the
    # payment, or to as_of while unpaid. Overdue amount: the late ones still unpaid at as_of.
    paid = Q(paid_on__isnull=False) & Q(paid_on__lte=as_of)
    overdue = (Q(paid_on__isnull=True) | Q(paid_on__gt=as_of)) & Q(due_on__lt=as_of)
    late = (paid & Q(paid_on__gt=F("due_on"))) | overdue
    settled = Case(When(paid, then=F("paid_on")), default=Value(as_of), output_field=DateField())
    pay = _grouped(
        Invoice.objects.filter(due_on__gte=start, due_on__lte=end),
        on_time=Count("id", filter=paid & Q(paid_on__lte=F("due_on"))),
        late=Count("id", filter=late),
        overdue_amount=Sum("amount", filter=overdue),
        days_late=Sum(ExpressionWrapper(settled - F("due_on"), output_field=DurationField()), filter=late),
    )
    complaints = _grouped(
        Complaint.objects.filter(received_at__date__gte=start, received_at__date__lte=end).exclude(
            state__in=NOT_COUNTED_COMPLAINTS
        ),
        n=Count("id"),
    )
    surveys = _grouped(
        Survey.objects.filter(answered_on__gte=start, answered_on__lte=end), total=Sum("score"), n=Count("id")
    )
    contacts = _grouped(Interaction.objects.filter(occurred_on__lte=as_of), last=Max("occurred_on"))
    referrals = dict(
        Customer.objects.filter(referred_by__isnull=False)
        .values_list("referred_by_id")
        .annotate(Count("id"))
        .order_by()
    )
    rows, codes, reasons = [], [], []
    for pk, code, since, potential, strategic, churned_on, reason in Customer.objects.order_by("pk").values_list(
        "pk", "code", "since", "growth_potential", "strategic", "churned_on", "churn_reason"
    ):
        s, p, first_last = sums.get(pk, {}), prior.get(pk, {}), span.get(pk, {})
        i, c, v = pay.get(pk, {}), complaints.get(pk, {}), surveys.get(pk, {})
        codes.append(code)
        reasons.append(reason)
        rows.append(
            (
                pk,
                s.get("order_count", 0),
                _cents(s.get("total_revenue")),
                _cents(s.get("total_cost")),
                _cents(s.get("total_service_cost")),
                s.get("error_count", 0),
                s.get("dated_count", 0),
                s.get("on_time_count", 0),
                _cents(p.get("total_revenue")),
                i.get("on_time", 0),
                i.get("late", 0),
                i["days_late"].days if i.get("days_late") else 0,
                _cents(i.get("overdue_amount")),
                c.get("n", 0),
                v.get("total") or 0,
                v.get("n", 0),
                referrals.get(pk, 0),
                potential,
                int(strategic),
                day_number(since),
                day_number(first_last.get("first")),
                day_number(first_last.get("last")),
                day_number(contacts.get(pk, {}).get("last")),
                day_number(churned_on),
            )
        )
    table = np.array(rows, dtype=np.int64).reshape(-1, len(BOOK))
    return Book(code=codes, churn_reason=reasons, **{name: table[:, i] for i, name in enumerate(BOOK)})


def _cents(value) -> int:
    return int(value * 100) if value else 0


def _orm_company_inputs(window: Window) -> dict:
    months = month_ends(window.as_of)
    revenue = {}
    for first, last in months:
        total = counted_orders().filter(ordered_on__gte=first, ordered_on__lte=last).aggregate(t=Sum("revenue"))["t"]
        if total is not None:
            revenue[first] = total
    # Revenue lost: each churned customer's revenue in the 12 whole months before its churn month.
    churned = Customer.objects.filter(churned_on__gte=window.start, churned_on__lte=window.end)
    churn_month = {pk: month_start(day) for pk, day in churned.values_list("pk", "churned_on")}
    rows = CustomerMonth.objects.filter(customer_id__in=list(churn_month)).values_list(
        "customer_id", "month", "revenue"
    )
    lost = sum(
        (
            r
            for pk, month, r in rows
            if churn_month[pk].replace(year=churn_month[pk].year - 1) <= month < churn_month[pk]
        ),
        start=0,
    )
    return {"month_revenue": revenue, "revenue_lost": lost}
