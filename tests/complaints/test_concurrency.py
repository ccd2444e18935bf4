"""Two reps pressing the same button at the same moment: exactly one wins (PostgreSQL row locks)."""

import threading
import time

import pytest
from django.db import connection

from complaints import workflow
from complaints.models import Complaint, ComplaintTransition, State
from complaints.workflow import TransitionError, complaint_transition
from tests.factories import make_complaint

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.mark.parametrize("targets", [(State.ACKNOWLEDGED, State.ACKNOWLEDGED), (State.ACKNOWLEDGED, State.REJECTED)])
def test_two_reps_transitioning_at_once_cannot_both_succeed(monkeypatch, service_user, targets):
    complaint = make_complaint(assignee=service_user)
    views_of_the_rep = [Complaint.objects.get(pk=complaint.pk) for _ in targets]  # both saw "new"
    slow_guards = workflow._check_guards

    def guards_that_hold_the_lock(*args, **kwargs):
        time.sleep(0.3)  # the first rep still holds the row while the second arrives
        return slow_guards(*args, **kwargs)

    monkeypatch.setattr(workflow, "_check_guards", guards_that_hold_the_lock)
    start = threading.Barrier(len(targets))
    outcomes = []

    def press(seen, to):
        try:
            start.wait()
            complaint_transition(complaint=seen, to=to, by=service_user, note="x")
            outcomes.append("moved")
        except TransitionError as refused:
            outcomes.append(refused.messages[0])
        finally:
            connection.close()

    threads = [
        threading.Thread(target=press, args=(seen, to)) for seen, to in zip(views_of_the_rep, targets, strict=False)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes, key=lambda o: o != "moved")[0] == "moved"
    assert outcomes.count("moved") == 1
    loser = next(o for o in outcomes if o != "moved")
    assert loser.startswith("Someone else has just moved this complaint to")
    assert ComplaintTransition.objects.filter(complaint=complaint).count() == 1
    assert Complaint.objects.get(pk=complaint.pk).state in targets
