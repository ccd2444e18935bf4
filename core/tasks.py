"""Celery tasks shared by every app: thin, called by beat."""

from celery import shared_task

from . import jobs


@shared_task(name="core.sweep_jobs", ignore_result=True)
def sweep_jobs() -> dict[str, int]:
    """Fails the jobs whose worker died and sends again those whose message was lost (jobs.sweep)."""
    return jobs.sweep()
