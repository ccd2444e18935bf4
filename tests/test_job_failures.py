"""No job stays active once its sending or its worker has failed (core/jobs.py).

- The broker down or hung: "Recompute", an upload and a confirmation answer at once, with a
  message, and the run or import is failed, not left queued (these run on SQLite, no Redis).
- The sweep, on a frozen clock: a running job silent for JOB_STALE_SECONDS is failed, which frees
  the next run; a waiting one is sent again; anything that beat or finished is left alone.
- The heartbeat: written from its own thread while the job's thread is busy.
- A real worker killed mid-run (Redis and PostgreSQL): "Recompute" works again within a minute.
"""

import datetime
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from decimal import Decimal

import kombu.pools
import kombu.transport.redis  # noqa: F401 - imported once per process (redis-py): not a broker wait to time
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from analytics import tasks as analytics_tasks
from analytics.models import AnalysisRun
from analytics.services import runs
from config.celery import app as celery_app
from core import jobs
from crm.roles import Role
from exchange import tasks as exchange_tasks
from exchange.models import ImportJob
from tests.factories import CustomerFactory, OrderFactory

# The task is sent when the transaction really commits, as in production.
committed = pytest.mark.django_db(transaction=True, serialized_rollback=True)
ORDERS_CSV = b"number,customer,ordered_on,revenue,cost\nSO-1,K1,2026-01-05,100.00,60.00\n"


# the broker down ----------------------------------------------------------------------------------


def point_celery_at(url: str, *, eager: bool) -> None:
    """Sends tasks to `url` from now on (every broker connection pool is closed and dropped)."""
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app.conf.broker_url = url
    celery_app.conf.task_always_eager = eager


@pytest.fixture
def broker_at():
    """Points Celery at a broker for the test (tasks sent, not run in-process); restores it after."""
    saved = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    yield lambda url: point_celery_at(url, eager=False)
    point_celery_at(saved[0], eager=saved[1])


@pytest.fixture
def broker_down(broker_at):
    """Nothing listens there: every connection is refused."""
    broker_at("redis://127.0.0.1:1/0")


@pytest.fixture
def broker_hung(broker_at):
    """A port that takes connections and never answers: a Redis that hangs (the kernel completes
    the connections in the listen backlog; nobody reads them)."""
    server = socket.create_server(("127.0.0.1", 0), backlog=16)
    broker_at(f"redis://127.0.0.1:{server.getsockname()[1]}/0")
    yield
    server.close()


@pytest.fixture
def executive(client, make_user):
    client.force_login(make_user(Role.EXECUTIVE, username="exec-jobs"))
    return client


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def shown_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def nothing_active() -> bool:
    return (
        not AnalysisRun.objects.filter(active=True).exists()
        and not ImportJob.objects.filter(status__in=ImportJob.IN_PROGRESS).exists()
    )


@committed
def test_recompute_answers_at_once_and_leaves_no_run_active_when_the_broker_is_down(executive, broker_down):
    # when: the executive presses "Recompute" while the broker refuses connections
    url = reverse("analytics:run_start")
    response, seconds = timed(lambda: executive.post(url))
    # then: an answer within 2 s, saying so, and the run is failed, not queued
    assert seconds < 2, seconds
    assert response.status_code == 302
    assert shown_messages(executive.get(response.url)) == [jobs.NOT_SENT]
    run = AnalysisRun.objects.get()
    assert (run.status, run.active, run.error) == (AnalysisRun.Status.FAILED, False, jobs.NOT_SENT)
    assert runs.active_run() is None and nothing_active()
    # and pressing again tries again (it does not join a dead run)
    executive.post(reverse("analytics:run_start"))
    assert AnalysisRun.objects.count() == 2 and nothing_active()


