from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksConfig(AppConfig):
    name = "tasks"
    verbose_name = _("Follow-ups")

    def ready(self):
        # Imported once the app registry is ready (Django's rule for AppConfig modules).
        from crm import extensions
        from notifications import kinds as notification_kinds

        from . import receivers, tasks, timeline  # noqa: F401 (receivers: connects them; tasks: the beat sweep's name)
        from .kinds import TASK_DUE_KIND
        from .selectors import customer_tasks

        notification_kinds.register_kind(TASK_DUE_KIND)
        # The customer page lists the customer's follow-ups not done, for whoever reads follow-ups.
        extensions.register_customer_panel(
            extensions.CustomerPanel(name="tasks", context=customer_tasks, permission="tasks.view_task")
        )
        timeline.register()  # follow-ups on a customer's timeline (crm.timeline)
