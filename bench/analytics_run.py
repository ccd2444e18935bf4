"""Benchmark: a full analysis run against the plain GROUP BY over every order (PostgreSQL).

Usage (see bench/README.md), always under the benchmark lock:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench flock /tmp/bench.lock \
        .venv/bin/python bench/analytics_run.py [--runs 3] [--no-double] [--floor]

Reports, in one process and one database:
  a) median time of  SELECT customer_id, SUM(revenue), SUM(cost), COUNT(*) FROM crm_order GROUP BY customer_id
  b) median time of a full analysis run (`recompute` in a fresh process, as a worker would run it; the
     run's own clock from claim to publication, and the process's wall time beside it)
  and b/a (bar: <= 1.5), plus the worker's peak memory (bar: < 1 GiB).
Then (unless --no-double) the order history is doubled for the same customers (every order copied
24 months earlier), the monthly totals of the months it touched rebuilt, and a and b measured again
(bar: b doubled <= 1.2 x b). The copies are always removed at the end, also on Ctrl-C, SIGTERM or an
error, and a copy left by a killed earlier run is removed before measuring.
With --floor, also what any run has to spend on this database whatever its scoring (each part in a
transaction that is rolled back, median of --runs): writing the published run's rows again into a
table of their own and building every index the results table has (what a run's partition gets at
its ATTACH), and reading the per-customer inputs (the run's own `inputs` statement); against the
time the bar leaves (1.5 a).
"""

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from analytics.models import AnalysisRun, CustomerResult  # noqa: E402
from analytics.services import readers  # noqa: E402
from analytics.services.runs import published_run, run_window  # noqa: E402
from analytics.totals import monthly_totals_rebuild  # noqa: E402
from crm.models import Customer, Order  # noqa: E402

PLAIN = "SELECT customer_id, SUM(revenue), SUM(cost), COUNT(*) FROM crm_order GROUP BY customer_id"
COPY_PREFIX = "DBL"  # order numbers of the doubled history


def plain_query_seconds() -> float:
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(PLAIN)
        cursor.fetchall()
        return time.perf_counter() - started


def run_seconds() -> tuple[float, float, dict]:
    """One `recompute` in a child process: (run time from the run's own timings, peak RSS MiB, timings)."""
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-c", MEASURED_CHILD], cwd=ROOT, check=True, capture_output=True, text=True, env=os.environ
    )
    wall = time.perf_counter() - started
    peak = int(child.stdout.strip().splitlines()[-1]) / 1024  # the child's own ru_maxrss, KiB
    run = AnalysisRun.objects.filter(status=AnalysisRun.Status.SUCCEEDED).order_by("-published_at").first()
    return run.timings["total"], peak, {**run.timings, "process_wall": round(wall, 2)}


# `manage.py recompute`, then the process's peak resident memory (each measured run is its own process).
MEASURED_CHILD = """
import resource, sys
sys.argv = ["manage.py", "recompute", "--skip-checks"]
from django.core.management import execute_from_command_line
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
execute_from_command_line(sys.argv)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def measure(runs: int) -> dict:
    plain = [plain_query_seconds() for _ in range(runs + 1)][1:]  # first one warms the cache
    results = [run_seconds() for _ in range(runs)]
    a, b = statistics.median(plain), statistics.median(r[0] for r in results)
    return {
        "a": a,
        "b": b,
        "ratio": b / a,
        "peak_mib": max(r[1] for r in results),
        "timings": results[-1][2],
        "a_all": [round(x, 2) for x in plain],
        "b_all": [r[0] for r in results],
    }


def floor_seconds(runs: int) -> dict:
    """Medians of (write) the published run's rows written again and indexed as a run's partition is,
    and (inputs) the run's `inputs` statement alone; both rolled back, with the run's own settings."""
    run = published_run()
    results = CustomerResult._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s", [results]
        )
        indexes = [
            re.sub(r"^CREATE (UNIQUE )?INDEX \S+ ON ONLY \S+ ", r"CREATE \1INDEX ON floor_copy ", row[0])
            for row in cursor.fetchall()
        ]
    inputs, params = readers.input_statement(run_window(run), "floor_inputs")

    def timed(work) -> float:
        with transaction.atomic(), connection.cursor() as cursor:
            readers.run_settings(cursor)
            started = time.perf_counter()
            work(cursor)
            elapsed = time.perf_counter() - started
            transaction.set_rollback(True)
        return elapsed

    def write(cursor) -> None:
        cursor.execute(f"CREATE TABLE floor_copy (LIKE {results} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        cursor.execute(f"INSERT INTO floor_copy SELECT * FROM {results} WHERE run_id = %s", [run.pk])
        for index in indexes:
            cursor.execute(index)

    writes = [timed(write) for _ in range(runs)]
    inputs = [timed(lambda cursor: cursor.execute(inputs, params)) for _ in range(runs)]
    return {
        "write": statistics.median(writes),
        "inputs": statistics.median(inputs),
        "indexes": len(indexes),
        "rows": CustomerResult.objects.filter(run=run).count(),
    }


def copied_months() -> list:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', ordered_on)::date FROM crm_order WHERE number LIKE '{COPY_PREFIX}%%'"
        )
        return [row[0] for row in cursor.fetchall()]


def refresh_statistics() -> None:
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE crm_order")
        cursor.execute("VACUUM ANALYZE analytics_customermonth")


def double_history() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO crm_order (number, customer_id, ordered_on, revenue, cost, service_cost, quantity,
                promised_on, delivered_on, entry_error, status)
            SELECT '{COPY_PREFIX}' || number, customer_id, ordered_on - interval '24 months', revenue, cost,
                service_cost, quantity, promised_on - interval '24 months', delivered_on - interval '24 months',
                entry_error, status
            FROM crm_order WHERE number NOT LIKE '{COPY_PREFIX}%%'"""
        )
        added = cursor.rowcount
    monthly_totals_rebuild(months=copied_months())
    refresh_statistics()
    return added