@committed
def test_the_message_is_in_the_readers_language(executive, broker_down):
    response = executive.post(reverse("analytics:run_start"), follow=True, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert shown_messages(response) == [
        "任务队列没有响应，因此未能开始。请过几分钟再试；如果一直这样，请管理员检查 Redis 和 Celery 工作进程。"
    ]


@committed
def test_recompute_answers_within_the_broker_timeout_when_the_broker_hangs(executive, broker_hung, settings):
    # Without socket timeouts a hung Redis holds the request forever.
    url = reverse("analytics:run_start")
    response, seconds = timed(lambda: executive.post(url))
    assert seconds < settings.BROKER_TIMEOUT_SECONDS + 1, seconds
    assert shown_messages(executive.get(response.url)) == [jobs.NOT_SENT]
    assert AnalysisRun.objects.get().status == AnalysisRun.Status.FAILED and nothing_active()


@committed
def test_an_upload_answers_at_once_and_leaves_no_import_under_way_when_the_broker_is_down(
    executive, broker_down, media
):
    file = SimpleUploadedFile("orders.csv", ORDERS_CSV, content_type="text/csv")
    url = reverse("exchange:imports")
    response, seconds = timed(lambda: executive.post(url, {"kind": "orders", "file": file}))
    assert seconds < 2, seconds
    job = ImportJob.objects.get()
    assert response.url == job.get_absolute_url()
    assert shown_messages(executive.get(response.url)) == [jobs.NOT_SENT]
    assert (job.status, job.error) == (ImportJob.Status.FAILED, jobs.NOT_SENT) and job.finished_at is not None
    assert nothing_active()


@committed
def test_confirming_an_import_answers_at_once_and_fails_it_when_the_broker_is_down(executive, broker_down, media):
    job = ImportJob.objects.create(
        kind="orders",
        original_name="x.csv",
        file="imports/x.csv",
        status=ImportJob.Status.READY,
        preview={"ok": True, "rows": 1, "created": 1, "updated": 0},
    )
    url = reverse("exchange:import_confirm", args=[job.pk])
    response, seconds = timed(lambda: executive.post(url))
    assert seconds < 2, seconds
    assert shown_messages(executive.get(response.url)) == [jobs.NOT_SENT]
    job.refresh_from_db()
    assert (job.status, job.error) == (ImportJob.Status.FAILED, jobs.NOT_SENT) and nothing_active()


@committed
def test_the_nightly_run_after_a_refused_one_starts_afresh(broker_at):
    broker_at("redis://127.0.0.1:1/0")
    refused = AnalysisRun.objects.get(pk=analytics_tasks.nightly_run())
    assert (refused.status, refused.active) == (AnalysisRun.Status.FAILED, False)
    # the broker is back (here: tasks in-process): the next night starts a run of its own and publishes it
    point_celery_at("memory://", eager=True)
    run = AnalysisRun.objects.get(pk=analytics_tasks.nightly_run())
    assert run != refused and run.status == AnalysisRun.Status.SUCCEEDED


# the sweep, on a frozen clock ------------------------------------------------------------------------

T0 = datetime.datetime(2026, 6, 30, 2, 30, tzinfo=datetime.UTC)


@pytest.fixture
def clock(monkeypatch):
    """timezone.now() stands still at T0 until told to move (created_at, heartbeats, the sweep)."""

    class Clock:
        now = T0

        def advance(self, seconds: float) -> None:
            self.now += datetime.timedelta(seconds=seconds)

    frozen = Clock()
    monkeypatch.setattr(timezone, "now", lambda: frozen.now)
    return frozen


@pytest.fixture
def sent(monkeypatch):
    """The job tasks sent (by id), instead of sending or running them."""
    sent = []
    for task in (analytics_tasks.compute_run, exchange_tasks.check_import, exchange_tasks.run_import):
        monkeypatch.setattr(task, "delay", lambda pk, name=task.name: sent.append((name, pk)))
    return sent


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """jobs.sweep(), with what it sends after each job's commit sent."""

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            return jobs.sweep()

    return run


def a_run(status=AnalysisRun.Status.RUNNING, trigger=AnalysisRun.Trigger.MANUAL) -> AnalysisRun:
    run, created = runs.run_request(trigger=trigger, enqueue=False)
    assert created
    AnalysisRun.objects.filter(pk=run.pk).update(status=status, heartbeat_at=timezone.now())
    run.refresh_from_db()
    return run


def an_import(status: str) -> ImportJob:
    return ImportJob.objects.create(kind="orders", original_name="x.csv", file="imports/x.csv", status=status)


@pytest.mark.django_db
def test_the_sweep_fails_a_run_silent_for_the_stale_window_and_frees_the_next(clock, sweep, settings):
    assert settings.JOB_STALE_SECONDS == 45
    run = a_run(trigger=AnalysisRun.Trigger.NIGHTLY)
    clock.advance(45)
    assert sweep() == {"failed": 0, "sent_again": 0}  # 45 s is not yet over 45 s
    assert runs.run_request(trigger=AnalysisRun.Trigger.NIGHTLY, enqueue=False) == (run, False)

    clock.advance(1)
    assert sweep() == {"failed": 1, "sent_again": 0}
    run.refresh_from_db()
    assert (run.status, run.active, run.error, run.finished_at) == (
        AnalysisRun.Status.FAILED,
        False,
        jobs.WORKER_STOPPED,
        clock.now,
    )
    nightly, created = runs.run_request(trigger=AnalysisRun.Trigger.NIGHTLY, enqueue=False)
    assert created and nightly != run


@pytest.mark.django_db
def test_the_sweep_leaves_a_run_that_beat_within_the_window(clock, sweep):
    run = a_run()
    clock.advance(40)
    AnalysisRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now())  # the worker's thread beats
    clock.advance(40)
    assert sweep() == {"failed": 0, "sent_again": 0}
    assert AnalysisRun.objects.get(pk=run.pk).status == AnalysisRun.Status.RUNNING


