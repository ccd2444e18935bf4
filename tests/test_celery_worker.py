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
        env=env,
    )
    eager, default_queue = celery_app.conf.task_always_eager, celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager = False
    try:
        yield queue
    finally:
        celery_app.conf.task_always_eager = eager
        celery_app.conf.task_default_queue = default_queue
        worker.terminate()
        worker.wait(timeout=30)


def test_worker_runs_task_against_committed_data(live_worker):
    # given: data committed by the test process
    CustomerFactory.create_batch(3)
    # when: the worker process runs the task
    result = health_check.apply_async(queue=live_worker)
    # then: it saw those rows through its own connection
    assert result.get(timeout=90) == {"customers": 3, "database": connection.vendor}


def test_end_to_end_a_worker_computes_the_run_and_pages_show_it(live_worker, client, make_user):
    import datetime
    import time
    from decimal import Decimal

    from django.urls import reverse

    from analytics.models import AnalysisRun
    from crm.roles import Role
    from tests.factories import OrderFactory

    celery_app.conf.task_default_queue = live_worker  # the page's task goes to this test's worker
    # given: orders in the database
    customer = CustomerFactory(code="E2E1", name="端到端测试有限公司")
    OrderFactory(
        customer=customer,
        ordered_on=datetime.date.today(),
        revenue=Decimal("1234.56"),
        cost=Decimal("1000.00"),
        service_cost=Decimal("0.00"),
    )
    executive = make_user(Role.EXECUTIVE, username="exec-e2e")
    client.force_login(executive)
    # when: the executive presses recompute and the worker process does the run
    assert client.post(reverse("analytics:run_start")).status_code == 302
    run = AnalysisRun.objects.get()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in (AnalysisRun.Status.SUCCEEDED, AnalysisRun.Status.FAILED):
            break
        time.sleep(0.5)
    # then: it is published and the customer list shows its figures
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    page = client.get(reverse("crm:customer_list"), {"q": "E2E1"}).content.decode()
    assert "1,234.56" in page and "234.56" in page
    assert client.get(customer.get_absolute_url()).context["customer_value"].run == run
