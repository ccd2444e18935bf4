"""A run's progress shows as it goes, before any of its rows; written from elsewhere (the one progress
writer of jobs, core.jobs.ProgressWriter), it shows while the writer's transaction is open."""

import datetime
import logging
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction

from analytics.models import AnalysisRun, CustomerResult
from analytics.services import core
from analytics.services.runs import JOB_KIND, run_compute, run_request
from tests.factories import CustomerFactory, OrderFactory

# Committed data (transaction=True): the other connection must see the run as a worker's would.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
AS_OF = datetime.date(2026, 6, 30)


def elsewhere(read):
    """`read()` on another thread, so on another database connection; closed afterwards."""
    result = []

    def target():
        try:
            result.append(read())
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    return result[0]


def test_progress_shows_as_the_run_goes_before_any_of_its_rows(monkeypatch):
    for i in range(3):
        OrderFactory(
            customer=CustomerFactory(code=f"K{i}"),
            ordered_on=datetime.date(2026, 3, 1),
            revenue=Decimal(1000 * (i + 1)),
            cost=Decimal(600),
        )
    run, _ = run_request(trigger=AnalysisRun.Trigger.MANUAL, as_of=AS_OF, enqueue=False)
    seen = []
    score = core.score

    def watched(*args, **kwargs):
        # Scoring: the inputs are read, nothing is written yet. The progress is written asynchronously.
        deadline = time.monotonic() + 10
        while True:
            progress = elsewhere(lambda: AnalysisRun.objects.values_list("progress", "progress_note").get(pk=run.pk))
            if progress[0] == 30 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        seen.append((progress, elsewhere(lambda: CustomerResult.objects.filter(run_id=run.pk).count())))
        return score(*args, **kwargs)

    monkeypatch.setattr(core, "score", watched)
    run_compute(run_id=run.pk)
    run.refresh_from_db()
    assert seen == [((30, "scoring"), 0)]  # shown before any of the run's rows can be seen
    assert run.status == AnalysisRun.Status.SUCCEEDED and run.results.count() == 3


def test_a_progress_write_that_would_wait_is_skipped_after_its_lock_timeout(caplog):
    run, _ = run_request(trigger=AnalysisRun.Trigger.MANUAL, as_of=AS_OF, enqueue=False)
    progress = JOB_KIND.progress_writer(run)
    with caplog.at_level(logging.WARNING, logger="core.jobs"), transaction.atomic():
        AnalysisRun.objects.select_for_update().get(pk=run.pk)  # a lock the write would wait for
        started = time.monotonic()
        progress(40, "scoring")
        progress.close()
        waited = time.monotonic() - started
    assert 1 <= waited < 5  # the write gave up after its lock timeout of 1 s
    assert f"run {run.pk}: progress 40% not written" in caplog.text
    run.refresh_from_db()
    assert (run.progress, run.progress_note) == (0, "")


def test_progress_written_elsewhere_leaves_the_callers_run_object_alone():
    run, _ = run_request(trigger=AnalysisRun.Trigger.MANUAL, as_of=AS_OF, enqueue=False)
    progress = JOB_KIND.progress_writer(run)
    progress(55, "writing results")
    progress.close()
    # The row has it; the object the engine's thread holds was not touched from the helper thread.
    assert (run.progress, run.progress_note, run.heartbeat_at) == (0, "", None)
    assert AnalysisRun.objects.values_list("progress", "progress_note").get(pk=run.pk) == (55, "writing results")
    assert AnalysisRun.objects.get(pk=run.pk).heartbeat_at is not None