@pytest.mark.django_db
def test_the_stale_window_comes_from_the_setting(clock, sweep, settings):
    settings.JOB_STALE_SECONDS = 5
    run = a_run()
    clock.advance(6)
    assert sweep()["failed"] == 1
    assert AnalysisRun.objects.get(pk=run.pk).status == AnalysisRun.Status.FAILED


@pytest.mark.django_db
def test_the_sweep_sends_a_waiting_run_again_once_per_window(clock, sweep, sent):
    run = a_run(status=AnalysisRun.Status.QUEUED)  # its message was lost (a broker restart, say)
    AnalysisRun.objects.filter(pk=run.pk).update(heartbeat_at=None)
    clock.advance(46)
    assert sweep() == {"failed": 0, "sent_again": 1}
    assert sent == [("analytics.compute_run", run.pk)]
    clock.advance(30)
    assert sweep() == {"failed": 0, "sent_again": 0}  # sent 30 s ago: not yet again
    clock.advance(16)
    assert sweep() == {"failed": 0, "sent_again": 1}
    run.refresh_from_db()
    assert (run.status, run.active, run.heartbeat_at) == (AnalysisRun.Status.QUEUED, True, clock.now)


@pytest.mark.django_db
def test_the_sweep_fails_silent_imports_and_sends_waiting_ones_again(clock, sweep, sent):
    checking, running = an_import(ImportJob.Status.CHECKING), an_import(ImportJob.Status.RUNNING)
    uploaded, queued = an_import(ImportJob.Status.UPLOADED), an_import(ImportJob.Status.QUEUED)
    ready = an_import(ImportJob.Status.READY)  # waits for a person, not for a worker
    clock.advance(46)
    assert sweep() == {"failed": 2, "sent_again": 2}
    statuses = dict(ImportJob.objects.values_list("pk", "status"))
    assert [statuses[job.pk] for job in (checking, running, uploaded, queued, ready)] == [
        "failed",
        "failed",
        "uploaded",
        "queued",
        "ready",
    ]
    assert set(ImportJob.objects.filter(status="failed").values_list("error", flat=True)) == {jobs.WORKER_STOPPED}
    assert sorted(sent) == [("exchange.check_import", uploaded.pk), ("exchange.run_import", queued.pk)]


@pytest.mark.django_db
def test_the_sweep_leaves_finished_jobs_alone(clock, sweep):
    published = a_run()
    runs.run_publish(run=published, company={}, timings={})
    failed = an_import(ImportJob.Status.FAILED)
    done = an_import(ImportJob.Status.SUCCEEDED)
    clock.advance(3600)
    assert sweep() == {"failed": 0, "sent_again": 0}
    assert AnalysisRun.objects.get(pk=published.pk).status == AnalysisRun.Status.SUCCEEDED
    assert [failed.status, done.status] == list(
        ImportJob.objects.filter(pk__in=[failed.pk, done.pk]).order_by("pk").values_list("status", flat=True)
    )


@pytest.mark.django_db
def test_the_sweep_fails_a_waiting_job_the_broker_does_not_take(clock, sweep, broker_down):
    job = an_import(ImportJob.Status.QUEUED)
    clock.advance(46)
    assert sweep() == {"failed": 0, "sent_again": 1}
    job.refresh_from_db()
    assert (job.status, job.error) == (ImportJob.Status.FAILED, jobs.NOT_SENT)


def test_beat_sweeps_often_enough_that_a_dead_worker_frees_recompute_within_a_minute(settings, monkeypatch):
    from core.tasks import sweep_jobs

    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "core.sweep_jobs")
    assert 15 <= entry["schedule"] <= 30 and settings.JOB_STALE_SECONDS + entry["schedule"] <= 60
    assert entry["options"]["expires"] <= entry["schedule"]  # sweeps queued behind a busy worker do not pile up
    monkeypatch.setattr(jobs, "sweep", lambda: {"failed": 1, "sent_again": 0})
    assert sweep_jobs() == {"failed": 1, "sent_again": 0}


# the heartbeat ------------------------------------------------------------------------------------


@committed
def test_the_heartbeat_is_written_while_the_jobs_own_thread_is_busy(settings):
    settings.JOB_HEARTBEAT_SECONDS = 0.05
    run = a_run()
    before = run.heartbeat_at
    with runs.JOB_KIND.heartbeat(run):
        time.sleep(0.5)  # the job's thread does not write anything meanwhile
    beaten = AnalysisRun.objects.get(pk=run.pk).heartbeat_at
    assert beaten > before
    time.sleep(0.2)
    assert AnalysisRun.objects.get(pk=run.pk).heartbeat_at == beaten  # stopped with the job


