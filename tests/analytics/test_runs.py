"""Runs: one at a time, atomic publication, a killed run never shows, reruns succeed, totals follow orders."""

import datetime
import time
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from analytics.models import AnalysisRun, CustomerMonth, CustomerResult
from analytics.services.runs import WorkerKilled, published_run, run_compute, run_fail, run_request
from analytics.totals import monthly_totals_rebuild
from core import jobs
from crm.models import Order
from tests.conftest import ON_POSTGRES
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

AS_OF = datetime.date(2026, 6, 30)


@pytest.fixture
def book():
    """Three customers with orders in the window, one prospect."""
    customers = [CustomerFactory(code=f"K{i}") for i in range(4)]
    for i, customer in enumerate(customers[:3]):
        OrderFactory(
            customer=customer,
            ordered_on=datetime.date(2026, 3, 1),
            revenue=Decimal(1000 * (i + 1)),
            cost=Decimal(600 * (i + 1)),
            service_cost=Decimal("10.00"),
        )
    return customers


def partitions() -> set[str]:
    """The results' partitions on PostgreSQL (migration 0010): the default one and one per run."""
    if connection.vendor != "postgresql":
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'analytics_customerresult'"
        )
        return {row[0] for row in cursor.fetchall()}


def compute(as_of=AS_OF, **kwargs):
    run, created = run_request(trigger=AnalysisRun.Trigger.COMMAND, as_of=as_of, enqueue=False)
    assert created
    run_compute(run_id=run.pk, **kwargs)
    run.refresh_from_db()
    return run


def test_a_run_publishes_every_customer(book):
    run = compute()
    assert run.status == AnalysisRun.Status.SUCCEEDED and run.published_at is not None and run.active is False
    assert published_run() == run
    assert run.results.count() == 4
    assert dict(run.results.values_list("customer__code", "tier"))["K3"] == "P"
    assert run.company["customers_with_orders"] == 3
    assert run.company["revenue"] == "6000.00"


def test_a_second_request_joins_the_active_run(book):
    first, created = run_request(trigger=AnalysisRun.Trigger.MANUAL, as_of=AS_OF, enqueue=False)
    again, created_again = run_request(trigger=AnalysisRun.Trigger.NIGHTLY, as_of=AS_OF, enqueue=False)
    assert created and not created_again and again == first
    assert AnalysisRun.objects.count() == 1


def test_a_killed_run_stays_invisible_and_a_rerun_succeeds(book):
    before = compute()
    before_rows = sorted(before.results.values_list("customer_id", "profit", "tier"))
    Order.objects.filter(customer=book[0]).update(revenue=Decimal("99999.00"))
    monthly_totals_rebuild()

    killed, _ = run_request(trigger=AnalysisRun.Trigger.MANUAL, as_of=AS_OF, enqueue=False)
    with pytest.raises(WorkerKilled):
        run_compute(run_id=killed.pk, fail_after_rows=2)

    killed.refresh_from_db()
    assert killed.status == AnalysisRun.Status.RUNNING  # the worker died: nobody marked it
    # Every row is written in one transaction (a kill during it leaves none); this worker died after it,
    # before publication.
    assert CustomerResult.objects.filter(run=killed).count() == 4
    assert published_run() == before
    assert sorted(before.results.values_list("customer_id", "profit", "tier")) == before_rows
    assert run_request(trigger=AnalysisRun.Trigger.MANUAL, as_of=AS_OF, enqueue=False) == (killed, False)

    # The message is redelivered once the dead worker's heartbeat is old: the run is taken over.
    AnalysisRun.objects.filter(pk=killed.pk).update(heartbeat_at=timezone.now() - datetime.timedelta(hours=1))
    run_compute(run_id=killed.pk)
    killed.refresh_from_db()
    assert killed.status == AnalysisRun.Status.SUCCEEDED
    assert published_run() == killed
    assert killed.results.count() == 4
    assert killed.results.get(customer=book[0]).revenue == Decimal("99999.00")


def test_a_live_run_is_not_taken_over_and_a_finished_one_not_recomputed(book):
    run, _ = run_request(trigger=AnalysisRun.Trigger.MANUAL, as_of=AS_OF, enqueue=False)
    AnalysisRun.objects.filter(pk=run.pk).update(status=AnalysisRun.Status.RUNNING, heartbeat_at=timezone.now())
    assert run_compute(run_id=run.pk) is None
    AnalysisRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - datetime.timedelta(hours=1))
    assert run_compute(run_id=run.pk) is not None
    assert run_compute(run_id=run.pk) is None  # redelivered after success: nothing to do
    assert CustomerResult.objects.filter(run=run).count() == 4


