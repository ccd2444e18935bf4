"""Where a run's results are kept: the one module that knows how each database stores them.

- PostgreSQL: each run writes a table of its own (no index while it fills), attached as its partition
  of the results (migration 0009), when PostgreSQL builds each index in one sorted pass. The core's
  integer columns travel in binary (COPY) into a scratch table, and one INSERT turns them into the
  stored types. Old runs' partitions are dropped; new rows get their statistics.
- Elsewhere (SQLite): bulk_create.
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import numpy as np
from django.db import OperationalError, connection, transaction
from django.db.models import Exists, OuterRef

from crm.models import Customer

from ..models import CustomerResult, RunChart, Tier
from .core import NULL, RESULT, Scored, date_of, fixed

logger = logging.getLogger(__name__)
RESULTS = CustomerResult._meta.db_table


def partition_table(run_id: int) -> str:
    return f"{RESULTS}_r{int(run_id)}"


def write_results(run_id: int, book_ids: np.ndarray, scored: Scored, meanwhile=None) -> tuple[int, object]:
    """Stores every customer's result row for the run, in one transaction. Returns the rows written and
    what `meanwhile()` returned: on PostgreSQL it runs in a thread while the server writes and indexes
    the rows (it must not use the database), elsewhere after them."""
    if connection.vendor == "postgresql":
        with ThreadPoolExecutor(max_workers=1) as pool:
            result = pool.submit(_closing, meanwhile or (lambda: None))
            with transaction.atomic():
                written = _copy_results(run_id, book_ids, scored)
            return written, result.result()
    rows = []
    for i, pk in enumerate(book_ids.tolist()):
        values = {name: _value(scale, scored.columns[name][i]) for name, scale in RESULT.items()}
        percentiles = {f: fixed(shown[i], 6) for f, shown in scored.percentiles.items() if shown[i] != NULL}
        rows.append(CustomerResult(run_id=run_id, customer_id=pk, percentiles=percentiles, **values))
    with transaction.atomic():
        CustomerResult.objects.bulk_create(rows, batch_size=2000)
    return len(rows), meanwhile() if meanwhile else None


def _closing(work):
    try:
        return work()
    finally:
        connection.close()  # the thread's own, if `work` opened one


def _value(scale, value):
    """The stored value of one of the core's integers."""
    value = int(value)
    if isinstance(scale, tuple):
        return scale[value]
    if value == NULL:
        return None
    if scale == "date":
        return date_of(value)
    return value if scale == 0 else Decimal(value).scaleb(-scale)


def _stored(name: str, scale) -> str:
    """SQL turning the core's integer column into the stored value."""
    column = f"nullif(s.{name}, {NULL})"
    if isinstance(scale, tuple):
        return f"(ARRAY[{', '.join(repr(text) for text in scale)}])[s.{name} + 1]"
    if scale == "date":
        return f"DATE '1970-01-01' + {column}::int"
    return column if scale == 0 else f"{column} * 0.{'0' * (scale - 1)}1"


