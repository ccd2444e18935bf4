"""Beat's daily reminder sweep: thin, idempotent (a follow-up is reminded once per due date)."""

from celery import shared_task

from . import services


@shared_task(name="tasks.remind_due_tasks", ignore_result=True)
def remind_due_tasks() -> int:
    return services.tasks_remind_due()
