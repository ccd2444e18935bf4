"""Celery tasks for analysis runs: thin, idempotent, safe to redeliver."""
from celery import shared_task

from .models import AnalysisRun
from .services import runs


@shared_task(name="analytics.compute_run", acks_late=True)
def compute_run(run_id: int) -> str:
    """Computes and publishes the run; a redelivered or duplicate message finds it done and stops."""
    run = runs.run_compute(run_id=run_id)
    return "computed" if run is not None else "nothing to do"


@shared_task(name="analytics.nightly_run")
def nightly_run() -> int:
    run, _created = runs.run_request(trigger=AnalysisRun.Trigger.NIGHTLY)
    return run.pk
