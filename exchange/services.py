"""Imports: check a whole file, then write all of it in one transaction, or nothing.

`import_file` is what the command and the tasks call. It reads the file as a stream twice:
first every row is checked (cells, cross-cell rules, customer codes, duplicate keys) and every
problem is reported; only a file without problems is read again and written in batches, inside
one transaction together with the monthly totals, so a failure halfway leaves the database as
it was. Orders on PostgreSQL take a faster road (orders_pg.py): COPY into a staging table and
set-based SQL.
"""

import datetime
import logging
import os
import time
from collections.abc import Callable, Collection

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from analytics.models import AnalysisRun
from analytics.services.runs import run_request
from core import jobs
from notifications import events as notification_events

from .columns import KINDS
from .importers import IMPORTERS, Importer
from .models import ImportJob
from .orders_pg import import_orders_postgres
from .readers import RowSource, open_source, text_of
from .report import ImportFileError, ImportReport, RowProblem
from .rows import header_columns, parse_row

logger = logging.getLogger(__name__)

Progress = Callable[[int, str], None]


def _no_progress(percent: int, note: str) -> None:
    pass


def _key_text(columns: tuple[str, ...], key: tuple) -> str:
    return ", ".join(
        f"{c} “{v.isoformat() if hasattr(v, 'isoformat') else v}”" for c, v in zip(columns, key, strict=True)
    )


def _check(
    source: RowSource, columns: list, importer: Importer, report: ImportReport, progress: Progress, count: bool
) -> dict:
    """Reads every row once: cells, cross-cell rules, duplicate keys. With `count` (a dry run), the
    rows are also sorted out in batches into created, updated and unchanged while all is well."""
    keys: dict[tuple, int] = {}
    rows = 0
    batch, batch_size = [], settings.IMPORT_BATCH_SIZE
    for line, cells in source.rows():
        rows += 1
        row = parse_row(line, cells, columns, report)
        importer.check_row(line, row)
        key = importer.key(row)
        if key is not None:
            first = keys.setdefault(key, line)
            if first != line:
                report.add(
                    RowProblem(
                        line,
                        importer.key_columns[0],
                        text_of(cells[[c.name for c in columns].index(importer.key_columns[0])]),
                        "duplicate_key",
                        {"key": _key_text(importer.key_columns, key), "line": first},
                    )
                )
        if count and report.problem_count == 0:
            batch.append((line, row))
            if len(batch) >= batch_size:
                importer.count_batch(batch)
                batch = []
        if rows % 5000 == 0:
            progress(int(45 * source.fraction_read()), gettext_noop("checking"))
    report.rows = rows
    if rows == 0:
        raise ImportFileError("no_rows")
    importer.finish_checks(keys)
    if count and report.problem_count == 0 and batch:
        importer.count_batch(batch)
    return keys


def _write(source: RowSource, columns: list, importer: Importer, report: ImportReport, progress: Progress) -> None:
    batch_size = settings.IMPORT_BATCH_SIZE
    batch, done = [], 0
    for line, cells in source.rows():
        batch.append((line, parse_row(line, cells, columns, None)))
        if len(batch) >= batch_size:
            importer.write_batch(batch)
            done += len(batch)
            batch = []
            progress(45 + int(50 * done / max(report.rows, 1)), gettext_noop("writing"))
    if batch:
        importer.write_batch(batch)
    progress(95, gettext_noop("finishing"))
    importer.finish_write()


NewValuesAllowed = bool | dict[str, Collection[str]]


def _new_values_confirmed(report: ImportReport, allowed: NewValuesAllowed) -> bool:
    """Whether every new value the file names was confirmed: all of them (True), none (False), or
    those listed by column and match key (the ones a person saw and confirmed in the check)."""
    if isinstance(allowed, bool):
        return allowed or not report.new_values
    return all(value.key in allowed.get(value.column, ()) for value in report.new_values)


