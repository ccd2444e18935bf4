"""Follow-ups written through the services: created from each source, one per portfolio alert,
from an interaction's next follow-up date, and completed, snoozed or reassigned many at once, all
or nothing, with history."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.models import Interaction
from crm.services import interaction_create
from tasks.models import Source, State, Task
from tasks.rules import visible_tasks
from tasks.services import COMPLETE, REASSIGN, SNOOZE, BulkRefused, task_create, tasks_bulk, tasks_from_follow_ups
from tests.factories import CustomerFactory, InteractionFactory

from .conftest import TODAY

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime.datetime(2026, 11, 25, 10, 0))


def day(n: int) -> datetime.date:
    return datetime.date(2026, 11, n)


def make(customer, assignee, due, **kwargs):
    return task_create(customer=customer, assignee=assignee, due_on=due, by=assignee, **kwargs)


# Created from an interaction's next step -------------------------------------------------------


def test_an_interaction_with_a_next_follow_up_makes_one_open_task_for_the_owner(people, book):
    interaction = interaction_create(
        customer=book["mine"],
        by=people["other_sales"],
        data={
            "kind": "call",
            "occurred_on": day(20),
            "summary": "  Asked for a quote\n on 200 units ",
            "next_follow_up": day(27),
        },
    )
    [task] = Task.objects.all()
    assert (task.customer, task.interaction, task.source) == (book["mine"], interaction, Source.INTERACTION)
    assert (task.assignee, task.created_by, task.due_on, task.state) == (
        people["sales"],
        people["other_sales"],
        day(27),
        State.OPEN,
    )
    assert task.note == "Asked for a quote on 200 units"
    # saved again with another date: the same task moves; no second one
    interaction.next_follow_up = day(28)
    interaction.save()
    assert list(Task.objects.values_list("due_on", flat=True)) == [day(28)]


def test_without_an_owner_the_interactions_author_gets_it_and_no_date_makes_none(people):
    customer = CustomerFactory(owner=None)
    InteractionFactory(customer=customer, by=people["service"], occurred_on=day(2), next_follow_up=day(9))
    InteractionFactory(customer=customer, by=people["service"], occurred_on=day(3))
    assert list(Task.objects.values_list("assignee__username", "due_on")) == [("service1", day(9))]


def test_a_long_summary_is_shortened_to_the_note(people, book):
    InteractionFactory(customer=book["mine"], summary="长" * 800, next_follow_up=day(9))
    note = Task.objects.get().note
    assert len(note) == 500 and note.endswith("…")


# Portfolio alerts: one open follow-up per customer and alert -----------------------------------


def test_an_alert_makes_one_follow_up_not_done_per_customer(people, book):
    first = make(book["mine"], people["sales"], day(25), source=Source.NEGLECTED)
    with pytest.raises(ValidationError) as refused:
        make(book["mine"], people["sales"], day(26), source=Source.NEGLECTED)
    assert refused.value.messages == ["This alert already has an open follow-up for 华东精密机械, due 25 Nov 2026."]
    # another alert, or the same alert on another customer, is another follow-up
    make(book["mine"], people["sales"], day(26), source=Source.DECLINING)
    make(book["theirs"], people["other_sales"], day(26), source=Source.NEGLECTED)
    # snoozed still counts; once done, the alert may make a new one
    tasks_bulk(tasks=Task.objects.all(), ids=[first.pk], user=people["sales"], action=SNOOZE, until=day(30), now=NOW)
    with pytest.raises(ValidationError):
        make(book["mine"], people["sales"], day(26), source=Source.NEGLECTED)
    tasks_bulk(tasks=Task.objects.all(), ids=[first.pk], user=people["sales"], action=COMPLETE, now=NOW)
    again = make(book["mine"], people["sales"], day(27), source=Source.NEGLECTED)
    assert (
        Task.objects.filter(customer=book["mine"], source=Source.NEGLECTED).count() == 2 and again.state == State.OPEN
    )


def test_the_database_refuses_a_second_alert_follow_up_made_behind_the_services_back(people, book):
    make(book["mine"], people["sales"], day(25), source=Source.DECLINING)
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(customer=book["mine"], assignee=people["sales"], due_on=day(26), source=Source.DECLINING)


# Bulk: complete, snooze, reassign; all or nothing -----------------------------------------------


@pytest.fixture
def three(people, book):
    return [make(book["mine"], people["sales"], day(n)) for n in (20, 24, 27)]


def test_complete_many_at_once_with_who_and_when_and_history(people, three):
    changed = tasks_bulk(
        tasks=visible_tasks(people["sales"]),
        ids=[t.pk for t in three[:2]],
        user=people["sales"],
        action=COMPLETE,
        now=NOW,
    )
    assert changed == (2, 0)
    rows = list(Task.objects.order_by("due_on").values_list("state", "completed_at", "completed_by__username"))
    assert rows == [(State.DONE, NOW, "sales1"), (State.DONE, NOW, "sales1"), (State.OPEN, None, None)]
    record = three[0].history.first()
    assert (record.state, record.history_user, record.history_change_reason) == (State.DONE, people["sales"], COMPLETE)


def test_completing_a_done_follow_up_again_changes_nothing(people, three):
    tasks_bulk(tasks=Task.objects.all(), ids=[three[0].pk], user=people["sales"], action=COMPLETE, now=NOW)
    later = NOW + datetime.timedelta(hours=1)
    assert tasks_bulk(
        tasks=Task.objects.all(), ids=[three[0].pk, three[1].pk], user=people["admin"], action=COMPLETE, now=later
    ) == (1, 1)
    first = Task.objects.get(pk=three[0].pk)
    assert (first.completed_at, first.completed_by) == (NOW, people["sales"])  # untouched
    assert first.history.count() == 2  # created, completed once


def test_one_id_that_is_not_the_users_changes_nothing(people, book, three):
    theirs = make(book["theirs"], people["other_sales"], day(22))
    with pytest.raises(BulkRefused) as refused:
        tasks_bulk(
            tasks=visible_tasks(people["sales"]),
            ids=[three[0].pk, theirs.pk, three[1].pk],
            user=people["sales"],
            action=COMPLETE,
            now=NOW,
        )
    assert refused.value.message == "1 of the chosen follow-ups does not exist or is not yours: nothing was changed."
    assert set(Task.objects.values_list("state", flat=True)) == {State.OPEN}
    with pytest.raises(BulkRefused) as refused:
        tasks_bulk(
            tasks=visible_tasks(people["sales"]),
            ids=[three[0].pk, 999999, 999998],
            user=people["sales"],
            action=COMPLETE,
            now=NOW,
        )
    assert refused.value.message == "2 of the chosen follow-ups do not exist or are not yours: nothing was changed."
    assert set(Task.objects.values_list("state", flat=True)) == {State.OPEN}


def test_snooze_until_a_later_day_and_refused_for_a_done_one(people, three):
    with pytest.raises(BulkRefused) as refused:
        tasks_bulk(
            tasks=Task.objects.all(), ids=[three[0].pk], user=people["sales"], action=SNOOZE, until=TODAY, now=NOW
        )
    assert refused.value.message == "Snooze until a day after today."
    tasks_bulk(tasks=Task.objects.all(), ids=[three[2].pk], user=people["sales"], action=COMPLETE, now=NOW)
    with pytest.raises(BulkRefused) as refused:
        tasks_bulk(
            tasks=Task.objects.all(),
            ids=[t.pk for t in three],
            user=people["sales"],
            action=SNOOZE,
            until=day(30),
            now=NOW,
        )
    assert refused.value.message == (
        "1 of the chosen follow-ups is done already and cannot be snoozed: nothing was changed."
    )
    assert list(Task.objects.order_by("due_on").values_list("state", flat=True)) == [State.OPEN, State.OPEN, State.DONE]
    assert tasks_bulk(
        tasks=Task.objects.all(),
        ids=[t.pk for t in three[:2]],
        user=people["sales"],
        action=SNOOZE,
        until=day(30),
        now=NOW,
    ) == (2, 0)
    snoozed = Task.objects.get(pk=three[0].pk)
    assert (snoozed.state, snoozed.snoozed_until, snoozed.due_on, snoozed.next_due) == (
        State.SNOOZED,
        day(30),
        day(20),
        day(30),
    )


def test_reassign_only_to_a_sales_or_service_rep(people, three):
    for wrong in (people["executive"], None):
        with pytest.raises(BulkRefused) as refused:
            tasks_bulk(
                tasks=Task.objects.all(),
                ids=[three[0].pk],
                user=people["sales"],
                action=REASSIGN,
                assignee=wrong,
                now=NOW,
            )
        assert refused.value.message == "Choose a sales or service rep to give the follow-ups to."
    people["other_service"].is_active = False
    people["other_service"].save()
    with pytest.raises(BulkRefused):
        tasks_bulk(
            tasks=Task.objects.all(),
            ids=[three[0].pk],
            user=people["sales"],
            action=REASSIGN,
            assignee=people["other_service"],
            now=NOW,
        )
    assert tasks_bulk(
        tasks=Task.objects.all(),
        ids=[t.pk for t in three],
        user=people["executive"],
        action=REASSIGN,
        assignee=people["service"],
        now=NOW,
    ) == (3, 0)
    assert set(Task.objects.values_list("assignee__username", flat=True)) == {"service1"}
    # given to the one who has them: nothing changes
    assert tasks_bulk(
        tasks=Task.objects.all(),
        ids=[three[0].pk],
        user=people["admin"],
        action=REASSIGN,
        assignee=people["service"],
        now=NOW,
    ) == (0, 1)


def test_an_unknown_action_or_no_ids_are_refused(people, three):
    with pytest.raises(BulkRefused) as refused:
        tasks_bulk(tasks=Task.objects.all(), ids=[], user=people["sales"], action=COMPLETE, now=NOW)
    assert refused.value.message == "Choose at least one follow-up."
    with pytest.raises(BulkRefused) as refused:
        tasks_bulk(tasks=Task.objects.all(), ids=[three[0].pk], user=people["sales"], action="delete", now=NOW)
    assert refused.value.message == "Choose what to do with the chosen follow-ups."


def test_only_the_fields_an_action_means_are_written(people, three):
    """A complete writes state, completed_at and completed_by, not the assignee another user may just have changed."""
    with CaptureQueriesContext(connection) as ran:
        tasks_bulk(tasks=Task.objects.all(), ids=[three[0].pk], user=people["sales"], action=COMPLETE, now=NOW)
    [update] = [q["sql"] for q in ran if q["sql"].startswith('UPDATE "tasks_task"')]
    assert (
        '"state"' in update
        and '"completed_by_id"' in update
        and '"assignee_id"' not in update
        and '"due_on"' not in update
    )


def test_follow_ups_written_without_the_signal_are_made_once(people, book):
    """A bulk seed or import writes interactions without save(): tasks_from_follow_ups makes theirs."""
    made = Interaction.objects.bulk_create(
        [
            Interaction(
                customer=book["mine"], by=people["other_sales"], occurred_on=day(1), summary="a", next_follow_up=day(8)
            ),
            Interaction(
                customer=book["mine"], by=people["other_sales"], occurred_on=day(3), summary="b"
            ),  # answers the 1st
            Interaction(
                customer=book["theirs"],
                by=None,
                occurred_on=day(2),
                summary="c",
                next_follow_up=TODAY + datetime.timedelta(days=400),
            ),
        ]
    )
    assert not Task.objects.exists()
    assert tasks_from_follow_ups() == 2
    rows = dict(Task.objects.values_list("interaction_id", "state"))
    assert rows == {made[0].pk: State.DONE, made[2].pk: State.OPEN}
    assert Task.objects.get(interaction=made[2]).assignee == people["other_sales"]  # the owner of `theirs`
    assert tasks_from_follow_ups() == 0  # never twice
