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
import logging
import time
import traceback
from contextlib import contextmanager

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from core import jobs
from notifications import events as notification_events

from ..models import AnalysisRun, CostModel, ScoringModel, TierRules
from . import core, readers, storage
from .core import Window

logger = logging.getLogger(__name__)


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
    storage.discard_results(run.pk)  # whatever a killed attempt left behind goes; readers never saw it
    return run


def _progress(run: AnalysisRun, progress: int, note: str) -> None:
    """The run's progress and heartbeat from its own thread (core.jobs.write_progress), on `run` too."""
    run.progress, run.progress_note = progress, note
    run.heartbeat_at = jobs.write_progress(AnalysisRun, run.pk, progress, note)


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


def scoring_settings(*, cost_model: CostModel, scoring_model: ScoringModel, tier_rules: TierRules) -> dict:
    """The core's settings (core.score's keyword arguments) from the three versioned settings, saved or
    drafted: a run passes the versions it uses, a what-if preview its draft in place of one of them."""
    return {
        "weights": scoring_model.weights,
        "core_pct": tier_rules.core_pct,
        "key_pct": tier_rules.key_pct,
        "order_handling_cents": int(cost_model.order_handling_cost * 100),  # two places: exact
        "complaint_handling_cents": int(cost_model.complaint_handling_cost * 100),
    }


def run_compute(*, run_id: int, fail_after_rows: int | None = None) -> AnalysisRun | None:
    """Computes and publishes the run. Returns None when there was nothing to do (done, or taken).
    Its heartbeat is written all along (jobs.Heartbeat). The steps: the reader reads every customer's
    inputs (readers.py), the core decides every figure (core.py), storage writes the rows in one
    transaction (storage.py), the core computes the company figures, and the run is published.

    `fail_after_rows` (tests) stands for the worker dying once that many result rows are written
    (after their transaction: they stay, under a run nobody publishes, until a redelivery takes it over).
    """
    run = _claim(run_id)
    if run is None:
        return None
    with JOB_KIND.heartbeat(run), _failure_unpublished(run):
        timings, clock = {}, time.perf_counter()

        def lap(name: str) -> None:
            nonlocal clock
            timings[name], clock = round(time.perf_counter() - clock, 3), time.perf_counter()

        window = run_window(run)
        _progress(run, 5, gettext_noop("reading figures"))
        book = readers.read_book(window, scratch=f"analytics_scratch_r{run.pk}_inputs")
        lap("figures")
        _progress(run, 30, gettext_noop("scoring"))
        scored = core.score(
            book,
            as_of=window.as_of,
            **scoring_settings(cost_model=run.cost_model, scoring_model=run.scoring_model, tier_rules=run.tier_rules),
        )
        lap("scoring")
        previous, inputs = readers.previous_tiers(published_run()), readers.read_company_inputs(window)
        lap("company inputs")
        _progress(run, 55, gettext_noop("writing results"))
        written, company = storage.write_results(
            run.pk,
            book.customer_id,
            scored,
            meanwhile=lambda: core.company(book, scored, window, previous_tiers=previous, **inputs),
        )
        lap("results and company")
        # The complaint KPIs of the window as they stand now: the service page reads them as of the run.
        company["service"] = readers.read_service_figures(window.start, window.end)
        lap("service figures")
        if fail_after_rows is not None and written >= fail_after_rows:
            raise WorkerKilled("simulated kill after writing results")
        run_publish(run=run, company=company, timings=timings)
    return run


class WorkerKilled(BaseException):
    """Stands for the worker process dying mid-run (tests): nothing catches it, nothing cleans up."""


def run_add_prospects(*, run: AnalysisRun, customer_ids=None) -> int:
    """Gives customers created after the run read its figures a prospect row (storage.add_prospects)."""
    return storage.add_prospects(run.pk, customer_ids)


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
        storage.delete_runs_results(old)
        AnalysisRun.objects.filter(pk__in=old).delete()
    transaction.on_commit(lambda: storage.after_publication(run.pk, old))


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
            notification_events.run_failed(run=run)  # who asked and the executives are told
        elif AnalysisRun.objects.filter(pk=run.pk, status=AnalysisRun.Status.SUCCEEDED).exists():
            return False
    storage.discard_results(run.pk)
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