def import_file(
    *,
    kind: str,
    path: str,
    name: str | None = None,
    dry_run: bool = False,
    by=None,
    progress: Progress | None = None,
    create_new_values: NewValuesAllowed = False,
) -> ImportReport:
    """Checks the file and, unless `dry_run` or a problem was found, writes all of it.

    Never raises for a bad file: the report says what is wrong (`report.ok`), within the limits
    of readers.py. A value of a lookup column that matches nothing existing (a new industry or
    region) is listed in `report.new_values`; the file is written only if `create_new_values`
    confirms every one of them (True, or {column: [match keys]} as a check listed them), and
    otherwise refused whole. Re-importing a key updates its record; `report.unchanged` counts the
    rows whose record already held every value, which are not written. An exception while
    writing rolls the whole file back and propagates.
    """
    progress = progress or _no_progress
    started = time.monotonic()
    report = ImportReport(kind=kind, dry_run=dry_run, max_listed=settings.IMPORT_REPORT_MAX_PROBLEMS)
    name = name or os.path.basename(path)
    source = None
    try:
        spec = KINDS.get(kind)
        if spec is None:
            raise ImportFileError("unknown_kind", kind=kind, kinds=", ".join(KINDS))
        if os.path.isfile(path) and os.path.getsize(path) > settings.IMPORT_MAX_BYTES:
            raise ImportFileError("too_big", size=os.path.getsize(path), limit=settings.IMPORT_MAX_BYTES)
        source = open_source(path, name)
        report.file_format, report.encoding = source.file_format, source.encoding
        columns = header_columns(spec, source.header)
        if kind == "orders" and connection.vendor == "postgresql" and source.file_format == "csv":
            import_orders_postgres(source=source, columns=columns, report=report, progress=progress, by=by)
        else:
            importer = IMPORTERS[kind](report=report, present=set(source.header), by=by, source_name=name)
            importer.prepare()
            _check(source, columns, importer, report, progress, count=dry_run)
            if report.ok and not dry_run:
                if not _new_values_confirmed(report, create_new_values):
                    raise ImportFileError("new_values", count=len(report.new_values))
                with transaction.atomic():
                    _write(source, columns, importer, report, progress)
    except ImportFileError as error:
        report.file_error = error
    finally:
        if source is not None:
            source.close()
    if not report.ok:
        report.created = report.updated = report.unchanged = 0
    report.seconds = time.monotonic() - started
    return report


# Jobs of the web UI ---------------------------------------------------------------------------


def import_job_create(*, kind: str, upload, by) -> ImportJob:
    """Keeps the uploaded file under MEDIA_ROOT and queues its check (a dry run) after commit; if the
    broker does not take it, the job is failed then (jobs.NOT_SENT), as `job.status` shows."""
    job = ImportJob(kind=kind, requested_by=by, original_name=os.path.basename(upload.name)[:200], size=upload.size)
    job.file.save(os.path.basename(upload.name), upload, save=False)
    job.save()
    JOB_KIND.enqueue(job)
    return job


def _job_failed(job: ImportJob, error: Exception) -> ImportJob:
    """Ends a job that an unexpected exception stopped (its transaction rolled back: nothing of the
    file was written) as failed, with the error kept for the page and the log."""
    logger.exception("import %s failed", job.pk, exc_info=error)
    import_job_fail(job, f"{type(error).__name__}: {error}")
    return job


def _job_file(job: ImportJob, *, dry_run: bool, create_new_values: NewValuesAllowed = False) -> ImportReport:
    """The job's file through import_file, its heartbeat and progress written meanwhile (core.jobs)."""
    with JOB_KIND.heartbeat(job), JOB_KIND.progress_writer(job) as progress:
        return import_file(
            kind=job.kind,
            path=job.file.path,
            name=job.original_name,
            dry_run=dry_run,
            by=job.confirmed_by or job.requested_by,
            progress=progress,
            create_new_values=create_new_values,
        )


def import_job_check(*, job_id: int) -> ImportJob | None:
    """The dry run: fills the job's preview; the job becomes ready or invalid (a file refused by
    the check, its report saying why), or failed when something unexpected stopped the check."""
    job = JOB_KIND.claim(job_id, waiting=ImportJob.Status.UPLOADED, to=ImportJob.Status.CHECKING)
    if job is None:
        return None
    try:
        report = _job_file(job, dry_run=True)
    except Exception as error:
        return _job_failed(job, error)
    job.preview = report.as_dict()
    job.status = ImportJob.Status.READY if report.ok else ImportJob.Status.INVALID
    job.progress, job.progress_note, job.heartbeat_at = 100, "", timezone.now()
    job.save(update_fields=["preview", "status", "progress", "progress_note", "heartbeat_at"])
    return job


