"""A real Celery worker process on Redis, reading the same PostgreSQL database as the tests."""
import os
import subprocess
import sys
import uuid

import pytest
from django.db import connection

from config.celery import app as celery_app
from crm.tasks import health_check
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.needs_broker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def live_worker():
    """Starts `celery worker` on a queue of its own, pointed at the test database; stops it after."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--queues", queue,
         "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
        env=env,
    )  # fmt: skip
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield queue
    finally:
        celery_app.conf.task_always_eager = eager
        worker.terminate()
        worker.wait(timeout=30)


def test_worker_runs_task_against_committed_data(live_worker):
    # given: data committed by the test process
    CustomerFactory.create_batch(3)
    # when: the worker process runs the task
    result = health_check.apply_async(queue=live_worker)
    # then: it saw those rows through its own connection
    assert result.get(timeout=90) == {"customers": 3, "database": connection.vendor}
