"""Two people on the same follow-up at once (PostgreSQL, real row locks): neither undoes the other."""

import datetime
import threading
import time

import pytest
from django.db import connection, transaction

from tasks.models import State, Task
from tasks.services import COMPLETE, REASSIGN, task_create, tasks_bulk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_complete_waits_for_a_reassignment_and_keeps_it(people, book):
    task = task_create(customer=book["mine"], assignee=people["sales"], due_on=datetime.date(2026, 11, 20))
    locked, done = threading.Event(), []

    def reassigner():
        try:
            with transaction.atomic():
                Task.objects.select_for_update().get(pk=task.pk)
                locked.set()
                time.sleep(0.5)  # the complete arrives and waits for this row
                tasks_bulk(
                    tasks=Task.objects.all(),
                    ids=[task.pk],
                    user=people["admin"],
                    action=REASSIGN,
                    assignee=people["service"],
                )
        finally:
            connection.close()

    other = threading.Thread(target=reassigner)
    other.start()
    assert locked.wait(5)
    started = time.monotonic()
    # sales1 completes it while the admin holds it: waits, then reads it as the admin left it
    done.append(tasks_bulk(tasks=Task.objects.all(), ids=[task.pk], user=people["sales"], action=COMPLETE))
    waited = time.monotonic() - started
    other.join()
    task.refresh_from_db()
    assert done == [(1, 0)] and waited >= 0.3
    assert (task.state, task.completed_by, task.assignee) == (State.DONE, people["sales"], people["service"])
    assert [h.history_change_reason for h in task.history.order_by("history_id")] == [None, REASSIGN, COMPLETE]
