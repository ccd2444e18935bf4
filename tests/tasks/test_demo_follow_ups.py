"""The demo seed writes interactions in bulk (no save signal): their follow-up dates still become
follow-ups, so My tasks and the portfolio's week are not empty in the demo."""

import datetime

import pytest
from django.core.management import call_command
from django.db.models import Exists, OuterRef
from django.utils import timezone

from crm.models import Interaction
from tasks.models import Source, State, Task

END = datetime.date(2026, 6, 30)


@pytest.mark.django_db
def test_the_demo_seed_makes_the_follow_ups_of_its_interactions(settings, tmp_path):
    settings.BASE_DIR = tmp_path  # the command writes BASE_DIR/.demo-logins: not over the real demo's
    call_command("seed_demo", customers=300, end=END, password="demo-pw-Long-1234", verbosity=0)
    dated = Interaction.objects.filter(next_follow_up__isnull=False)
    later = Interaction.objects.filter(customer_id=OuterRef("customer_id"), occurred_on__gt=OuterRef("occurred_on"))
    unanswered = set(dated.exclude(Exists(later)).values_list("pk", flat=True))
    assert dated.count() > 0 and unanswered
    assert Task.objects.filter(source=Source.INTERACTION).count() == dated.count()
    # The reps kept up: what was due more than three weeks before the end was done around its day; the
    # unanswered ones of the last weeks (and the days ahead) are open.
    cutoff = END - datetime.timedelta(days=21)
    recent = set(dated.filter(pk__in=unanswered, next_follow_up__gte=cutoff).values_list("pk", flat=True))
    assert recent and recent != unanswered
    assert set(Task.objects.filter(state=State.OPEN).values_list("interaction_id", flat=True)) == recent
    for task in Task.objects.filter(state=State.DONE, interaction_id__in=unanswered):
        done_on = timezone.localtime(task.completed_at).date()
        assert task.due_on < cutoff and -5 <= (done_on - task.due_on).days <= 3
        assert task.completed_by_id == task.assignee_id
    # each to the customer's owner; the seed's customers without one have interactions by nobody: unassigned
    for task in Task.objects.select_related("customer"):
        assert task.assignee_id == task.customer.owner_id
