from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self):
        from core import jobs

        from . import signals  # noqa: F401
        from .services import runs

        jobs.register(runs.JOB_KIND)
