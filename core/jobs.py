"""Background jobs (analysis runs, imports, and the what-if and mail jobs to come): one mechanism.

A job is a row of a model inheriting core.models.Job (status, progress, progress note, error,
who asked, when created, started, finished, last heartbeat). Each app describes its jobs with a
`JobKind` (its name in URLs, which statuses wait for a worker, which mean a worker is on it, who
may see one, how to fail one) and registers it from its AppConfig.ready(). Then, for every kind:

- Sending is part of the job's life: `JobKind.enqueue` sends the task after the transaction
  commits, and when the broker does not take it (down, or hung: settings bound the wait to
  BROKER_TIMEOUT_SECONDS) the job is failed at once with `NOT_SENT`. The caller sees it in
  `job.status` after the commit; nothing stays active waiting for a message that was never sent.
- `JobKind.claim` is how a worker takes a job on, and the one takeover: a job waiting for a
  worker, or one whose worker died (silent for JOB_STALE_SECONDS: `is_stale`), is marked as this
  worker's under its row lock; a job finished, or on which a live worker beats, is left alone.
- While a worker is on a job, `JobKind.heartbeat` writes its heartbeat every
  JOB_HEARTBEAT_SECONDS from a thread of its own, whatever the job's own thread is doing.
- Progress: `write_progress` writes a job's progress, note and heartbeat by primary key only;
  `JobKind.progress_writer` does the same from a thread of its own with a database connection of
  its own, so the progress shows while the job's own transaction is open.
- `JobKind.give_up_if_stale` fails a running job whose worker is silent with `WORKER_STOPPED`;
  `sweep` (beat, every JOB_SWEEP_SECONDS) does it for every kind, and sends again the jobs still
  waiting for a worker after as long: tasks are idempotent, so a copy finds the job taken or done.
- `JobKind.status` is what the one status endpoint (core.views.JobStatusView,
  /jobs/<kind>/<pk>/status.json) answers and the one progress bar (templates/core/_job_progress.html,
  static/js/job_progress.js) reads.
"""

import datetime
import logging
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, connection, models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext, gettext_noop

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


# What a person reads about a job that failed for one of these reasons (other errors are the
# job's own: its page shows them).
EXPLAINED = (NOT_SENT, WORKER_STOPPED)


def explained(error: str) -> str:
    """`error` in the reader's language if it is one a person is told (EXPLAINED), else ""."""
    return gettext(error) if error in EXPLAINED else ""


def always(user, job) -> bool:
    return True


@dataclass(frozen=True, kw_only=True)
class JobKind:
    """One kind of job: its model, its statuses, who may see one, and how one is marked failed.

    `fail(job, error)` marks the job failed with `error` unless it has already finished (and
    returns whether it did), setting the fields on `job` too, so that its caller sees them.
    `permission` is what a user needs to see any job of the kind (its status, its progress);
    `may_see(user, job)` may narrow it to some jobs (a person's own, say)."""

    name: str  # in URLs (/jobs/<name>/<pk>/status.json) and logs ("run 12")
    model: type[models.Model]
    running: tuple[str, ...]  # a worker is on the job and beats
    waiting: dict[str, str] = field(default_factory=dict)  # status -> the task that takes it on, by dotted path
    fail: Callable[[models.Model, str], bool]
    permission: str
    may_see: Callable[[object, models.Model], bool] = always

    def under_way(self, job: models.Model) -> bool:
        """Waiting for a worker or with one on it: not finished, nor waiting for a person."""
        return job.status in self.running or job.status in self.waiting

    def label(self, job: models.Model) -> str:
        return f"{self.name} {job.pk}"

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
            logger.exception("%s %s: the task queue did not take %s", self.name, job.pk, task.name)
            self.fail(job, NOT_SENT)

    def claim(self, pk: int, *, waiting: str, to: str, note: str = gettext_noop("started")) -> models.Model | None:
        """Marks the job as this worker's, moving it from `waiting` to `to`, and returns it; or takes
        it over when it is already in `to` but its worker died (silent for JOB_STALE_SECONDS), its
        progress starting again. None when the job is gone, finished, elsewhere, or a live worker
        has it. Under the row's lock, so two workers never both get it."""
        now = timezone.now()
        with transaction.atomic():
            job = self.model._default_manager.select_for_update().filter(pk=pk).first()
            if job is None:
                return None
            taken_over = job.status == to and is_stale(job, now)
            if job.status != waiting and not taken_over:
                return None
            if taken_over:
                logger.warning("%s: silent since %s, taken over", self.label(job), job.heartbeat_at or job.created_at)
            if job.started_at is None or taken_over:  # a later step of the same job keeps its start
                job.started_at = now
            job.status, job.progress, job.progress_note, job.heartbeat_at = to, 0, note, now
            job.save(update_fields=["status", "started_at", "progress", "progress_note", "heartbeat_at"])
        return job

    def give_up_if_stale(self, job: models.Model, now: datetime.datetime | None = None) -> bool:
        """Fails a running job whose worker is silent for JOB_STALE_SECONDS with WORKER_STOPPED: its
        worker died, and what it held (one run at a time) is free again. Returns whether it did."""
        if job.status not in self.running or not is_stale(job, now):
            return False
        logger.warning("%s: silent since %s, its worker stopped", self.label(job), job.heartbeat_at)
        return bool(self.fail(job, WORKER_STOPPED))

    def heartbeat(self, job: models.Model) -> "Heartbeat":
        """A context manager: the job's heartbeat is written every JOB_HEARTBEAT_SECONDS while in it."""
        rows = self.model._default_manager.filter(pk=job.pk, status=job.status)
        return Heartbeat(rows, self.label(job))

    def progress_writer(self, job: models.Model) -> "ProgressWriter":
        """A callable `(percent, note)` that writes the job's progress from a thread of its own; close() it."""
        return ProgressWriter(self.model, job.pk, self.label(job))

    def status_url(self, job: models.Model) -> str:
        return reverse("jobs:status", kwargs={"kind": self.name, "pk": job.pk})

    def visible_to(self, user, job: models.Model | None = None) -> bool:
        """Whether `user` may see this kind's jobs at all (job None), or this one."""
        return user.has_perm(self.permission) and (job is None or bool(self.may_see(user, job)))

    def status(self, job: models.Model) -> dict:
        """What the progress bar polls: status, progress and note in the reader's language, whether
        the job is finished (the page then shows its result), and the message of a job that failed
        because its task was never sent or its worker stopped."""
        return {
            "id": job.pk,
            "kind": self.name,
            "status": job.status,
            "status_label": str(job.get_status_display()),
            "progress": job.progress,
            "note": job.progress_label,
            "finished": not self.under_way(job),
            "message": explained(job.error),
        }


