"""Orders on PostgreSQL: a million rows in well under two minutes, in bounded memory.

Each row is parsed and checked in Python as it streams from the file (the same parsers and
messages as everywhere) and COPYed into a temporary staging table. The checks that need the
whole file or the database run as SQL on the staging table: unknown customer codes, numbers
given twice. A clean file is then written with one INSERT ... ON CONFLICT (number) DO UPDATE,
and the monthly totals of exactly the touched (customer, month) pairs, old places of moved
orders included, are rebuilt in SQL. All of it is one transaction.
"""

from django.db import connection, transaction
from django.utils.translation import gettext_noop

from analytics.totals import month_of_sql, monthly_totals_rebuild_pairs
from crm.models import Customer, Order

from .readers import RowSource
from .report import ImportFileError, ImportReport, RowProblem
from .rows import parse_row

STAGE = "exchange_stage_orders"
WORK_MEM = "64MB"
# staged column -> (file column, SQL type, value when the file has no such column)
STAGED = {
    "number": ("number", "text", None),
    "customer_code": ("customer", "text", None),
    "ordered_on": ("ordered_on", "date", None),
    "revenue": ("revenue", "numeric(14,2)", None),
    "cost": ("cost", "numeric(14,2)", None),
    "service_cost": ("service_cost", "numeric(14,2)", "0"),
    "quantity": ("quantity", "integer", "1"),
    "promised_on": ("promised_on", "date", None),
    "delivered_on": ("delivered_on", "date", None),
    "entry_error": ("error", "boolean", "false"),
    "status": ("status", "text", f"'{Order.Status.DELIVERED}'"),
}


def _stage(cursor, source: RowSource, columns, report: ImportReport, progress) -> int:
    names = list(STAGED)
    cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
    cursor.execute(
        f"CREATE TEMP TABLE {STAGE} (line integer NOT NULL, "
        + ", ".join(f"{name} {sql_type}" for name, (_c, sql_type, _d) in STAGED.items())
        + ") ON COMMIT DROP"
    )
    file_columns = [STAGED[name][0] for name in names]
    rows = 0
    with cursor.cursor.copy(f"COPY {STAGE} (line, {', '.join(names)}) FROM STDIN") as copy:
        for line, cells in source.rows():
            rows += 1
            row = parse_row(line, cells, columns, report)
            copy.write_row((line, *[row.get(column) for column in file_columns]))
            if rows % 20000 == 0:
                progress(int(70 * source.fraction_read()), gettext_noop("reading"))
    return rows


def _set_checks(cursor, report: ImportReport) -> None:
    room = report.max_listed
    customer = Customer._meta.db_table
    cursor.execute(
        f"SELECT line, customer_code, COUNT(*) OVER () FROM {STAGE} s WHERE customer_code IS NOT NULL "
        f"AND NOT EXISTS (SELECT 1 FROM {customer} c WHERE c.code = s.customer_code) ORDER BY line LIMIT %s",
        [room],
    )
    found = cursor.fetchall()
    for line, code, _total in found:
        report.add(RowProblem(line, "customer", code, "unknown_customer"))
    if found:
        report.problem_count += found[0][2] - len(found)
    # numbers given twice: found by one hash aggregate; their lines only when there are any
    cursor.execute(f"SELECT COUNT(*) FROM (SELECT number FROM {STAGE} GROUP BY number HAVING COUNT(*) > 1) AS d")
    if cursor.fetchone()[0]:
        cursor.execute(
            f"SELECT line, number, first_line, COUNT(*) OVER () FROM ("
            f"  SELECT line, number, MIN(line) OVER (PARTITION BY number) AS first_line FROM {STAGE} WHERE number IS NOT NULL"
            f") AS d WHERE line <> first_line ORDER BY line LIMIT %s",
            [room],
        )
        found = cursor.fetchall()
        for line, number, first, _total in found:
            report.add(
                RowProblem(line, "number", number, "duplicate_key", {"key": f"number “{number}”", "line": first})
            )
        if found:
            report.problem_count += found[0][3] - len(found)


CHANGED = "exchange_stage_order_changes"