def test_a_failing_run_is_marked_failed_and_the_previous_stays(book, monkeypatch):
    before = compute()
    from analytics.services import runs

    def broken(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(runs.core, "company", broken)
    failed, _ = run_request(trigger=AnalysisRun.Trigger.MANUAL, as_of=AS_OF, enqueue=False)
    with pytest.raises(ValueError):
        run_compute(run_id=failed.pk)
    failed.refresh_from_db()
    assert failed.status == AnalysisRun.Status.FAILED and failed.active is False
    assert failed.error.startswith("ValueError: boom")
    assert not CustomerResult.objects.filter(run=failed).exists()
    assert published_run() == before
    if ON_POSTGRES:  # the failed run's partition went with it; the published run's stays
        assert partitions() == {"analytics_customerresult_default", f"analytics_customerresult_r{before.pk}"}


def test_runs_beyond_the_kept_number_go_with_their_rows(book, settings, django_capture_on_commit_callbacks):
    settings.ANALYSIS_RUNS_KEPT = 2
    with django_capture_on_commit_callbacks(execute=True):  # old partitions are dropped after the commit
        _first, second, third = compute(), compute(), compute()
    assert set(AnalysisRun.objects.values_list("pk", flat=True)) == {second.pk, third.pk}
    assert set(CustomerResult.objects.values_list("run_id", flat=True)) == {second.pk, third.pk}
    if ON_POSTGRES:
        assert partitions() == {"analytics_customerresult_default"} | {
            f"analytics_customerresult_r{run.pk}" for run in (second, third)
        }


def test_stale_active_run_is_abandoned_on_the_next_request(book):
    stuck, _ = run_request(trigger=AnalysisRun.Trigger.MANUAL, as_of=AS_OF, enqueue=False)
    AnalysisRun.objects.filter(pk=stuck.pk).update(
        status=AnalysisRun.Status.RUNNING, heartbeat_at=timezone.now() - datetime.timedelta(hours=2)
    )
    fresh, created = run_request(trigger=AnalysisRun.Trigger.MANUAL, as_of=AS_OF, enqueue=False)
    assert created and fresh != stuck
    stuck.refresh_from_db()
    assert (stuck.status, stuck.error) == (AnalysisRun.Status.FAILED, jobs.WORKER_STOPPED)


def test_a_run_given_up_while_its_worker_still_runs_is_not_published(book, monkeypatch, settings):
    before = compute()
    from analytics.services import runs

    write_results = runs.storage.write_results

    def long_silent_then_on(*args, **kwargs):
        # The worker was silent too long (stuck, say): the sweep gives its run up meanwhile.
        later = timezone.now() + datetime.timedelta(seconds=settings.JOB_STALE_SECONDS + 1)
        assert jobs.sweep(now=later) == {"failed": 1, "sent_again": 0}
        return write_results(*args, **kwargs)

    monkeypatch.setattr(runs.storage, "write_results", long_silent_then_on)
    abandoned, _ = run_request(trigger=AnalysisRun.Trigger.MANUAL, as_of=AS_OF, enqueue=False)
    with pytest.raises(jobs.JobAbandoned):
        run_compute(run_id=abandoned.pk)
    abandoned.refresh_from_db()
    assert (abandoned.status, abandoned.active, abandoned.error) == (
        AnalysisRun.Status.FAILED,
        False,
        jobs.WORKER_STOPPED,
    )
    assert not CustomerResult.objects.filter(run=abandoned).exists()
    assert published_run() == before
    if ON_POSTGRES:
        assert partitions() == {"analytics_customerresult_default", f"analytics_customerresult_r{before.pk}"}


def test_failing_a_published_run_changes_nothing(book):
    run = compute()
    assert run_fail(run=run, error="too late") is False
    run.refresh_from_db()
    assert (run.status, run.error, run.results.count()) == (AnalysisRun.Status.SUCCEEDED, "", 4)
    assert published_run() == run


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_run_beats_while_a_long_step_runs(book, monkeypatch, settings):
    settings.JOB_HEARTBEAT_SECONDS = 0.05
    from analytics.services import runs

    step = runs.readers.read_book
    seen = {}

    def long_step(*args, **kwargs):
        run = AnalysisRun.objects.get(status=AnalysisRun.Status.RUNNING)
        time.sleep(0.6)  # this thread writes nothing meanwhile
        seen["started"], seen["beat"] = run.started_at, AnalysisRun.objects.get(pk=run.pk).heartbeat_at
        seen["swept"] = jobs.sweep(now=seen["beat"] + datetime.timedelta(seconds=settings.JOB_STALE_SECONDS))
        return step(*args, **kwargs)

    monkeypatch.setattr(runs.readers, "read_book", long_step)
    run = compute()
    assert seen["beat"] - seen["started"] > datetime.timedelta(seconds=0.3)
    assert seen["swept"] == {"failed": 0, "sent_again": 0}  # beating: alive
    assert run.status == AnalysisRun.Status.SUCCEEDED


def test_monthly_totals_follow_single_order_changes(book):
    customer = book[0]
    march = datetime.date(2026, 3, 1)

    def total(month):
        return CustomerMonth.objects.filter(customer=customer, month=month).values_list("revenue", "orders").first()  # noqa: E731

    assert total(march) == (Decimal("1000.00"), 1)
    order = OrderFactory(customer=customer, ordered_on=datetime.date(2026, 3, 20), revenue=Decimal("0.01"))
    assert total(march) == (Decimal("1000.01"), 2)
    order.ordered_on = datetime.date(2026, 4, 2)
    order.save()
    assert total(march) == (Decimal("1000.00"), 1)
    assert total(datetime.date(2026, 4, 1)) == (Decimal("0.01"), 1)
    order.status = Order.Status.CANCELLED
    order.save()
    assert total(datetime.date(2026, 4, 1)) is None
    Order.objects.get(customer=customer, ordered_on=march).delete()
    assert total(march) is None


def test_one_monthly_total_per_customer_and_month_on_every_database(book):
    from django.db import IntegrityError, transaction

    row = CustomerMonth.objects.get(customer=book[0])
    row.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        row.save()
    assert CustomerMonth.objects.filter(customer=book[0]).count() == 1


def test_rebuild_matches_the_orders(book):
    OrderFactory(
        customer=book[1],
        ordered_on=datetime.date(2026, 3, 31),
        revenue=Decimal("5.55"),
        cost=Decimal("1.11"),
        promised_on=datetime.date(2026, 4, 2),
        delivered_on=datetime.date(2026, 4, 3),
        entry_error=True,
    )
    CustomerMonth.objects.all().delete()
    monthly_totals_rebuild()
    row = CustomerMonth.objects.get(customer=book[1])
    assert (row.revenue, row.cost, row.orders, row.error_orders, row.dated_deliveries, row.on_time_deliveries) == (
        Decimal("2005.55"),
        Decimal("1201.11"),
        2,
        1,
        1,
        0,
    )
    assert (row.first_order_on, row.last_order_on) == (datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))


