"""Benchmark: the top bar's search (/search/, issue 19) at 100,000 customers and 200,000 complaints.

Usage (see bench/README.md), under the bench lock:
    flock /tmp/bench.lock env DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/search.py [--runs 30] [--explain]

Reads only: it neither migrates nor seeds (bench/customer_list.py and bench/complaint_queue.py do).
Times each search as a sales rep, a service rep and an executive through Django's test client
(server time, no network), the median and p95 of `--runs` requests after 3 warm-ups, and counts
each group's matches and the page's queries. `--explain`: EXPLAIN ANALYZE of each search's slowest
query, as the sales rep.
"""

import argparse
import os
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

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from complaints.models import Complaint  # noqa: E402
from core.search import search_groups  # noqa: E402
from crm.models import Contact, Customer  # noqa: E402
from crm.roles import Role  # noqa: E402


def cases() -> list[tuple[str, str]]:
    """(what, text): taken from the data, so each finds what it says it does."""
    customer = Customer.objects.exclude(email="").exclude(phone="").order_by("pk")[12_345]
    contact = Contact.objects.order_by("pk")[54_321]
    complaint = Complaint.objects.exclude(description="bench complaint").order_by("pk")[806]
    return [
        ("Chinese name fragment, 2 characters", "嘉禾"),
        ("Chinese name fragment, 3 characters", "嘉禾贸"),
        ("a contact's name", contact.name),
        ("customer code", customer.code),
        ("phone fragment", customer.phone[-9:]),
        ("email", customer.email),
        ("complaint number", complaint.number),
        ("complaint number prefix", complaint.number[:7]),
        ("subject word (Chinese)", "发票"),
        ("subject word (English)", "invoiced"),
        ("no hit", "zqxwv"),
        # the broadest: most names, every email, 99% of complaints
        ("broad: 有限 (two-thirds of names)", "有限"),
        ("broad: every email", "example.com"),
        ("broad: three digits", "138"),
        ("broad: the copied complaints' text", "bench complaint"),
    ]


def timed(client: Client, url: str, runs: int) -> tuple[float, float, int]:
    for _ in range(3):
        assert client.get(url).status_code == 200, url
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return statistics.median(times), sorted(times)[int(0.95 * (runs - 1))], len(queries)


def found(text: str, user) -> str:
    """Each group's matches (">1,000": more than the count's cap)."""
    groups = search_groups(text=text, user=user)
    totals = {group.kind: f"{'>' if group.capped else ''}{group.total:,}" for group in groups}
    return " / ".join(totals.get(kind, "-") for kind in ("customers", "contacts", "complaints"))


def explain_slowest(client: Client, url: str) -> str:
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    slowest = max(queries.captured_queries, key=lambda q: float(q["time"]))
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {slowest['sql']}")
        return f"{slowest['time']} s: {slowest['sql'][:300]}\n" + "\n".join(row[0] for row in cursor.fetchall())


def cpu_check() -> float:
    """Seconds for a fixed piece of pure Python (this VM's CPU speed drifts; see customer_list.py)."""
    started = time.perf_counter()
    sum(i * i for i in range(5_000_000))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("This benchmark needs PostgreSQL: set DATABASE_URL=postgres://...")
    users = {}
    for role in (Role.SALES, Role.SERVICE, Role.EXECUTIVE):
        users[role.value] = get_user_model().objects.filter(groups__name=role.value, is_active=True).first()
        if users[role.value] is None:
            sys.exit(f"No {role.value} user: seed the bench database first.")
    clients = {}
    for role, user in users.items():
        clients[role] = Client()
        clients[role].force_login(user)
    print(
        f"\n{Customer.objects.count():,} customers, {Contact.objects.count():,} contacts, "
        f"{Complaint.objects.count():,} complaints; PostgreSQL {connection.cursor().connection.info.server_version}, "
        f"DEBUG={settings.DEBUG}; {os.cpu_count()} CPUs; load average {os.getloadavg()}\n"
    )
    print(
        "| search | text | found (customers / contacts / complaints) | sales ms (p95) | service ms (p95) | executive ms (p95) | queries |"
    )
    print("|---|---|---|---:|---:|---:|---:|")
    cpu_before = cpu_check()
    medians = []
    explains = []
    for label, text in cases():
        url = f"/search/?{urlencode({'q': text})}"
        cells, queries = [], 0
        for client in clients.values():
            median, p95, queries = timed(client, url, args.runs)
            medians.append(median)
            cells.append(f"{median:.1f} ({p95:.1f})")
        print(f"| {label} | `{text}` | {found(text, users[Role.SALES.value])} | {' | '.join(cells)} | {queries} |")
        if args.explain:
            explains.append(f"--- {label} ({text})\n{explain_slowest(clients[Role.SALES.value], url)}")
    print(f"\nmedian of the medians {statistics.median(medians):.1f} ms, slowest median {max(medians):.1f} ms")
    print(f"CPU check: {cpu_before:.2f} s before, {cpu_check():.2f} s after (0.36 s on a fast moment)")
    print(f"load average after: {os.getloadavg()}")
    for text in explains:
        print("\n" + text)


if __name__ == "__main__":
    main()