_kinds: list[JobKind] = []


def register(kind: JobKind) -> None:
    """Puts the kind under the sweep and the status endpoint (from the app's AppConfig.ready())."""
    if all(known.model is not kind.model for known in _kinds):
        if any(known.name == kind.name for known in _kinds):
            raise ValueError(f"two kinds of job named {kind.name!r}")
        _kinds.append(kind)


def kind_named(name: str) -> JobKind | None:
    return next((kind for kind in _kinds if kind.name == name), None)


def kind_of(job: models.Model) -> JobKind:
    return next(kind for kind in _kinds if isinstance(job, kind.model))


def is_stale(job: models.Model, now: datetime.datetime | None = None) -> bool:
    """Silent for longer than JOB_STALE_SECONDS: no heartbeat since then (or, never beaten, created before)."""
    now = now or timezone.now()
    return now - (job.heartbeat_at or job.created_at) > datetime.timedelta(seconds=settings.JOB_STALE_SECONDS)


def sweep(now: datetime.datetime | None = None) -> dict[str, int]:
    """Fails the running jobs whose worker is silent for JOB_STALE_SECONDS (give_up_if_stale) and sends
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
                    done["failed"] += kind.give_up_if_stale(job, now)
                elif job.status in kind.waiting:  # the message may be lost (a broker restart): send another
                    rows.filter(pk=pk).update(heartbeat_at=now)
                    kind.enqueue(job)
                    done["sent_again"] += 1
    return done


def write_progress(model: type[models.Model], pk: int, progress: int, note: str) -> datetime.datetime:
    """Writes a job's progress, its note (English, marked with gettext_noop) and its heartbeat to
    its row, by primary key only; returns the heartbeat written."""
    now = timezone.now()
    model._default_manager.filter(pk=pk).update(progress=progress, progress_note=note, heartbeat_at=now)
    return now


@contextmanager
def _waiting_a_second_at_most():
    """A transaction whose writes wait a second at most for a lock (then raise DatabaseError)."""
    if connection.vendor == "sqlite":  # one writer at a time: wait a second at most for it
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout = 1000")
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '1s'")
        yield


class ProgressWriter:
    """`writer(percent, note)` writes the job's progress (write_progress) from a thread of its own,
    on that thread's own database connection, so that it shows while the job's own transaction is
    still open (written inside it, it would show only at the end). Only the row is written, by
    primary key: the caller's job object belongs to the caller's thread.

    Calls never wait for the database: the thread writes the latest progress given, skipping the
    ones overtaken meanwhile. Best effort: a write that fails or waits over a second is logged and
    skipped. close() (or leaving a `with` block) writes what is pending and closes the connection."""

    def __init__(self, model: type[models.Model], pk: int, name: str):
        self.model, self.pk, self.name = model, pk, name
        self._pending: tuple[int, str] | None = None
        self._closed = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=f"{name}-progress", daemon=True)
        self._thread.start()

    def __call__(self, progress: int, note: str) -> None:
        with self._changed:
            self._pending = (progress, note)
            self._changed.notify()

    def __enter__(self) -> "ProgressWriter":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify()
        self._thread.join()

    def _run(self) -> None:
        try:
            while True:
                with self._changed:
                    self._changed.wait_for(lambda: self._pending is not None or self._closed)
                    if self._pending is None:
                        return
                    (progress, note), self._pending = self._pending, None
                self._write(progress, note)
        finally:
            connection.close()  # the thread's own connection

    def _write(self, progress: int, note: str) -> None:
        try:
            with _waiting_a_second_at_most():
                write_progress(self.model, self.pk, progress, note)
        except DatabaseError:
            logger.warning("%s: progress %s%% not written", self.name, progress, exc_info=True)


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
            with _waiting_a_second_at_most():
                self.rows.update(heartbeat_at=timezone.now())
        except DatabaseError as error:
            logger.warning("%s: heartbeat not written (%s)", self.name, error)
