"""Issue 18, acceptance 2, with a real Celery worker on Redis: the worker's process is killed while
it sends (the SMTP server has the message, the worker never hears its 250, the row still says
"sending"); the broker gives the task to a new process (acks late, rejected on worker lost), which
sends nothing: the message went once."""

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from config.celery import app as celery_app
from notifications import services
from notifications.models import Outbox
from tests.test_celery_worker import database_url

pytestmark = [pytest.mark.needs_broker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


@pytest.fixture
def worker(smtp, tmp_path):
    """A prefork worker (one child) on a queue of its own, sending through the test's SMTP server;
    its log goes to a file the test reads."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork", "--concurrency", "1",
         "--queues", queue, "--without-gossip", "--without-mingle", "--loglevel", "INFO", "--logfile", str(log)],
        env=env,
    )  # fmt: skip
    eager, default_queue = celery_app.conf.task_always_eager, celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        yield process, log
    finally:
        celery_app.conf.task_always_eager = eager
        celery_app.conf.task_default_queue = default_queue
        process.terminate()
        process.wait(timeout=30)


def wait_for(condition, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return False


def test_the_worker_killed_between_sent_and_marked_sent_sends_once(worker, smtp):
    process, log = worker
    handler = smtp.handler
    original = handler.handle_DATA

    async def keep_then_kill(server, session, envelope):
        await original(server, session, envelope)  # the server has the message...
        if len(handler.received) == 1:
            for child in children(process.pid):  # ...and the process sending it dies before its 250
                os.kill(child, signal.SIGKILL)
        return "250 OK"

    handler.handle_DATA = keep_then_kill
    row = services.email_queue(kind="acknowledgment", to="customer@example.com", language="en", args={"number": "CP1"})
    # Autocommit: the task was sent to the broker at once; the worker claims the row and sends.
    assert wait_for(lambda: len(smtp.received) == 1), log.read_text()
    # The task comes back to a new process, which finds the row taken and sends nothing.
    task_received = re.compile(r"Task notifications\.send_email\[(?P<id>[\w-]+)\] received")
    assert wait_for(lambda: len(task_received.findall(log.read_text())) >= 2), log.read_text()
    assert "signal 9 (SIGKILL)" in log.read_text()  # it was killed, not failed
    assert wait_for(lambda: "succeeded" in log.read_text()), log.read_text()
    time.sleep(2)
    row.refresh_from_db()
    assert row.status == Outbox.Status.SENDING and row.attempts == 1
    assert [mail.message_id for mail in smtp.received] == [row.message_id]