def _changes(cursor, present: set[str]) -> tuple[int, int]:
    """The rows that change something: new numbers, and existing ones where a column in the file
    differs. Re-importing an unchanged export writes nothing. Returns how many are new and how
    many change an existing order; the other rows are unchanged."""
    order, customer = Order._meta.db_table, Customer._meta.db_table
    compared = [
        ("o.customer_id", "c.id") if name == "customer_code" else (f"o.{name}", _staged_value(name))
        for name, (column, _t, _d) in STAGED.items()
        if name != "number" and column in present
    ]
    cursor.execute(f"DROP TABLE IF EXISTS {CHANGED}")
    cursor.execute(
        f"CREATE TEMP TABLE {CHANGED} ON COMMIT DROP AS "
        f"SELECT s.*, c.id AS customer_id, o.id AS order_id, o.customer_id AS old_customer_id, "
        f"o.ordered_on AS old_ordered_on "
        f"FROM {STAGE} s JOIN {customer} c ON c.code = s.customer_code LEFT JOIN {order} o ON o.number = s.number "
        f"WHERE o.id IS NULL OR ({', '.join(a for a, _b in compared)}) "
        f"IS DISTINCT FROM ({', '.join(b for _a, b in compared)})"
    )
    cursor.execute(f"ANALYZE {CHANGED}")
    cursor.execute(
        f"SELECT COUNT(*) FILTER (WHERE order_id IS NULL), COUNT(*) FILTER (WHERE order_id IS NOT NULL) FROM {CHANGED}"
    )
    return cursor.fetchone()


def _staged_value(name: str, table: str = "s") -> str:
    default = STAGED[name][2]
    return f"COALESCE({table}.{name}, {default})" if default else f"{table}.{name}"


def _write(cursor, present: set[str]) -> tuple[int, int]:
    """Existing orders: one UPDATE joined on the primary key. New ones: one INSERT ... ON CONFLICT
    (number) DO UPDATE (the conflict branch only matters if someone adds the same number meanwhile,
    and writes only when a value differs). Returns (inserted, updated) as the database counted
    them: RETURNING (xmax = 0) is true for an inserted row, false for one the conflict updated."""
    order = Order._meta.db_table
    targets = ["customer_id" if name == "customer_code" else name for name in STAGED]
    changing = [
        (target, "ch.customer_id" if name == "customer_code" else f"ch.{name}")
        for target, (name, (column, _t, _d)) in zip(targets, STAGED.items(), strict=True)
        if name != "number" and column in present
    ]
    cursor.execute(
        f"UPDATE {order} o SET {', '.join(f'{t} = {v}' for t, v in changing)} FROM {CHANGED} ch "
        f"WHERE o.id = ch.order_id"
    )
    updated = cursor.rowcount
    values = ["ch.customer_id" if name == "customer_code" else _staged_value(name, "ch") for name in STAGED]
    cursor.execute(
        f"WITH written AS ("
        f"  INSERT INTO {order} AS o ({', '.join(targets)}) SELECT {', '.join(values)} FROM {CHANGED} ch "
        f"  WHERE ch.order_id IS NULL "
        f"  ON CONFLICT (number) DO UPDATE SET {', '.join(f'{t} = EXCLUDED.{t}' for t, _v in changing)} "
        f"  WHERE ({', '.join(f'o.{t}' for t, _v in changing)}) IS DISTINCT FROM "
        f"({', '.join(f'EXCLUDED.{t}' for t, _v in changing)}) "
        f"  RETURNING (xmax = 0) AS inserted"
        f") SELECT COUNT(*) FILTER (WHERE inserted), COUNT(*) FILTER (WHERE NOT inserted) FROM written"
    )
    inserted, conflicted = cursor.fetchone()
    return inserted, updated + conflicted


def import_orders_postgres(*, source: RowSource, columns, report: ImportReport, progress, by=None) -> None:
    present = set(source.header)
    with transaction.atomic():
        with connection.cursor() as cursor:
            # For this transaction only: hash joins and aggregates over a million staged rows
            # stay in memory instead of spilling to temporary files.
            cursor.execute("SELECT set_config('work_mem', %s, true)", [WORK_MEM])
            report.rows = _stage(cursor, source, columns, report, progress)
            if report.rows == 0:
                raise ImportFileError("no_rows")
            cursor.execute(f"ANALYZE {STAGE}")
            progress(72, gettext_noop("checking"))
            _set_checks(cursor, report)
            if not report.ok:
                return
            report.created, report.updated = _changes(cursor, present)
            report.unchanged = report.rows - report.created - report.updated
            if report.dry_run:
                return
            progress(75, gettext_noop("writing"))
            report.created, report.updated = _write(cursor, present)
            report.unchanged = report.rows - report.created - report.updated
            progress(92, gettext_noop("monthly totals"))
            # The customer-months the changed orders counted in before the write (CHANGED keeps
            # their old customer and day) and the ones they count in now.
            pairs = monthly_totals_rebuild_pairs(
                pairs_sql=(
                    f"SELECT old_customer_id AS customer_id, {month_of_sql('old_ordered_on')} AS month "
                    f"FROM {CHANGED} WHERE order_id IS NOT NULL "
                    f"UNION SELECT customer_id, {month_of_sql('ordered_on')} FROM {CHANGED}",
                    [],
                )
            )
            report.note("monthly_totals", pairs=pairs)
