"""Analysis runs: request one, compute it, publish it atomically.

- One run at a time: a partial unique index admits one queued-or-running run; a second request
  joins it instead of starting another.
- Results are written under the run's id while it runs; readers only ever read the latest run
  whose status is `succeeded`, so a failed or killed run is never visible and the previous one
  stays published. Publication is one UPDATE of the run row.
- Safe to redeliver: computing a finished run does nothing; a run whose worker stopped beating
  (killed) is taken over, its partial rows deleted and computed again.
- A run is a job (core/jobs.py): a run the broker did not take is failed at once; a running one
  beats every few seconds, and beat's sweep fails one silent for JOB_STALE_SECONDS, which lets the
  next request (button, nightly, import) start a new one.
"""

import datetime
import json
import logging
import time
import traceback
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_noop

from core import jobs
from crm.models import Customer

from ..models import AnalysisRun, CostModel, CustomerResult, RunChart, ScoringModel, Tier, TierRules
from . import sql_engine
from .company import company_figures
from .metrics import Window, customer_figures
from .scoring import score_population

logger = logging.getLogger(__name__)
FOUR = Decimal("0.0001")


def current_settings() -> dict:
    return {
        "cost_model": CostModel.objects.latest(),
        "scoring_model": ScoringModel.objects.latest(),
        "tier_rules": TierRules.objects.latest(),
    }


def run_window(run: AnalysisRun) -> Window:
    """The windows the run recorded (as_of, the window, the prior window)."""
    return Window(run.as_of, run.window_start, run.window_end, run.prior_start, run.prior_end)


def published_run(*, with_company: bool = False) -> AnalysisRun | None:
    """The run pages show: the latest one that completed. Its company figures (large) only on request."""
    runs = AnalysisRun.objects.filter(status=AnalysisRun.Status.SUCCEEDED).order_by("-published_at", "-id")
    return (runs if with_company else runs.defer("company", "timings")).first()


def active_run() -> AnalysisRun | None:
    return AnalysisRun.objects.filter(active=True).first()


def run_request(
    *, trigger: str, by=None, as_of: datetime.date | None = None, enqueue: bool = True
) -> tuple[AnalysisRun, bool]:
    """Queues a run, or returns the one already queued or running (created = False).

    The task is sent after the transaction commits, so a worker never looks for a row that is
    not there yet. If the broker does not take it, the run is failed (jobs.NOT_SENT) right then:
    after the commit, the returned run's status says so.
    """
    as_of = as_of or timezone.localdate()
    window = Window.ending(as_of)
    current = active_run()
    if current is not None and not JOB_KIND.give_up_if_stale(current):  # what the sweep would do, sooner
        return current, False
    try:
        with transaction.atomic():
            run = AnalysisRun.objects.create(
                as_of=as_of,
                trigger=trigger,
                requested_by=by,
                window_start=window.start,
                window_end=window.end,
                prior_start=window.prior_start,
                prior_end=window.prior_end,
                **current_settings(),
            )
    except IntegrityError:  # someone else queued one a moment ago
        return active_run(), False
    if enqueue:
        JOB_KIND.enqueue(run)
    return run, True


def _claim(run_id: int) -> AnalysisRun | None:
    """Marks the run as ours (queued, or taken over from a worker that died: core.jobs JobKind.claim),
    or returns None when it is finished or another live worker has it."""
    run = JOB_KIND.claim(run_id, waiting=AnalysisRun.Status.QUEUED, to=AnalysisRun.Status.RUNNING)
    if run is None:
        return None
    # Whatever a killed attempt left behind goes; readers never saw it.
    CustomerResult.objects.filter(run=run)._raw_delete(CustomerResult.objects.db)
    if connection.vendor == "postgresql":  # a failure after the SQL engine attached the run's partition
        sql_engine.drop_result_partitions([run.pk])
    RunChart.objects.filter(run=run).delete()
    return run


def _progress(run: AnalysisRun, progress: int, note: str) -> None:
    """The run's progress and heartbeat from its own thread (core.jobs.write_progress), on `run` too."""
    run.progress, run.progress_note = progress, note
    run.heartbeat_at = jobs.write_progress(AnalysisRun, run.pk, progress, note)


class ProgressElsewhere(jobs.ProgressWriter):
    """The run's progress written from a thread of its own, on that thread's own database connection
    (core.jobs.ProgressWriter), so that it shows while the SQL engine's transaction is still open.
    Only the database row is written: the caller's run object belongs to the caller's thread."""

    def __init__(self, run: AnalysisRun):
        super().__init__(AnalysisRun, run.pk, JOB_KIND.label(run))


