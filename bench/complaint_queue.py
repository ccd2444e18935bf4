"""Benchmark: the service queue and complaint detail with 200,000 complaints on PostgreSQL.

Usage (see bench/README.md):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/complaint_queue.py [--complaints N]

Needs customers in the database (seed them with bench/customer_list.py or seed_demo). Adds
complaints with COPY until there are N (default 200,000), then times each queue tab and a
detail page through Django's test client (server time, no network), 30 runs after 3 warm-ups.
"""

import argparse
import datetime
import os
import random
import statistics
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
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from complaints.models import OPEN_STATES, Complaint, State  # noqa: E402
from crm.models import Customer  # noqa: E402
from crm.roles import Role  # noqa: E402

STATES = [(State.CLOSED, 70), (State.RESOLVED, 8), (State.REJECTED, 3), (State.DUPLICATE, 2)] + [
    (state, 17 / len(OPEN_STATES)) for state in OPEN_STATES
]
COLUMNS = (
    "number",
    "customer_id",
    "received_at",
    "channel",
    "category",
    "severity",
    "significant",
    "description",
    "assignee_id",
    "state",
    "action_plan",
    "root_cause",
    "internal_review_notes",
    "first_response_at",
    "first_response_seconds",
    "first_response_due_at",
    "resolution_due_at",
    "paused_seconds",
    "resolved_at",
    "resolution_seconds",
    "first_response_breached",
    "resolution_breached",
    "reopen_count",
    "created_at",
    "updated_at",
)


def add_complaints(target: int) -> None:
    have = Complaint.objects.count()
    if have >= target:
        print(f"{have:,} complaints already there")
        return
    rng = random.Random(7)
    customer_ids = list(Customer.objects.values_list("pk", flat=True))
    reps = list(get_user_model().objects.filter(groups__name=Role.SERVICE.value).values_list("pk", flat=True))
    now = timezone.now()
    states, weights = zip(*STATES, strict=False)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.connection.cursor().copy(f"COPY complaints_complaint ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for i in range(have, target):
                state = rng.choices(states, weights)[0]
                is_open = state in OPEN_STATES
                received = now - datetime.timedelta(days=rng.uniform(0, 10) if is_open else rng.uniform(10, 720))
                responded = received + datetime.timedelta(hours=rng.uniform(0.5, 30))
                resolved = responded + datetime.timedelta(hours=rng.uniform(5, 150)) if not is_open else None
                due_first, due_resolution = (
                    received + datetime.timedelta(hours=24),
                    received + datetime.timedelta(hours=120),
                )
                copy.write_row(
                    (
                        f"BQ{i:08d}",
                        rng.choice(customer_ids),
                        received,
                        "phone",
                        "delivery",
                        rng.choice(["low", "medium", "high", "critical"]),
                        False,
                        "bench complaint",
                        rng.choice(reps) if reps and rng.random() < 0.9 else None,
                        state,
                        "",
                        "",
                        "",
                        responded if state != State.NEW else None,
                        int((responded - received).total_seconds()) if state != State.NEW else None,
                        due_first,
                        due_resolution,
                        0,
                        resolved,
                        int((resolved - received).total_seconds()) if resolved else None,
                        responded > due_first,
                        bool(resolved and resolved > due_resolution),
                        0,
                        received,
                        received,
                    )
                )
    print(f"added {target - have:,} complaints in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE complaints_complaint")


def timed(client: Client, url: str, runs: int = 30) -> tuple[float, float, int]:
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


def cpu_check() -> float:
    """Seconds for a fixed piece of pure Python (this VM's CPU speed drifts by up to 2x; see customer_list.py)."""
    started = time.perf_counter()
    sum(i * i for i in range(5_000_000))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=int, default=200_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("This benchmark needs PostgreSQL: set DATABASE_URL=postgres://...")
    call_command("migrate", verbosity=0)
    if not Customer.objects.exists():
        sys.exit("No customers: run bench/customer_list.py (or seed_demo) first.")
    add_complaints(args.complaints)
    rep = get_user_model().objects.filter(groups__name=Role.SERVICE.value).first()
    client = Client()
    client.force_login(rep)
    queue = reverse("complaints:queue")
    sample = Complaint.objects.filter(state__in=OPEN_STATES).order_by("-received_at").first()
    cases = [
        ("queue: mine", f"{queue}?tab=mine"),
        ("queue: unassigned", f"{queue}?tab=unassigned"),
        ("queue: breaching SLA", f"{queue}?tab=breaching"),
        ("queue: all open", f"{queue}?tab=open"),
        ("queue: all, page 100", f"{queue}?tab=all&page=100"),
        ("queue: all open, search customer name", f"{queue}?tab=open&q=%E6%9C%89%E9%99%90"),
        ("complaint detail", sample.get_absolute_url()),
    ]
    total = Complaint.objects.count()
    open_count = Complaint.objects.filter(state__in=OPEN_STATES).count()
    print(
        f"\n{total:,} complaints ({open_count:,} open), {Customer.objects.count():,} customers, "
        f"PostgreSQL {connection.cursor().connection.info.server_version}, DEBUG={settings.DEBUG}\n"
    )
    print("| page | median ms | p95 ms | queries |")
    print("|---|---:|---:|---:|")
    cpu_before = cpu_check()
    for label, url in cases:
        median, p95, queries = timed(client, url)
        print(f"| {label} | {median:.1f} | {p95:.1f} | {queries} |")
    print(f"\nCPU check: {cpu_before:.2f} s before, {cpu_check():.2f} s after (0.36 s on a fast moment)")


if __name__ == "__main__":
    main()