def _copy_results(run_id: int, book_ids: np.ndarray, scored: Scored) -> int:
    """The rows in binary into a scratch table, then into the run's own table, attached as its partition."""
    factors = sorted(scored.percentiles)
    names = ["customer_id", *RESULT, *(f"pct_{f}" for f in factors)]
    values = [book_ids, *(scored.columns[name] for name in RESULT), *(scored.percentiles[f] for f in factors)]
    scratch, partition = f"analytics_scratch_r{int(run_id)}_results", partition_table(run_id)
    percentiles = ", ".join(f"'{f}', (nullif(s.pct_{f}, {NULL}) * 0.000001)::text" for f in factors)
    has = f"s.rank <> {NULL}"
    with connection.cursor() as cursor:
        for table in (scratch, partition):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE UNLOGGED TABLE {scratch} ({', '.join(f'{n} int8' for n in names)})")
        with cursor.connection.cursor().copy(f"COPY {scratch} FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(b"PGCOPY\n\xff\r\n\x00" + bytes(8))
            for start in range(0, len(book_ids), 10000):  # in slices: a few MB at a time
                copy.write(_binary_int8([column[start : start + 10000] for column in values]))
            copy.write(b"\xff\xff")
        cursor.execute(f"CREATE TABLE {partition} (LIKE {RESULTS} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        # The check lets ATTACH skip its scan of the rows.
        cursor.execute(f"ALTER TABLE {partition} ADD CONSTRAINT {partition}_run CHECK (run_id = {int(run_id)})")
        cursor.execute(
            f"""INSERT INTO {partition} (run_id, customer_id, {", ".join(RESULT)}, percentiles)
                SELECT {int(run_id)}, s.customer_id, {", ".join(_stored(n, scale) for n, scale in RESULT.items())},
                       CASE WHEN {has} THEN jsonb_build_object({percentiles}) ELSE '{{}}'::jsonb END
                FROM {scratch} s"""
        )
        written = cursor.rowcount
        cursor.execute(f"DROP TABLE {scratch}")
        cursor.execute(f"ALTER TABLE {RESULTS} ATTACH PARTITION {partition} FOR VALUES IN ({int(run_id)})")
    return written


def _binary_int8(columns: list[np.ndarray]) -> bytes:
    """Tuples of non-null int8 columns in binary COPY's format (the header and trailer apart)."""
    k = len(columns)
    row = np.dtype([("n", ">i2"), *[(str(i), [("len", ">i4"), ("v", ">i8")]) for i in range(k)]])
    table = np.zeros(len(columns[0]), dtype=row)
    table["n"] = k
    for i, values in enumerate(columns):
        table[str(i)]["len"] = 8
        table[str(i)]["v"] = values
    return table.tobytes()


def discard_results(run_id: int) -> None:
    """Removes whatever rows and charts a run left (a failed or killed attempt); readers never saw them."""
    CustomerResult.objects.filter(run_id=run_id)._raw_delete(CustomerResult.objects.db)
    drop_partitions([run_id])
    RunChart.objects.filter(run_id=run_id).delete()


def drop_partitions(run_ids) -> None:
    """Drops the partitions of runs that go; waits at most 2 s for readers (a later run tries again)."""
    if connection.vendor != "postgresql" or not run_ids:
        return
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


def delete_runs_results(run_ids: list[int]) -> None:
    """The rows of runs that go (inside publication's transaction); on PostgreSQL their partitions go after."""
    if connection.vendor == "postgresql":  # rows outside a partition of their own
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {RESULTS}_default WHERE run_id = ANY(%s)", [run_ids])
    else:
        CustomerResult.objects.filter(run_id__in=run_ids)._raw_delete(CustomerResult.objects.db)


def after_publication(run_id: int, old: list[int]) -> None:
    """Statistics for the new rows (autovacuum may be off or late), and the old runs' partitions go."""
    if connection.vendor != "postgresql":
        return
    drop_partitions(old)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [partition_table(run_id)])
        cursor.execute(f"ANALYZE {partition_table(run_id) if cursor.fetchone()[0] else RESULTS}")


def add_prospects(run_id: int, customer_ids=None) -> int:
    """Gives customers without a row in the run (created after it read its figures) a prospect row:
    no orders in the run's window, so tier P, zero money. Lists rely on every customer having one."""
    missing = _customers_without_row(run_id, customer_ids)
    rows = [CustomerResult(run_id=run_id, customer_id=pk, tier=Tier.P) for pk in missing]
    CustomerResult.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
    return len(rows)


def _customers_without_row(run_id: int, customer_ids=None) -> list[int]:
    if connection.vendor != "postgresql":
        missing = Customer.objects.exclude(
            Exists(CustomerResult.objects.filter(run_id=run_id, customer_id=OuterRef("pk")))
        )
        if customer_ids is not None:
            missing = missing.filter(pk__in=customer_ids)
        return list(missing.values_list("pk", flat=True))
    # A plain anti-join. The ORM's NOT EXISTS (... LIMIT 1) runs once per customer, and while the run's
    # rows are not analyzed yet the planner may read them through (run_id, tier): minutes at 100,000.
    sql = (
        f"SELECT c.id FROM {Customer._meta.db_table} c WHERE NOT EXISTS (SELECT 1 FROM {RESULTS} r "
        "WHERE r.run_id = %s AND r.customer_id = c.id)"
    )
    params = [run_id]
    if customer_ids is not None:
        sql += " AND c.id = ANY(%s)"
        params.append(list(customer_ids))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]