def test_recompute_command_prints_a_summary(book, capsys):
    call_command("recompute", "--as-of", "2026-06-30")
    out = capsys.readouterr().out
    assert "published: as of 2026-06-30, window 2025-07-01 to 2026-06-30" in out
    assert "customers with orders 3 of 4" in out


def test_report_and_export_commands(book, tmp_path, capsys):
    import csv
    import json

    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No analysis run has been published yet"):
        call_command("analytics_report", "--json")
    run = compute()
    capsys.readouterr()
    call_command("analytics_report", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["as_of"] == "2026-06-30"
    assert report["customers_with_orders"] == 3
    assert (report["revenue"], report["profit"]) == ("6000.00", "2370.00")  # 6000 - 3600 - 30
    assert report["median_profit"] == "790.00"  # profits 390, 790, 1190
    assert report["top1_share_pct"] == 50.0 and report["top5_share_pct"] == 100.0
    assert report["hhi"] == pytest.approx(3888.8889)  # (1/6)^2 + (2/6)^2 + (3/6)^2 = 14/36
    assert report["concentration_alert"] is True
    assert report["tiers"] == {"A": 1, "B": 1, "C": 1, "D": 0, "P": 1}
    assert set(report) >= {"top20_revenue_share_pct", "top20_profit_share_pct", "whale_peak_pct"}

    path = tmp_path / "analytics.csv"
    call_command("export_analytics", str(path))
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert list(rows[0]) == [
        "code",
        "name",
        "revenue",
        "gross_margin",
        "cost_to_serve",
        "profit",
        "orders",
        "score",
        "rank",
        "tier",
        "quadrant",
        "action",
        "protected",
    ]
    assert [r["code"] for r in rows] == ["K0", "K1", "K2", "K3"]
    assert rows[2]["revenue"] == "3000.00" and rows[2]["profit"] == "1190.00" and rows[2]["tier"] == "A"
    assert rows[3]["tier"] == "P" and rows[3]["action"] == "" and rows[3]["revenue"] == "0.00"
    assert run.results.count() == 4
