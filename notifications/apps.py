from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        # The outbox sends its task by name (services cannot import the task module, which imports
        # them); registering it here makes the name known in every process, not only in workers.
        from . import tasks  # noqa: F401
