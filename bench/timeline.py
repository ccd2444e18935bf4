"""Benchmark: a customer's timeline (issue 19) at 100,000 customers on PostgreSQL. Read-only.

Usage (see bench/README.md; run under the bench lock):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench flock /tmp/bench.lock \\
        .venv/bin/python bench/timeline.py [--runs 30] [--explain]

Writes nothing to the database (no migrate, no seed). Times the timeline page (first page, and a deep
page reached by following the "older" cursor) and the customer page (its ten newest entries) for the
customers with the most events and for typical ones, as a sales rep (every kind) and a service rep
(no orders or invoices), through Django's test client (server time, no network): the median of
`--runs` requests after 3 warm-ups, with the query count; the cases are timed round-robin (a request
of each per round), so a shared machine's drifting load weighs on all of them alike. `--explain`:
EXPLAIN (ANALYZE, BUFFERS) of each source's query on the busiest customer's deep page, and whether
any reads a table sequentially.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils.http import urlencode  # noqa: E402

from analytics.models import AnalysisRun  # noqa: E402
from complaints.models import Complaint, ComplaintTransition  # noqa: E402
from crm import timeline  # noqa: E402
from crm.models import Customer, Interaction, Invoice, Order, Survey  # noqa: E402
from crm.roles import Role  # noqa: E402
from crm.timeline import timeline_page  # noqa: E402
from crm.timeline_views import PER_PAGE  # noqa: E402

DEEP_PAGES = 10  # the deep page: the 11th, reached by following "older" ten times


def timed_round_robin(requests: list[tuple[Client, str]], runs: int) -> list[tuple[float, float, int]]:
    """Each (client, url): median and p95 ms over `runs` rounds of one request each, and its query count."""
    for client, url in requests:
        for _ in range(3):
            assert client.get(url).status_code == 200, url
    times = [[] for _ in requests]
    for _ in range(runs):
        for i, (client, url) in enumerate(requests):
            started = time.perf_counter()
            response = client.get(url)
            times[i].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, url
    results = []
    for (client, url), taken in zip(requests, times, strict=True):
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        results.append((statistics.median(taken), sorted(taken)[int(0.95 * (runs - 1))], len(queries)))
    return results


def deep_cursor(customer, user, pages: int):
    """The cursor of the page after `pages` pages (None: the timeline is shorter), walked as a reader would."""
    before = None
    for _ in range(pages):
        page = timeline_page(customer=customer, user=user, before=before, per_page=PER_PAGE)
        if page.next_cursor is None:
            return None
        before = page.next_cursor
    return before


def busiest(model, field: str = "customer_id", n: int = 1) -> list[int]:
    rows = model.objects.values(field).order_by().annotate(n=Count("id")).order_by("-n")[:n]
    return [row[field] for row in rows]


def entry_count(customer_id: int) -> dict:
    return {
        "orders": Order.objects.filter(customer_id=customer_id).count(),
        "invoices": Invoice.objects.filter(customer_id=customer_id).count(),
        "interactions": Interaction.objects.filter(customer_id=customer_id).count(),
        "surveys": Survey.objects.filter(customer_id=customer_id).count(),
        "complaints": Complaint.objects.filter(customer_id=customer_id).count(),
        "moves": ComplaintTransition.objects.filter(complaint__customer_id=customer_id).count(),
        "changes": Customer.history.filter(id=customer_id).count(),
    }


def explain(client: Client, url: str) -> None:
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    print("\nEXPLAIN (ANALYZE, BUFFERS) of the busiest customer's deep page, per query:\n")
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = [row[0] for row in cursor.fetchall()]
            seq = [line.strip() for line in plan if "Seq Scan" in line]
            took = next((line for line in plan if line.startswith("Execution Time")), "")
            table = sql.split(" FROM ", 1)[1].split()[0] if " FROM " in sql else "?"
            print(f"- {table}: {took}{'; SEQUENTIAL: ' + '; '.join(seq) if seq else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--typical", type=int, default=5, help="how many random customers stand for 'typical'")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("This benchmark needs PostgreSQL: set DATABASE_URL=postgres://...")
    # The bench database is read-only here: a kind whose table it lacks (an app migrated after the
    # seed) is left out, and said so, rather than migrating it.
    tables = set(connection.introspection.table_names())
    missing = {"follow_up": "tasks_task"}
    left_out = [kind for kind, table in missing.items() if table not in tables and kind in timeline._sources]
    for kind in left_out:
        del timeline._sources[kind]
    customer_page = not left_out  # the customer page reads those tables too
    users = {
        "sales": get_user_model().objects.filter(groups__name=Role.SALES.value).order_by("pk").first(),
        "service": get_user_model().objects.filter(groups__name=Role.SERVICE.value).order_by("pk").first(),
    }
    most_orders = busiest(Order)[0]
    most_complaints = busiest(Complaint)[0]
    rng = random.Random(19)
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    typical = rng.sample(ids, args.typical)
    published = AnalysisRun.objects.filter(status=AnalysisRun.Status.SUCCEEDED).count()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(
        f"\n{len(ids):,} customers, {Order.objects.count():,} orders, {Invoice.objects.count():,} invoices, "
        f"{Interaction.objects.count():,} interactions, {Survey.objects.count():,} surveys, "
        f"{Complaint.objects.count():,} complaints, {ComplaintTransition.objects.count():,} complaint moves, "
        f"{published} published run(s); PostgreSQL {connection.cursor().connection.info.server_version}, "
        f"DEBUG={settings.DEBUG}, commit {commit}, {PER_PAGE} entries a page"
    )
    print(f"load average before: {os.getloadavg()}")
    if left_out:
        print(f"left out (their tables are not in this database): {', '.join(left_out)}; so is the customer page")
    print(f"most orders: customer #{most_orders} {entry_count(most_orders)}")
    print(f"most complaints: customer #{most_complaints} {entry_count(most_complaints)}")
    print(f"typical (random, seed 19): {typical}\n")
    # Every case is collected first, then timed round-robin (one request of each case per round), so
    # the load of a busy shared machine drifting during the run weighs on every case alike.
    cases = []  # (customer label, role, page, client, url)
    for who, client_user in users.items():
        client = Client()
        client.force_login(client_user)
        client.get("/")  # the top bar's unread count is read once, then cached
        named = [("most orders", most_orders), ("most complaints", most_complaints)]
        named += [("typical", customer_id) for customer_id in typical]
        for label, customer_id in named:
            customer = Customer.objects.get(pk=customer_id)
            url = reverse("crm:customer_timeline", args=[customer_id])
            cases.append((label, customer_id, who, "timeline, first", client, url))
            if customer_page:
                cases.append((label, customer_id, who, "customer page", client, customer.get_absolute_url()))
            pages = 1 if label == "typical" else DEEP_PAGES
            cursor = deep_cursor(customer, client_user, pages)
            if cursor is not None:
                deep = f"{url}?{urlencode({'before': cursor.encode()})}"
                cases.append((label, customer_id, who, f"timeline, page {pages + 1}", client, deep))
    results = timed_round_robin([(client, url) for *_, client, url in cases], args.runs)
    print("| customer | as | page | median ms | p95 ms | queries |")
    print("|---|---|---|---:|---:|---:|")
    typical_rows = {}
    for (label, customer_id, who, page, _client, _url), (median, p95, queries) in zip(cases, results, strict=True):
        if label == "typical":
            typical_rows.setdefault((who, page), []).append((median, p95, queries))
        else:
            print(f"| {label} #{customer_id} | {who} | {page} | {median:.1f} | {p95:.1f} | {queries} |")
    for (who, page), rows in typical_rows.items():
        median = statistics.median(r[0] for r in rows)
        p95 = statistics.median(r[1] for r in rows)
        queries = "/".join(sorted({str(r[2]) for r in rows}))
        print(f"| typical ({len(rows)}, median of medians) | {who} | {page} | {median:.1f} | {p95:.1f} | {queries} |")
    print(f"\nload average after: {os.getloadavg()}")
    if args.explain:
        client = Client()
        client.force_login(users["sales"])
        customer = Customer.objects.get(pk=most_orders)
        cursor = deep_cursor(customer, users["sales"], DEEP_PAGES)
        url = reverse("crm:customer_timeline", args=[most_orders])
        explain(client, f"{url}?{urlencode({'before': cursor.encode()})}" if cursor else url)


if __name__ == "__main__":
    main()