@committed
def test_the_heartbeat_stops_writing_once_the_job_left_its_status(settings):
    settings.JOB_HEARTBEAT_SECONDS = 0.05
    run = a_run()
    with runs.JOB_KIND.heartbeat(run):
        runs.run_fail(run=run, error=jobs.WORKER_STOPPED)  # the sweep gave it up
        given_up = AnalysisRun.objects.get(pk=run.pk).heartbeat_at
        time.sleep(0.3)
    assert AnalysisRun.objects.get(pk=run.pk).heartbeat_at == given_up


# a real worker, killed ----------------------------------------------------------------------------


def start_worker(queue: str, **env) -> subprocess.Popen:
    """`celery worker` on a queue of its own, pointed at the test database, with `env` added."""
    from tests.test_celery_worker import database_url

    environ = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "config.settings.test", **env}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--queues",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ],
        env=environ,
    )


class TableLocked:
    """Holds an ACCESS EXCLUSIVE lock on a table from a connection of its own until the block ends:
    whoever reads the table meanwhile waits (a run mid-way, here)."""

    def __init__(self, table: str):
        self.table, self.locked, self.release = table, threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self.hold)

    def hold(self):
        try:
            with connection.cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute(f"LOCK TABLE {self.table} IN ACCESS EXCLUSIVE MODE")
                self.locked.set()
                self.release.wait(120)
                cursor.execute("ROLLBACK")
        finally:
            connection.close()

    def __enter__(self):
        self.thread.start()
        assert self.locked.wait(10)
        return self

    def __exit__(self, *exc_info):
        self.release.set()
        self.thread.join()


def wait_until(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds} s: {what}")


@pytest.mark.needs_broker
@pytest.mark.postgres
@committed
def test_a_worker_killed_mid_run_frees_recompute_within_a_minute(executive, settings):
    settings.JOB_STALE_SECONDS = 5  # this process's view, for the requests below
    for i in range(3):
        OrderFactory(
            customer=CustomerFactory(code=f"K{i}"),
            ordered_on=timezone.localdate(),
            revenue=Decimal(100 * (i + 1)),
            cost=Decimal("50.00"),
        )
    first_queue, second_queue = f"test-{uuid.uuid4().hex[:8]}", f"test-{uuid.uuid4().hex[:8]}"
    eager, default_queue = celery_app.conf.task_always_eager, celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = False, first_queue
    workers = []
    try:
        # given: a worker on a run, held mid-way (it waits to read the customers), beating all the while
        with TableLocked("crm_customer"):
            workers.append(start_worker(first_queue, JOB_HEARTBEAT_SECONDS="0.5"))
            executive.post(reverse("analytics:run_start"))
            run = AnalysisRun.objects.get()
            wait_until(
                lambda: AnalysisRun.objects.filter(pk=run.pk, status="running").exists(), 60, "the worker took the run"
            )
            started = AnalysisRun.objects.get(pk=run.pk).started_at
            wait_until(
                lambda: AnalysisRun.objects.get(pk=run.pk).heartbeat_at > started + datetime.timedelta(seconds=1),
                20,
                "heartbeats while the run waits",
            )
            # when: the worker is killed
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(timeout=30)
            killed_at = time.monotonic()
        response = executive.post(reverse("analytics:run_start"), follow=True)
        assert shown_messages(response)[-1] == "A run is already under way; it will publish when done."

        # then: beat's sweep, run by another worker, gives the run up once it is silent for 5 s...
        workers.append(start_worker(second_queue, JOB_STALE_SECONDS="5"))
        from core.tasks import sweep_jobs

        def swept():
            sweep_jobs.apply_async(queue=second_queue)  # what beat sends every JOB_SWEEP_SECONDS
            return AnalysisRun.objects.filter(pk=run.pk, status="failed").exists()

        wait_until(swept, 60 - (time.monotonic() - killed_at), "the sweep gave the dead run up")
        run.refresh_from_db()
        assert (run.active, run.error) == (False, jobs.WORKER_STOPPED)
        # ...and "Recompute" starts a new run, within a minute of the kill, which a worker publishes
        celery_app.conf.task_default_queue = second_queue
        response = executive.post(reverse("analytics:run_start"), follow=True)
        assert time.monotonic() - killed_at < 60
        assert shown_messages(response)[-1] == "Recompute started. The figures switch over when it is done."
        fresh = AnalysisRun.objects.exclude(pk=run.pk).get()
        wait_until(
            lambda: AnalysisRun.objects.filter(pk=fresh.pk, status__in=["succeeded", "failed"]).exists(),
            90,
            "the new run ended",
        )
        fresh.refresh_from_db()
        assert fresh.status == AnalysisRun.Status.SUCCEEDED, fresh.error
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = eager, default_queue
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=30)
