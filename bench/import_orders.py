"""Benchmark: importing 1,000,000 order rows from CSV into PostgreSQL (bar: under 2 minutes, memory bounded).

Usage (its own database, never `bench`):
    psql -U postgres -h 127.0.0.1 -c "create database bench_import"
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_import
    flock /tmp/bench.lock .venv/bin/python bench/import_orders.py [--rows 1000000] [--customers 20000]

Migrates and seeds `seed_demo --customers N` when the database has fewer customers, writes a
CSV of `--rows` orders (numbers BI-0000001...) for existing customers into bench/out/, then
runs `manage.py import_data orders` in a fresh process three times: every row new; the same
file again (nothing changes, nothing is written); a file where every order is three days later
and 1.00 dearer (every row an update, about a tenth of them into another month). Each run's wall time and peak RSS (the child's
ru_maxrss) are printed. Before the first run the BI- orders of an earlier bench are deleted and
their monthly totals rebuilt, so runs are comparable. The monthly totals are checked against
a plain GROUP BY over the orders at the end.
"""

import argparse
import csv
import datetime
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "false")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import override_settings  # noqa: E402

from analytics.totals import monthly_totals_rebuild_pairs  # noqa: E402
from crm.models import Customer, Order  # noqa: E402

OUT = ROOT / "bench" / "out"  # git-ignored
PREFIX = "BI-"


def cpu_check() -> float:
    """Seconds for a fixed piece of pure Python (0.36 s when this VM is fast), printed with the result."""
    started = time.perf_counter()
    sum(i * i for i in range(5_000_000))
    return time.perf_counter() - started


def ensure_customers(count: int) -> None:
    call_command("migrate", verbosity=0)
    have = Customer.objects.count()
    if have >= count:
        print(f"{have:,} customers present")
        return
    if have:
        sys.exit(f"The database holds {have:,} customers, fewer than {count:,}: use a fresh database.")
    OUT.mkdir(exist_ok=True)
    started = time.perf_counter()
    with override_settings(BASE_DIR=OUT):
        call_command("seed_demo", customers=count, password="bench-only-password")
    print(f"seeded {count:,} customers in {time.perf_counter() - started:.0f} s")


def write_csv(path: Path, rows: int, changed: bool = False) -> None:
    """Random orders for existing customers; `changed`: the same orders three days later and 1.00 dearer."""
    codes = list(Customer.objects.values_list("code", flat=True))
    rng = random.Random(6)
    start = datetime.date(2024, 12, 1)
    statuses = ["delivered"] * 17 + ["open", "cancelled", "returned"]
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "number",
                "customer",
                "ordered_on",
                "revenue",
                "cost",
                "service_cost",
                "quantity",
                "promised_on",
                "delivered_on",
                "error",
                "status",
            ]
        )
        for n in range(1, rows + 1):
            ordered = start + datetime.timedelta(days=rng.randrange(730) + (3 if changed else 0))
            revenue = rng.randrange(1_000, 5_000_000) / 100 + (1 if changed else 0)
            promised = ordered + datetime.timedelta(days=rng.randrange(3, 15))
            delivered = promised + datetime.timedelta(days=rng.randrange(-3, 4))
            writer.writerow(
                [
                    f"{PREFIX}{n:07d}",
                    rng.choice(codes),
                    ordered.isoformat(),
                    f"{revenue:.2f}",
                    f"{revenue * 0.7:.2f}",
                    f"{rng.randrange(0, 20_000) / 100:.2f}",
                    rng.randrange(1, 500),
                    promised.isoformat(),
                    delivered.isoformat(),
                    "yes" if rng.random() < 0.02 else "no",
                    rng.choice(statuses),
                ]
            )


def forget_earlier_run() -> None:
    earlier = Order.objects.filter(number__startswith=PREFIX)
    if not earlier.exists():
        return
    started = time.perf_counter()
    pairs = f"SELECT DISTINCT customer_id, date_trunc('month', ordered_on)::date AS month FROM crm_order WHERE number LIKE '{PREFIX}%%'"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE bench_pairs AS {pairs}")
        cursor.execute(f"DELETE FROM crm_order WHERE number LIKE '{PREFIX}%%'")
    monthly_totals_rebuild_pairs(pairs_sql=("SELECT customer_id, month FROM bench_pairs", []))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_pairs")
        cursor.execute("VACUUM ANALYZE crm_order")
    print(f"removed the previous bench's orders in {time.perf_counter() - started:.0f} s")


def timed_import(path: Path) -> tuple[float, float, str]:
    """Wall time and this child's own peak RSS (wait4), not the maximum over all children."""
    log = OUT / "import_orders.log"
    started = time.perf_counter()
    with log.open("w") as out:
        child = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "import_data", "orders", str(path), "--no-analysis"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=os.environ.copy(),
        )
        _pid, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    output = log.read_text()
    if os.waitstatus_to_exitcode(status):
        sys.exit(f"import failed:\n{output}")
    return seconds, usage.ru_maxrss / 1024, output.strip().splitlines()[-1]


def totals_match() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT COUNT(*) FROM (
              SELECT customer_id, date_trunc('month', ordered_on)::date AS month, SUM(revenue) AS revenue, COUNT(*) AS n
              FROM crm_order WHERE status IN ('open', 'delivered') GROUP BY 1, 2
            ) AS o FULL JOIN analytics_customermonth AS cm ON cm.customer_id = o.customer_id AND cm.month = o.month
            WHERE cm.id IS NULL OR o.customer_id IS NULL OR cm.revenue <> o.revenue OR cm.orders <> o.n
            """
        )
        return cursor.fetchone()[0] == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=20_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Needs PostgreSQL: set DATABASE_URL to the bench_import database.")
    if connection.settings_dict["NAME"] in ("bench", "test"):
        sys.exit("Use a database of its own (bench_import), not the shared bench or test database.")
    ensure_customers(args.customers)
    OUT.mkdir(exist_ok=True)
    path = OUT / f"orders_{args.rows}.csv"
    changed = OUT / f"orders_{args.rows}_changed.csv"
    for target, is_changed in ((path, False), (changed, True)):
        if not target.exists():
            started = time.perf_counter()
            write_csv(target, args.rows, changed=is_changed)
            print(f"wrote {target.name} in {time.perf_counter() - started:.0f} s")
    forget_earlier_run()
    orders_before = Order.objects.count()
    size_mib = path.stat().st_size / 2**20
    print(
        f"file: {args.rows:,} rows, {size_mib:.0f} MiB; database: {Customer.objects.count():,} customers, "
        f"{orders_before:,} orders before; CPU check {cpu_check():.2f} s"
    )
    print("| run | rows | seconds | peak RSS (MiB) | command's summary |")
    print("|---|---:|---:|---:|---|")
    runs = (
        ("all new", path),
        ("same file again (nothing changed)", path),
        ("every row changed (all updates, about a tenth into another month)", changed),
    )
    for label, source in runs:
        seconds, peak, summary = timed_import(source)
        print(f"| {label} | {args.rows:,} | {seconds:.1f} | {peak:.0f} | {summary} |")
    print(f"orders after: {Order.objects.count():,}; monthly totals equal a GROUP BY over the orders: {totals_match()}")


if __name__ == "__main__":
    main()
