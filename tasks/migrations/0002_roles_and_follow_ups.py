"""What each role may do with follow-ups, and every interaction's "next follow-up" date as a
follow-up, so that nothing dated before follow-ups existed is lost (issue 19).

- Not answered yet (no later interaction with the customer, as the portfolio read it): open, due
  that date, assigned to the customer's owner, else to the interaction's author. One already
  overdue counts as reminded of (the daily reminder is for follow-ups that come due from now on;
  the overdue ones head My tasks).
- Answered by a later interaction: done, completed at that migration, by nobody.
The note is the interaction's summary, shortened.
"""

from django.db import migrations
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.text import Truncator

from crm.role_migrations import grant_permissions, revoke_permissions

GROUP_PERMISSIONS = {
    "Sales": ["view_task", "add_task", "change_task"],
    "Service": ["view_task", "add_task", "change_task"],
    "Executive": ["view_task"],
}
NOTE_MAX = 500
BATCH = 2000


def roles(apps, schema_editor):
    grant_permissions(apps, "tasks", GROUP_PERMISSIONS)


def no_roles(apps, schema_editor):
    revoke_permissions(apps, "tasks", GROUP_PERMISSIONS)


def follow_ups(apps, schema_editor):
    Interaction = apps.get_model("crm", "Interaction")
    Task = apps.get_model("tasks", "Task")
    now = timezone.now()
    today = timezone.localdate(now)
    later = Interaction.objects.filter(customer_id=OuterRef("customer_id"), occurred_on__gt=OuterRef("occurred_on"))
    dated = (
        Interaction.objects.filter(next_follow_up__isnull=False)
        .annotate(answered=Exists(later))
        .values_list("pk", "customer_id", "customer__owner_id", "by_id", "next_follow_up", "summary", "answered")
        .order_by("pk")
    )
    batch = []
    for pk, customer_id, owner_id, by_id, due, summary, answered in dated.iterator(chunk_size=BATCH):
        batch.append(
            Task(
                customer_id=customer_id,
                interaction_id=pk,
                source="interaction",
                assignee_id=owner_id or by_id,
                created_by_id=by_id,
                due_on=due,
                note=Truncator(" ".join((summary or "").split())).chars(NOTE_MAX),
                state="done" if answered else "open",
                completed_at=now if answered else None,
                reminded_for=due if not answered and due < today else None,
            )
        )
        if len(batch) >= BATCH:
            Task.objects.bulk_create(batch)
            batch = []
    Task.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [("tasks", "0001_initial"), ("crm", "0002_roles")]
    operations = [
        migrations.RunPython(roles, no_roles),
        migrations.RunPython(follow_ups, migrations.RunPython.noop),
    ]
