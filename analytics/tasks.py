"""Celery tasks for analysis runs: thin, idempotent, safe to redeliver. Nothing reads their results
(ignore_result), so sending one touches the broker only, never the result backend."""

from celery import shared_task

from . import digest
from .models import AnalysisRun
from .selectors import report_charts_warm
from .services import runs, whatif


@shared_task(name="analytics.compute_run", acks_late=True, ignore_result=True)
def compute_run(run_id: int) -> str:
    """Computes and publishes the run; a redelivered or duplicate message finds it done and stops."""
    run = runs.run_compute(run_id=run_id)
    if run is None:
        return "nothing to do"
    # Readers of the reports should not pay for the first build of each chart (seconds at 100,000
    # customers): a worker builds them right after publication.
    warm_report_charts.delay(run.pk)
    return "computed"


@shared_task(name="analytics.warm_report_charts", ignore_result=True)
def warm_report_charts(run_id: int) -> int:
    """Builds and stores every report chart of a published run; charts already stored are kept."""
    run = AnalysisRun.objects.filter(pk=run_id, status=AnalysisRun.Status.SUCCEEDED).first()
    return report_charts_warm(run=run) if run is not None else 0


@shared_task(name="analytics.nightly_run", ignore_result=True)
def nightly_run() -> int:
    run, _created = runs.run_request(trigger=AnalysisRun.Trigger.NIGHTLY)
    return run.pk


@shared_task(name="analytics.compute_whatif", acks_late=True, ignore_result=True)
def compute_whatif(whatif_id: int) -> str:
    """Computes a what-if preview; a redelivered or duplicate message finds it taken or done and stops."""
    job = whatif.whatif_compute(whatif_id=whatif_id)
    return "nothing to do" if job is None else job.status


@shared_task(name="analytics.weekly_digest", ignore_result=True)
def weekly_digest() -> int:
    """Beat, Monday morning: the executives' weekly digest."""
    return digest.weekly_digest()