def _q(value, places=FOUR):
    return None if value is None else Decimal(value).quantize(places, rounding=ROUND_HALF_UP)


RESULT_COLUMNS = (
    "run_id",
    "customer_id",
    "revenue",
    "cost_of_goods",
    "gross_margin",
    "cost_to_serve",
    "profit",
    "prior_revenue",
    "orders",
    "average_order_value",
    "margin_pct",
    "on_time_delivery_pct",
    "error_pct",
    "on_time_payment_pct",
    "average_days_late",
    "overdue_amount",
    "growth_pct",
    "complaints",
    "average_survey_score",
    "referrals",
    "tenure_years",
    "days_since_last_order",
    "days_since_last_interaction",
    "percentiles",
    "score",
    "rank",
    "tier",
    "quadrant",
    "protection",
    "action",
    "first_order_on",
)
SIX = Decimal("0.000001")


def _result_values(run_id: int, c) -> tuple:
    """One CustomerResult row as values in RESULT_COLUMNS order (percentiles as a JSON text)."""
    percentiles = {f: str(_q(Decimal(50 * q) / Decimal(d), SIX)) for f, (q, d) in c.percentiles.items()}
    return (
        run_id,
        c.customer_id,
        c.revenue,
        c.cost_of_goods,
        c.gross_margin,
        c.cost_to_serve,
        c.profit,
        c.prior_revenue,
        c.orders,
        _q(c.average_order_value),
        _q(c.margin_pct),
        _q(c.on_time_delivery_pct),
        _q(c.error_pct),
        _q(c.on_time_payment_pct),
        _q(c.average_days_late),
        c.overdue_amount,
        _q(c.growth_pct),
        c.complaints,
        _q(c.average_survey_score),
        c.referrals,
        c.tenure_years,
        c.days_since_last_order,
        c.days_since_last_interaction,
        json.dumps(percentiles),
        _q(Decimal(c.score.numerator) / Decimal(c.score.denominator)) if c.score is not None else None,
        c.rank,
        c.tier,
        c.quadrant,
        ";".join(c.protection),
        c.action,
        c.first_order_on,
    )