def import_job_confirm(*, job: ImportJob, by, create_new_values: bool = False) -> bool:
    """Queues the real import of a checked file; False when it is not (or no longer) ready, or
    when its check listed new values and `create_new_values` does not confirm them. If the broker
    does not take the task, the job is failed after the commit (jobs.NOT_SENT): see `job.status`."""
    if (job.preview or {}).get("new_values") and not create_new_values:
        return False
    with transaction.atomic():
        updated = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.READY).update(
            status=ImportJob.Status.QUEUED, confirmed_by=by, progress=0
        )
        if updated:
            job.status = ImportJob.Status.QUEUED
            JOB_KIND.enqueue(job)
    return bool(updated)


def import_job_run(*, job_id: int) -> ImportJob | None:
    """The import itself; on success an analysis run is requested (trigger: import)."""
    job = JOB_KIND.claim(job_id, waiting=ImportJob.Status.QUEUED, to=ImportJob.Status.RUNNING)
    if job is None:
        return None
    # Confirming the job confirmed the new values its check listed, and only those.
    confirmed: dict[str, list[str]] = {}
    for value in (job.preview or {}).get("new_values", []):
        confirmed.setdefault(value["column"], []).append(value["key"])
    try:
        report = _job_file(job, dry_run=False, create_new_values=confirmed)
    except Exception as error:  # the transaction rolled back: nothing of the file was written
        return _job_failed(job, error)
    job.report = report.as_dict()
    job.status = ImportJob.Status.SUCCEEDED if report.written else ImportJob.Status.FAILED
    job.progress, job.progress_note, job.finished_at = 100, "", timezone.now()
    with transaction.atomic():
        if report.written:
            run, _created = run_request(trigger=AnalysisRun.Trigger.IMPORT, by=job.confirmed_by or job.requested_by)
            job.analysis_run = run
        job.save(update_fields=["report", "status", "progress", "progress_note", "finished_at", "analysis_run"])
        if job.status == ImportJob.Status.SUCCEEDED:
            notification_events.import_finished(job=job)
        else:
            notification_events.import_failed(job=job)
    return job


def import_job_fail(job: ImportJob, error: str) -> bool:
    """Marks a job still under way failed with `error` (on `job` too); False when it had finished."""
    now = timezone.now()
    with transaction.atomic():
        failed = ImportJob.objects.filter(pk=job.pk, status__in=ImportJob.IN_PROGRESS).update(
            status=ImportJob.Status.FAILED, error=error[:2000], finished_at=now
        )
        if failed:
            job.status, job.error, job.finished_at = ImportJob.Status.FAILED, error[:2000], now
            notification_events.import_failed(job=job)  # who uploaded and who confirmed it are told
    return bool(failed)


# Imports as jobs (core/jobs.py): registered for the sweep and the status endpoint by ExchangeConfig.ready().
JOB_KIND = jobs.JobKind(
    name="import",
    model=ImportJob,
    permission="exchange.import_data",
    running=(ImportJob.Status.CHECKING, ImportJob.Status.RUNNING),
    waiting={
        ImportJob.Status.UPLOADED: "exchange.tasks.check_import",
        ImportJob.Status.QUEUED: "exchange.tasks.run_import",
    },
    fail=import_job_fail,
)


def import_files_purge(*, now: datetime.datetime | None = None) -> int:
    """Deletes the uploaded files of jobs older than IMPORT_FILE_RETENTION_DAYS that are not under
    way (their reports stay); returns how many. A checked file still waiting for confirmation
    can no longer be imported: its job ends failed, saying why."""
    days = settings.IMPORT_FILE_RETENTION_DAYS
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    expired = ImportJob.objects.filter(created_at__lt=cutoff).exclude(file="").exclude(status__in=ImportJob.IN_PROGRESS)
    purged = 0
    for job in expired.iterator():
        if job.status == ImportJob.Status.READY:
            report = ImportReport(kind=job.kind, dry_run=False, file_error=ImportFileError("file_expired", days=days))
            ended = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.READY).update(
                status=ImportJob.Status.FAILED, report=report.as_dict(), finished_at=timezone.now()
            )
            if not ended:  # confirmed meanwhile: its file is kept until a later purge
                continue
        job.file.delete(save=False)  # a file already missing on disk is no error
        ImportJob.objects.filter(pk=job.pk).update(file="")
        purged += 1
    return purged
