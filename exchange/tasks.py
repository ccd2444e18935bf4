"""Celery tasks for imports started on the web: thin, by id, safe to redeliver. Nothing reads the
results of the job tasks (ignore_result): sending one touches the broker only."""

from celery import shared_task

from . import services


@shared_task(name="exchange.check_import", acks_late=True, ignore_result=True)
def check_import(job_id: int) -> str:
    """The dry run of an uploaded file; a redelivered message finds it checked and stops."""
    job = services.import_job_check(job_id=job_id)
    return "nothing to do" if job is None else job.status


@shared_task(name="exchange.run_import", acks_late=True, ignore_result=True)
def run_import(job_id: int) -> str:
    """The confirmed import; it runs in one transaction, so a redelivery after a crash starts clean."""
    job = services.import_job_run(job_id=job_id)
    return "nothing to do" if job is None else job.status


@shared_task(name="exchange.purge_import_files")
def purge_import_files() -> int:
    """Beat, daily: uploaded files older than the retention are deleted (IMPORT_FILE_RETENTION_DAYS)."""
    return services.import_files_purge()
