"""Background jobs (analysis runs, imports): one way to hand a job to the workers, to show that a
worker is still on it, and to give up a job whose worker died.

A job is a model row with `status`, `created_at` and `heartbeat_at`; each app describes its jobs
with a `JobKind` (which statuses wait for a worker, which mean a worker is on it, how to fail one)
and registers it from its AppConfig.ready().

- Sending is part of the job's life: `JobKind.enqueue` sends the task after the transaction
  commits, and when the broker does not take it (down, or hung: settings bound the wait to
  BROKER_TIMEOUT_SECONDS) the job is failed at once with `NOT_SENT`. The caller sees it in
  `job.status` after the commit; nothing stays active waiting for a message that was never sent.
- While a worker is on a job, `JobKind.heartbeat` writes its heartbeat every
  JOB_HEARTBEAT_SECONDS from a thread of its own, whatever the job's own thread is doing.
- `sweep` (beat, every JOB_SWEEP_SECONDS) fails a job whose heartbeat is older than
  JOB_STALE_SECONDS with `WORKER_STOPPED`: its worker died, and its place (one run at a time)
  is free again. A job still waiting for a worker after as long is sent again: tasks are
  idempotent, so a copy finds the job taken or done and stops.
"""

import datetime
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_noop

logger = logging.getLogger(__name__)

# Kept in English on the job (error), shown translated (gettext) where a person reads them.
NOT_SENT = gettext_noop(
    "The task queue did not answer, so this was not started. Try again in a few minutes; if it keeps "
    "happening, ask an administrator to check Redis and the Celery workers."
)
WORKER_STOPPED = gettext_noop(
    "The worker doing this stopped (it gave no sign of life for a while), so it was given up. Start it again."
)


class JobAbandoned(Exception):
    """The job was given up for dead while this worker was still on it (it was too long silent):
    what the worker would finish now must not be published."""


@dataclass(frozen=True, kw_only=True)
class JobKind:
    """One kind of job: its model, its statuses, and how one is marked failed.

    `fail(job, error)` marks the job failed with `error` unless it has already finished (and
    returns whether it did), setting the fields on `job` too, so that its caller sees them."""

    model: type[models.Model]
    running: tuple[str, ...]  # a worker is on the job and beats
    waiting: dict[str, str] = field(default_factory=dict)  # status -> the task that takes it on, by dotted path
    fail: Callable[[models.Model, str], bool]

    def enqueue(self, job: models.Model) -> None:
        """Sends the task that takes `job` on from its status once the current transaction commits
        (at once outside one); the job is failed with NOT_SENT if the broker does not take it."""
        task = import_string(self.waiting[job.status])
        transaction.on_commit(lambda: self._send(task, job))

    def _send(self, task, job: models.Model) -> None:
        if task.app.conf.task_always_eager:  # in-process: the task's own failures are the task's
            task.delay(job.pk)
            return
        try:
            task.delay(job.pk)
        except Exception:  # noqa: BLE001 - whatever stopped the send, no worker will ever see this job
            logger.exception("%s %s: the task queue did not take %s", self.model._meta.model_name, job.pk, task.name)
            self.fail(job, NOT_SENT)

    def heartbeat(self, job: models.Model) -> "Heartbeat":
        """A context manager: the job's heartbeat is written every JOB_HEARTBEAT_SECONDS while in it."""
        rows = self.model._default_manager.filter(pk=job.pk, status=job.status)
        return Heartbeat(rows, f"{job._meta.model_name}-{job.pk}")


_kinds: list[JobKind] = []


def register(kind: JobKind) -> None:
    """Puts the kind under the sweep (from the app's AppConfig.ready())."""
    if all(known.model is not kind.model for known in _kinds):
        _kinds.append(kind)


def is_stale(job: models.Model, now: datetime.datetime | None = None) -> bool:
    """Silent for longer than JOB_STALE_SECONDS: no heartbeat since then (or, never beaten, created before)."""
    now = now or timezone.now()
    return now - (job.heartbeat_at or job.created_at) > datetime.timedelta(seconds=settings.JOB_STALE_SECONDS)


def sweep(now: datetime.datetime | None = None) -> dict[str, int]:
    """Fails the running jobs whose worker is silent for JOB_STALE_SECONDS (WORKER_STOPPED) and sends
    the jobs waiting for as long again. Each job is looked at again under its row lock, so a job that
    beat or finished meanwhile is left alone. Returns how many were failed and sent again."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.JOB_STALE_SECONDS)
    silent = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    done = {"failed": 0, "sent_again": 0}
    for kind in _kinds:
        rows = kind.model._default_manager
        for pk in rows.filter(silent, status__in=[*kind.running, *kind.waiting]).values_list("pk", flat=True):
            with transaction.atomic():
                job = rows.select_for_update().filter(pk=pk).first()
                if job is None or not is_stale(job, now):
                    continue
                if job.status in kind.running:
                    logger.warning(
                        "%s %s: silent since %s, its worker stopped", job._meta.model_name, pk, job.heartbeat_at
                    )
                    done["failed"] += bool(kind.fail(job, WORKER_STOPPED))
                elif job.status in kind.waiting:  # the message may be lost (a broker restart): send another
                    rows.filter(pk=pk).update(heartbeat_at=now)
                    kind.enqueue(job)
                    done["sent_again"] += 1
    return done


class Heartbeat:
    """Writes `heartbeat_at = now` on `rows` (the job's row while it keeps the status it had) every
    JOB_HEARTBEAT_SECONDS, from a thread of its own with a database connection of its own, so the
    job shows alive even while its own thread waits on a long statement or holds a transaction
    open. Best effort: a write that fails or would wait over a second is logged and skipped."""

    def __init__(self, rows: models.QuerySet, name: str):
        self.rows, self.name = rows, name
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"{name}-heartbeat", daemon=True)

    def __enter__(self) -> "Heartbeat":
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stopped.set()
        self.thread.join()

    def _beat(self) -> None:
        try:
            while not self.stopped.wait(settings.JOB_HEARTBEAT_SECONDS):
                self.beat()
        finally:
            connection.close()  # the thread's own connection

    def beat(self) -> None:
        try:
            if connection.vendor == "sqlite":  # one writer at a time: wait a second at most for it
                with connection.cursor() as cursor:
                    cursor.execute("PRAGMA busy_timeout = 1000")
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL lock_timeout = '1s'")
                self.rows.update(heartbeat_at=timezone.now())
        except DatabaseError as error:
            logger.warning("%s: heartbeat not written (%s)", self.name, error)
