"""The data migration: every interaction's next follow-up date becomes a follow-up, so nothing dated
before follow-ups existed is lost; and the roles get their permissions."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from crm.roles import Role
from tests.factories import CustomerFactory, UserFactory

BEFORE = [("tasks", "0001_initial")]
AFTER = [("tasks", "0002_roles_and_follow_ups")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_every_next_follow_up_becomes_a_follow_up():
    owner, author = UserFactory(username="owner-rep"), UserFactory(username="author-rep")
    owned = CustomerFactory(code="M1", owner=owner)
    ownerless = CustomerFactory(code="M2", owner=None)
    third = CustomerFactory(code="M3", owner=owner)
    old = migrate(BEFORE)
    Interaction = old.get_model("crm", "Interaction")

    def log(customer, on, follow_up, summary="Called"):
        return Interaction.objects.create(
            customer_id=customer.pk,
            by_id=author.pk,
            kind="call",
            occurred_on=on,
            next_follow_up=follow_up,
            summary=summary,
        ).pk

    today = timezone.localdate()
    overdue = log(owned, datetime.date(2025, 3, 1), datetime.date(2025, 3, 8), "  Quote for\n 200 units ")
    answered = log(ownerless, datetime.date(2025, 4, 1), datetime.date(2025, 4, 10))
    log(ownerless, datetime.date(2025, 4, 5), None)  # the later interaction that answered it
    coming = log(third, today, today + datetime.timedelta(days=3), "长" * 600)
    log(owned, datetime.date(2025, 1, 1), None)  # no date: no follow-up

    new = migrate(AFTER)
    Task = new.get_model("tasks", "Task")
    tasks = {t.interaction_id: t for t in Task.objects.all()}
    assert set(tasks) == {overdue, answered, coming}
    first = tasks[overdue]
    assert (first.customer_id, first.assignee_id, first.created_by_id, first.source) == (
        owned.pk,
        owner.pk,
        author.pk,
        "interaction",
    )
    assert (first.due_on, first.state, first.note, first.completed_at) == (
        datetime.date(2025, 3, 8),
        "open",
        "Quote for 200 units",
        None,
    )
    assert first.reminded_for == datetime.date(
        2025, 3, 8
    )  # overdue before reminders existed: no flood of old reminders
    done = tasks[answered]
    assert (done.assignee_id, done.state, done.completed_by_id) == (author.pk, "done", None)  # no owner: its author
    assert done.completed_at is not None
    later = tasks[coming]
    assert (later.state, later.reminded_for, len(later.note)) == ("open", None, 500)
    for role, codenames in ((Role.SALES, {"view_task", "add_task", "change_task"}), (Role.EXECUTIVE, {"view_task"})):
        held = set(
            Group.objects.get(name=role.value)
            .permissions.filter(content_type__app_label="tasks")
            .values_list("codename", flat=True)
        )
        assert held == codenames
