"""The complaint page's follow-ups (complaints, below tasks, includes this tag by name)."""

from django import template
from django.utils import timezone

from ..rules import can_create_task
from ..selectors import complaint_tasks

register = template.Library()


@register.inclusion_tag("tasks/_complaint_tasks.html", takes_context=True)
def complaint_follow_ups(context, complaint):
    user = context["request"].user
    return {
        "complaint": complaint,
        "complaint_tasks": complaint_tasks(complaint) if user.has_perm("tasks.view_task") else [],
        "can_add": user.has_perm("tasks.add_task")
        and can_create_task(user, customer=complaint.customer, complaint=complaint),
        "today": timezone.localdate(),
    }
