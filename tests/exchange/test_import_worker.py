"""The web import with a real Celery worker process on Redis: the check and the import run in
the worker, after the request's transaction committed, reading the file the web process kept."""

import time
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from analytics.models import AnalysisRun
from config.celery import app as celery_app
from crm.models import Order
from exchange.models import ImportJob
from tests.factories import CustomerFactory
from tests.test_celery_worker import live_worker  # noqa: F401 - the fixture

pytestmark = [pytest.mark.needs_broker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def shared_media(tmp_path, settings, monkeypatch):
    """The worker process reads uploads from the same MEDIA_ROOT (set before it starts)."""
    media = str(tmp_path / "media")
    monkeypatch.setenv("DJANGO_MEDIA_ROOT", media)
    settings.MEDIA_ROOT = media
    return media


def wait_for(job: ImportJob, statuses, seconds=90) -> ImportJob:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in statuses:
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job.pk} still {job.status}")


def test_worker_checks_then_imports_then_a_run_follows(shared_media, live_worker, client, executive_user):  # noqa: F811
    celery_app.conf.task_default_queue = live_worker
    CustomerFactory(code="K1")
    client.force_login(executive_user)
    file = SimpleUploadedFile(
        "orders.csv", b"number,customer,ordered_on,revenue,cost\nSO-1,K1,2026-01-05,100.00,60.00\n"
    )

    client.post(reverse("exchange:imports"), {"kind": "orders", "file": file})
    job = wait_for(ImportJob.objects.get(), {ImportJob.Status.READY, ImportJob.Status.INVALID})
    assert (job.status, job.preview["rows"], job.preview["created"]) == (ImportJob.Status.READY, 1, 1)
    assert Order.objects.count() == 0

    client.post(reverse("exchange:import_confirm", args=[job.pk]))
    job = wait_for(job, {ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED})

    assert (job.status, job.progress, job.report["created"]) == (ImportJob.Status.SUCCEEDED, 100, 1)
    assert list(Order.objects.values_list("number", "revenue")) == [("SO-1", Decimal("100.00"))]
    assert job.analysis_run.trigger == AnalysisRun.Trigger.IMPORT