def _write_results(run_id: int, customers) -> None:
    """COPY on PostgreSQL (the ORM's INSERT costs seconds per 10,000 rows); bulk_create elsewhere."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            columns = ", ".join(RESULT_COLUMNS)
            with cursor.connection.cursor().copy(
                f"COPY {CustomerResult._meta.db_table} ({columns}) FROM STDIN"
            ) as copy:
                for c in customers:
                    copy.write_row(_result_values(run_id, c))
        return
    rows = []
    for c in customers:
        values = dict(zip(RESULT_COLUMNS, _result_values(run_id, c), strict=False))
        values["percentiles"] = json.loads(values["percentiles"])
        rows.append(CustomerResult(**values))
    CustomerResult.objects.bulk_create(rows)


ENGINES = ("python", "sql")


def engine_for_database() -> str:
    """`sql` on PostgreSQL (set-based, inside the database: sql_engine.py), `python` elsewhere (SQLite
    has no exact decimals). settings.ANALYSIS_ENGINE, when set, chooses."""
    chosen = getattr(settings, "ANALYSIS_ENGINE", None)
    if chosen:
        if chosen not in ENGINES or (chosen == "sql" and connection.vendor != "postgresql"):
            raise ValueError(f"analysis engine {chosen!r} is not available on {connection.vendor}")
        return chosen
    return "sql" if connection.vendor == "postgresql" else "python"


@contextmanager
def _failure_unpublished(run: AnalysisRun):
    """Any failure marks the run failed and removes its rows, so the previous run stays published.
    WorkerKilled passes untouched: nothing cleans up after a worker that died."""
    try:
        yield
    except WorkerKilled:
        raise
    except Exception as error:  # noqa: BLE001 - any failure must leave the previous run published
        logger.exception("analysis run %s failed", run.pk)
        run_fail(run=run, error=f"{error.__class__.__name__}: {error}\n{traceback.format_exc(limit=5)}")
        raise


def run_compute(*, run_id: int, fail_after_rows: int | None = None, engine: str | None = None) -> AnalysisRun | None:
    """Computes and publishes the run. Returns None when there was nothing to do (done, or taken).
    Its heartbeat is written all along (jobs.Heartbeat).

    `fail_after_rows` (tests) stands for the worker dying once that many result rows are written.
    """
    engine = engine or engine_for_database()
    run = _claim(run_id)
    if run is None:
        return None
    with JOB_KIND.heartbeat(run):
        if engine == "sql":
            return _compute_in_database(run, fail_after_rows=fail_after_rows)
        return _compute_in_python(run, fail_after_rows=fail_after_rows)


def _compute_in_python(run: AnalysisRun, *, fail_after_rows: int | None) -> AnalysisRun:
    """The run on any database (metrics.py, scoring.py): figures read, scored in Python, written in batches."""
    timings, clock = {}, time.perf_counter()

    def lap(name):
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    with _failure_unpublished(run):
        window = run_window(run)
        _progress(run, 5, gettext_noop("reading figures"))
        customers = list(customer_figures(window))
        lap("figures")
        _progress(run, 40, gettext_noop("scoring"))
        facts = score_population(
            customers,
            weights=run.scoring_model.weights,
            core_pct=run.tier_rules.core_pct,
            key_pct=run.tier_rules.key_pct,
            order_handling_cost=run.cost_model.order_handling_cost,
            complaint_handling_cost=run.cost_model.complaint_handling_cost,
        )
        lap("scoring")
        _progress(run, 55, gettext_noop("writing results"))
        batch = settings.ANALYSIS_RESULT_BATCH
        for start in range(0, len(customers), batch):
            _write_results(run.pk, customers[start : start + batch])
            if fail_after_rows is not None and start + batch >= fail_after_rows:
                raise WorkerKilled("simulated kill while writing results")
            written = min(start + batch, len(customers))
            _progress(run, 55 + 30 * written // max(1, len(customers)), gettext_noop("writing results"))
        lap("results")
        _progress(run, 88, gettext_noop("company figures"))
        previous = published_run()
        # Customers that came after the previous run started hold only a stand-in prospect row
        # there (run_add_prospects): for the migration they are new.
        previous_tiers = (
            dict(
                previous.results.filter(customer__created_at__lte=previous.started_at).values_list(
                    "customer_id", "tier"
                )
            )
            if previous
            else {}
        )
        churned = set(Customer.objects.filter(churned_on__lte=run.as_of).values_list("pk", flat=True))
        company = company_figures(
            customers,
            window,
            median_profit=facts["median_profit"],
            previous_tiers=previous_tiers,
            first_order={c.customer_id: c.first_order_on for c in customers if c.first_order_on},
            churned_ids=churned,
        )
        lap("company")
        run_publish(run=run, company=company, timings=timings)
    return run


def _compute_in_database(run: AnalysisRun, *, fail_after_rows: int | None) -> AnalysisRun:
    """The run on PostgreSQL (sql_engine.py): results written and company aggregates returned in one
    transaction; then the company figures from those aggregates, then publication.
    The transaction commits on its own: a worker killed during it leaves no row, one killed after it
    leaves rows under an unpublished run, which a redelivery deletes and computes again (_claim)."""
    timings, clock = {}, time.perf_counter()
    with _failure_unpublished(run):
        window = run_window(run)
        _progress(run, 5, gettext_noop("reading figures"))
        previous = published_run()
        progress = ProgressElsewhere(run)
        try:
            row = sql_engine.results_and_company(
                run_id=run.pk,
                window=window,
                weights=run.scoring_model.weights,
                core_pct=run.tier_rules.core_pct,
                key_pct=run.tier_rules.key_pct,
                order_handling_cost=run.cost_model.order_handling_cost,
                complaint_handling_cost=run.cost_model.complaint_handling_cost,
                previous_run_id=previous.pk if previous else None,
                previous_started_at=previous.started_at if previous else None,
                progress=progress,
            )
        finally:
            progress.close()
        now = time.perf_counter()
        timings["results"], clock = round(now - clock, 3), now
        timings["results_steps"] = row.pop("laps")
        if fail_after_rows is not None and row["written"] >= fail_after_rows:
            raise WorkerKilled("simulated kill after writing results")
        _progress(run, 85, gettext_noop("company figures"))
        company = sql_engine.company_figures(row, window, run.pk)
        now = time.perf_counter()
        timings["company"] = round(now - clock, 3)
        run_publish(run=run, company=company, timings=timings)
    return run


class WorkerKilled(BaseException):
    """Stands for the worker process dying mid-run (tests): nothing catches it, nothing cleans up."""


def run_add_prospects(*, run: AnalysisRun, customer_ids=None) -> int:
    """Gives customers without a row in the run (created after it read its figures) a prospect row:
    no orders in the run's window, so tier P, zero money. Lists rely on every customer having one."""
    rows = [CustomerResult(run=run, customer_id=pk, tier=Tier.P) for pk in _customers_without_row(run, customer_ids)]
    CustomerResult.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
    return len(rows)


