"""Benchmark: the customer list at 100,000 customers on PostgreSQL (median server time).

Usage (see bench/README.md):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/customer_list.py [--customers N] [--reseed] [--explain]

Migrates, seeds `seed_demo --customers N` (default 100,000) unless the database already holds
that many customers, then requests the list as the `sales` user through Django's test client
(server time, no network): sorted by name, filtered by region, searched by Chinese text and by
code, a deep page, and, when an analysis run is published, sorted by profit and filtered by
tier; then the first five as the `service` user (no money columns). 30 timed requests each
after 3 warm-ups; prints markdown tables. `SQL ms` is the time the database took for one of
those requests; the rest is Python (mostly rendering the page).
With --explain, prints EXPLAIN ANALYZE of each request's slowest query.

Autovacuum is off on the benchmark server: the script vacuums the whole database first (as
autovacuum would on a production server; about 16 s at 100,000 customers, nothing to do when
it was just done), so that index-only scans and the planner's statistics are those of a
maintained database for every benchmark that follows (bench/load.py's pages read orders,
invoices and complaints too; the complaint KPIs took 425-677 ms of PostgreSQL a view without it).
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from analytics.services.runs import published_run  # noqa: E402
from crm.models import Customer, Invoice, Order, Region  # noqa: E402

RUNS, WARM_UPS = 30, 3
OUT = ROOT / "bench" / "out"  # git-ignored; the bench database's logins go here, not over the demo's


def timed(client: Client, url: str) -> dict:
    for _ in range(WARM_UPS):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    matched = re.search(r'<span class="muted">([\d,]+) customers?</span>', response.content.decode())
    return {
        "median": statistics.median(times),
        "p95": sorted(times)[round(0.95 * (RUNS - 1))],
        "queries": len(queries),
        "sql_ms": sum(float(query["time"]) for query in queries.captured_queries) * 1000,
        "slowest": max(queries.captured_queries, key=lambda query: float(query["time"]))["sql"],
        "rows": int(matched[1].replace(",", "")) if matched else None,
    }


def cpu_check() -> float:
    """Seconds for a fixed piece of pure Python: this VM's CPU speed varies by up to 2x over
    minutes (other tenants), so each table is printed with it (0.36 s when the machine is fast)."""
    started = time.perf_counter()
    sum(i * i for i in range(5_000_000))
    return time.perf_counter() - started


def explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def empty_database() -> None:
    """Drops every table (a bench database only): `flush` would also drop the role groups migrations made."""
    name = connection.settings_dict["NAME"]
    print(f"--reseed: emptying database {name!r}")
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")


def seed(customers: int) -> None:
    OUT.mkdir(exist_ok=True)
    started = time.perf_counter()
    with override_settings(BASE_DIR=OUT):
        call_command("seed_demo", customers=customers, password="bench-only-password")
    print(f"seeded in {time.perf_counter() - started:.0f} s (seed_demo, its first analysis run included)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--reseed", action="store_true", help="empty the database and seed again")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each request's slowest query")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("This benchmark needs PostgreSQL: set DATABASE_URL=postgres://... (it refuses to run on SQLite).")
    if args.reseed:
        empty_database()
    call_command("migrate", verbosity=0)
    if Customer.objects.count() < args.customers:
        if Customer.objects.exists():
            sys.exit("The database holds fewer customers than asked: use --reseed (it empties the database).")
        seed(args.customers)
    with connection.cursor() as cursor:  # autovacuum is off here; see the module docstring
        cursor.execute("VACUUM (ANALYZE)")
    url = reverse("crm:customer_list")
    region = Region.objects.order_by("name").first()
    chinese = Customer.objects.filter(name__regex=r"^[\u4e00-\u9fff]{4}").values_list("name", flat=True).first()[2:4]
    cases = [
        ("sorted by name", {"sort": "name"}),
        (f"filtered by region ({region.name})", {"region": region.pk, "sort": "name"}),
        (f"text search “{chinese}”", {"q": chinese}),
        ("text search by code “C0123”", {"q": "C0123"}),
        ("page 500, sorted by code", {"sort": "code", "page": 500}),
    ]
    run = published_run()
    money_cases = cases + (
        [
            ("sorted by profit (published run)", {"sort": "-profit"}),
            ("tier A by score", {"tier": "A", "sort": "-score"}),
        ]
        if run
        else []
    )
    server = connection.cursor().connection.info.server_version
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    print(
        f"\n{Customer.objects.count():,} customers, {Order.objects.count():,} orders, {Invoice.objects.count():,} invoices; "
        f"published run: {f'#{run.pk}' if run else 'none'}; PostgreSQL {server // 10000}.{server % 10000}; "
        f"commit {commit}\n"
    )
    plans = []
    for username, user_cases in (("sales", money_cases), ("service", cases)):
        client = Client()
        client.force_login(get_user_model().objects.get(username=username))
        rows = []
        cpu_before = cpu_check()
        for label, params in user_cases:
            result = timed(client, f"{url}?{urlencode(params)}")
            rows.append(
                f"| {label} | {result['rows'] or 0:,} | {result['median']:.1f} | {result['p95']:.1f} | "
                f"{result['sql_ms']:.1f} | {result['queries']} |"
            )
            if args.explain:
                plans.append(f"--- {username}: {label}\n{result['slowest']}\n{explain(result['slowest'])}")
        print(f"as `{username}`:\n")
        print("| request | rows matched | median ms | p95 ms | SQL ms | queries |")
        print("|---|---:|---:|---:|---:|---:|")
        print("\n".join(rows))
        print(f"\nCPU check: {cpu_before:.2f} s before, {cpu_check():.2f} s after (0.36 s on a fast moment)\n")
    if plans:
        print("\n" + "\n\n".join(plans))


if __name__ == "__main__":
    main()
