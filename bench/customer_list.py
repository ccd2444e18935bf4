"""Benchmark: the customer list at 100,000 customers on PostgreSQL (median server time).

Usage (see bench/README.md):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/customer_list.py [--customers N] [--reseed]

Migrates, seeds `seed_demo --customers N` (default 100,000) unless the database already holds
that many customers, then requests the list as the `sales` user through Django's test client
(server time, no network): sorted by name, filtered by region, searched by Chinese text and by
code, a deep page, and, when an analysis run is published, sorted by profit and filtered by
tier. 30 timed requests each after 3 warm-ups; prints a markdown table.
"""
import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from analytics.services.runs import published_run  # noqa: E402
from crm.models import Customer, Invoice, Order, Region  # noqa: E402


def timed(client: Client, url: str, runs: int = 30) -> tuple[float, float, int, int]:
    for _ in range(3):
        response = client.get(url)
        assert response.status_code == 200, url
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    matched = re.search(r'<span class="muted">([\d,]+) customers?</span>', response.content.decode())
    return statistics.median(times), sorted(times)[int(0.95 * (runs - 1))], len(queries), int(matched[1].replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--reseed", action="store_true", help="flush and seed again")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("This benchmark needs PostgreSQL: set DATABASE_URL=postgres://...")
    call_command("migrate", verbosity=0)
    if args.reseed:
        call_command("flush", interactive=False, verbosity=0)
        call_command("migrate", verbosity=0)
    if Customer.objects.count() < args.customers:
        if Customer.objects.exists():
            sys.exit("The database holds fewer customers than asked: use --reseed (it empties the database).")
        started = time.perf_counter()
        call_command("seed_demo", customers=args.customers, password="bench-only-password")
        print(f"seeded in {time.perf_counter() - started:.0f} s")
    client = Client()
    client.force_login(get_user_model().objects.get(username="sales"))
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
    if run:
        cases += [("sorted by profit (published run)", {"sort": "-profit"}), ("tier A by score", {"tier": "A", "sort": "-score"})]
    print(f"\n{Customer.objects.count():,} customers, {Order.objects.count():,} orders, {Invoice.objects.count():,} invoices; "
          f"published run: {'#%s' % run.pk if run else 'none'}; PostgreSQL {connection.cursor().connection.info.server_version}\n")  # fmt: skip
    print("| request | rows matched | median ms | p95 ms | queries |")
    print("|---|---:|---:|---:|---:|")
    for label, params in cases:
        median, p95, queries, rows = timed(client, f"{url}?{urlencode(params)}")
        print(f"| {label} | {rows:,} | {median:.1f} | {p95:.1f} | {queries} |")


if __name__ == "__main__":
    main()