def undo_double() -> int:
    """Removes the copies (if any), rebuilds the monthly totals of the months they were in, and rebuilds
    the indexes the copies grew (a DELETE leaves them twice their size until a REINDEX)."""
    months = copied_months()
    if not months:
        return 0
    removed = Order.objects.filter(number__startswith=COPY_PREFIX)._raw_delete(Order.objects.db)
    monthly_totals_rebuild(months=months)
    with connection.cursor() as cursor:
        cursor.execute("REINDEX TABLE crm_order")  # its heap shrinks by itself: the copies were at its end
        for table in GROWN[1:]:  # rewritten in place: the rebuilt rows went where the old ones had been
            cursor.execute(f"VACUUM FULL {table}")
    refresh_statistics()
    return removed


GROWN = ("crm_order", "analytics_customermonth", "analytics_customerrunningtotal", "analytics_companymonth")


def sizes() -> dict:
    """Bytes of each table and index the doubling touches (the bench must leave them as it found them)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_relation_size(c.oid) FROM pg_class c LEFT JOIN pg_index i ON i.indexrelid = c.oid "
            "LEFT JOIN pg_class t ON t.oid = i.indrelid WHERE c.relname = ANY(%s) OR t.relname = ANY(%s)",
            [list(GROWN), list(GROWN)],
        )
        return dict(cursor.fetchall())


def _terminate(signum, frame):
    raise SystemExit(f"stopped by signal {signum}")  # unwinds through the `finally` that removes the copies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-double", action="store_true", help="skip the doubled-history measurement")
    parser.add_argument("--double", action="store_true", help="the default; accepted for older instructions")
    parser.add_argument("--floor", action="store_true", help="also what any run spends here, whatever its scoring")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("This benchmark needs PostgreSQL: set DATABASE_URL=postgres://...")
    signal.signal(signal.SIGTERM, _terminate)
    left = undo_double()
    if left:
        print(f"removed {left:,} copied orders left by an earlier, interrupted run")
    orders = Order.objects.count()
    print(
        f"{Customer.objects.count():,} customers, {orders:,} orders, "
        f"PostgreSQL {connection.cursor().connection.info.server_version}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    first = measure(args.runs)
    print(f"a) plain GROUP BY over all orders: {first['a']:.2f} s (median of {first['a_all']})")
    print(
        f"b) full analysis run:              {first['b']:.2f} s (median of {first['b_all']})  stages {first['timings']}"
    )
    print(f"b/a = {first['ratio']:.2f}   worker peak memory {first['peak_mib']:.0f} MiB (bar < 300)")
    if args.floor:
        floor = floor_seconds(args.runs)
        total = floor["write"] + floor["inputs"]
        print(
            f"floor) writing {floor['rows']:,} result rows again with their {floor['indexes']} indexes: "
            f"{floor['write']:.2f} s; reading the inputs: {floor['inputs']:.2f} s; together {total:.2f} s; "
            f"b / floor = {first['b'] / total:.2f} (bar <= 1.6)"
        )
    if args.no_double:
        return
    before = sizes()
    try:
        print(f"doubling the history: {double_history():,} orders copied 24 months back")
        second = measure(args.runs)
        print(f"a) with doubled history: {second['a']:.2f} s (median of {second['a_all']})")
        print(f"b) with doubled history: {second['b']:.2f} s (median of {second['b_all']})  stages {second['timings']}")
        print(
            f"b(doubled)/b = {second['b'] / first['b']:.2f}   (bar <= 1.1)   b/a = {second['ratio']:.2f}   "
            f"peak {second['peak_mib']:.0f} MiB"
        )
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not stop the clean-up halfway
        print(f"removed the {undo_double():,} copied orders; monthly totals and indexes rebuilt")
        after = sizes()
        grown = {name: (before.get(name), size) for name, size in after.items() if size > 1.1 * before.get(name, 0)}
        print("tables and indexes as found (within 10%)" if not grown else f"grown (before, after bytes): {grown}")


if __name__ == "__main__":
    main()
