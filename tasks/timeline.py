"""Follow-ups on a customer's timeline (crm.timeline): a follow-up shows when it was made, and once
done, when it was done instead (one entry per follow-up, one query per page). Registered by
TasksConfig.ready() for users who may read follow-ups."""

from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.timeline import Entry, TimelineSource, register_timeline_source

from .models import State, Task


def _name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else _("unassigned")


class FollowUpSource(TimelineSource):
    kind = "follow_up"
    label = gettext_lazy("Follow-ups")
    permission = "tasks.view_task"
    order = 35

    def entries(self, *, customer, before, limit, user):
        tasks = (
            Task.objects.filter(customer=customer)
            .annotate(timeline_at=Coalesce("completed_at", "created_at"))
            .filter(self.before_q(before, at="timeline_at"))
            .select_related("assignee", "created_by", "completed_by")
            .order_by("-timeline_at", "-id")[:limit]
        )
        return [self.entry(task) for task in tasks]

    def entry(self, task: Task) -> Entry:
        values = {"assignee": _name(task.assignee), "due": date_format(task.due_on)}
        done = task.state == State.DONE and task.completed_at is not None
        title = _("Follow-up done (due %(due)s)") if done else _("Follow-up for %(assignee)s, due %(due)s")
        person = task.completed_by if done else task.created_by
        return Entry(
            at=task.timeline_at,
            kind=self.kind,
            id=task.pk,
            title=title % values,
            detail=task.note,
            url=reverse("tasks:my_tasks") + f"?task={task.pk}",
            by=person.get_username() if person is not None else "",
        )


def register() -> None:
    """Called by TasksConfig.ready()."""
    register_timeline_source(FollowUpSource())