def _customers_without_row(run: AnalysisRun, customer_ids=None) -> list[int]:
    if connection.vendor != "postgresql":
        missing = Customer.objects.exclude(Exists(CustomerResult.objects.filter(run=run, customer_id=OuterRef("pk"))))
        if customer_ids is not None:
            missing = missing.filter(pk__in=customer_ids)
        return list(missing.values_list("pk", flat=True))
    # A plain anti-join. The ORM's NOT EXISTS (... LIMIT 1) runs once per customer, and while the run's
    # rows are not analyzed yet the planner may read them through (run_id, tier): minutes at 100,000.
    sql = (
        f"SELECT c.id FROM {Customer._meta.db_table} c WHERE NOT EXISTS (SELECT 1 FROM {CustomerResult._meta.db_table} r "
        "WHERE r.run_id = %s AND r.customer_id = c.id)"
    )
    params = [run.pk]
    if customer_ids is not None:
        sql += " AND c.id = ANY(%s)"
        params.append(list(customer_ids))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


@transaction.atomic
def run_publish(*, run: AnalysisRun, company: dict, timings: dict) -> None:
    """The switch: from this UPDATE on, pages read this run. Older runs beyond the kept number go.
    Only a run still running is published: one given up for dead meanwhile (the sweep) may have
    been followed by another, so JobAbandoned rolls this back."""
    clock = time.perf_counter()
    run_add_prospects(run=run)
    timings["publish"] = round(time.perf_counter() - clock, 3)
    timings["total"] = round(sum(v for v in timings.values() if isinstance(v, int | float)), 3)
    now = timezone.now()
    published = AnalysisRun.objects.filter(pk=run.pk, status=AnalysisRun.Status.RUNNING).update(
        status=AnalysisRun.Status.SUCCEEDED,
        active=False,
        progress=100,
        progress_note=gettext_noop("published"),
        company=company,
        timings=timings,
        finished_at=now,
        published_at=now,
        heartbeat_at=now,
    )
    if not published:
        raise jobs.JobAbandoned(f"analysis run {run.pk} was given up for dead before it could be published")
    keep = AnalysisRun.objects.filter(status=AnalysisRun.Status.SUCCEEDED).order_by("-published_at", "-id")
    old = list(keep.values_list("pk", flat=True)[settings.ANALYSIS_RUNS_KEPT :])
    if old:
        if connection.vendor == "postgresql":  # rows outside a partition of their own; the partitions go below
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {CustomerResult._meta.db_table}_default WHERE run_id = ANY(%s)", [old])
        else:
            CustomerResult.objects.filter(run_id__in=old)._raw_delete(CustomerResult.objects.db)
        AnalysisRun.objects.filter(pk__in=old).delete()
    if connection.vendor == "postgresql":
        transaction.on_commit(lambda: _after_publication(run.pk, old))


def _after_publication(run_id: int, old: list[int]) -> None:
    """Statistics for the new rows (autovacuum may be off or late), and the old runs' partitions go."""
    sql_engine.drop_result_partitions(old)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [sql_engine.partition_table(run_id)])
        own = cursor.fetchone()[0]
        cursor.execute(f"ANALYZE {sql_engine.partition_table(run_id) if own else CustomerResult._meta.db_table}")


def run_fail(*, run: AnalysisRun, error: str) -> bool:
    """Marks the run failed (on `run` too) and removes its partial rows; the published run stays as
    it was. A run already failed keeps its first error; a published one is left alone. Returns
    whether this marked it failed."""
    now = timezone.now()
    with transaction.atomic():
        failed = AnalysisRun.objects.filter(pk=run.pk, status__in=AnalysisRun.ACTIVE).update(
            status=AnalysisRun.Status.FAILED, active=False, error=error[:5000], finished_at=now
        )
        if failed:
            run.status, run.active, run.error, run.finished_at = AnalysisRun.Status.FAILED, False, error[:5000], now
        elif AnalysisRun.objects.filter(pk=run.pk, status=AnalysisRun.Status.SUCCEEDED).exists():
            return False
    CustomerResult.objects.filter(run=run)._raw_delete(CustomerResult.objects.db)
    if connection.vendor == "postgresql":  # a failure after the SQL engine attached the run's partition
        sql_engine.drop_result_partitions([run.pk])
    RunChart.objects.filter(run=run).delete()
    return bool(failed)


# Runs as jobs (core/jobs.py): registered for the sweep and the status endpoint by AnalyticsConfig.ready().
JOB_KIND = jobs.JobKind(
    name="run",
    model=AnalysisRun,
    permission="analytics.view_analysisrun",
    running=(AnalysisRun.Status.RUNNING,),
    waiting={AnalysisRun.Status.QUEUED: "analytics.tasks.compute_run"},
    fail=lambda run, error: run_fail(run=run, error=error),
)
