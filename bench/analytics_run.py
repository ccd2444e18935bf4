"""Benchmark: a full analysis run against the plain GROUP BY over every order (PostgreSQL).

Usage (see bench/README.md):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/analytics_run.py [--runs 3] [--double]

Reports, in one process and one database:
  a) median time of  SELECT customer_id, SUM(revenue), SUM(cost), COUNT(*) FROM crm_order GROUP BY customer_id
  b) median time of a full analysis run (`recompute` in a fresh process, as a worker would run it)
  and b/a (bar: <= 1.5), plus the run's peak memory (bar: < 1 GiB).
With --double, the order history is then doubled for the same customers (every order copied
24 months earlier), monthly totals rebuilt, and b measured again (bar: <= 1.2 times the first b).
The doubling is undone at the end (the copies are deleted and the totals rebuilt).
"""
import argparse
import os
import resource
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

from django.db import connection  # noqa: E402

from analytics.models import AnalysisRun  # noqa: E402
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
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run([sys.executable, "manage.py", "recompute"], cwd=ROOT, check=True, capture_output=True)
    wall = time.perf_counter() - started
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    run = AnalysisRun.objects.filter(status=AnalysisRun.Status.SUCCEEDED).order_by("-published_at").first()
    return run.timings["total"], peak, {**run.timings, "process_wall": round(wall, 2)}


def measure(runs: int) -> dict:
    plain = [plain_query_seconds() for _ in range(runs + 1)][1:]  # first one warms the cache
    results = [run_seconds() for _ in range(runs)]
    a, b = statistics.median(plain), statistics.median(r[0] for r in results)
    return {"a": a, "b": b, "ratio": b / a, "peak_mib": max(r[1] for r in results), "timings": results[-1][2]}


def double_history() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO crm_order (number, customer_id, ordered_on, revenue, cost, service_cost, quantity,
                promised_on, delivered_on, entry_error, status)
            SELECT '{COPY_PREFIX}' || number, customer_id, ordered_on - interval '24 months', revenue, cost,
                service_cost, quantity, promised_on - interval '24 months', delivered_on - interval '24 months',
                entry_error, status
            FROM crm_order WHERE number NOT LIKE '{COPY_PREFIX}%'"""
        )
        added = cursor.rowcount
    monthly_totals_rebuild()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_order")
        cursor.execute("ANALYZE analytics_customermonth")
    return added


def undo_double() -> None:
    Order.objects.filter(number__startswith=COPY_PREFIX)._raw_delete(Order.objects.db)
    monthly_totals_rebuild()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--double", action="store_true")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("This benchmark needs PostgreSQL: set DATABASE_URL=postgres://...")
    orders = Order.objects.count()
    print(f"{Customer.objects.count():,} customers, {orders:,} orders, "
          f"PostgreSQL {connection.cursor().connection.info.server_version}, {os.cpu_count()} cores")  # fmt: skip
    first = measure(args.runs)
    print(f"a) plain GROUP BY over all orders: {first['a']:.2f} s (median of {args.runs})")
    print(f"b) full analysis run:              {first['b']:.2f} s (median of {args.runs})  stages {first['timings']}")
    print(f"b/a = {first['ratio']:.2f}   (bar <= 1.5)   worker peak memory {first['peak_mib']:.0f} MiB (bar < 1024)")
    if args.double:
        try:
            print(f"doubling the history: {double_history():,} orders copied 24 months back")
            second = measure(args.runs)
            print(f"a) with doubled history: {second['a']:.2f} s")
            print(f"b) with doubled history: {second['b']:.2f} s  stages {second['timings']}")
            print(f"b(doubled)/b = {second['b'] / first['b']:.2f}   (bar <= 1.2)   peak {second['peak_mib']:.0f} MiB")
        finally:
            undo_double()


if __name__ == "__main__":
    main()
