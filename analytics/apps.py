from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self):
        # Imported here, not at the top: an app's models, forms and tables may only be imported
        # once the app registry is ready (Django's rule for AppConfig modules).
        from core import jobs

        from . import customer_figures, signals, timeline  # noqa: F401 (signals: connects the receivers)
        from .services import runs, whatif

        jobs.register(runs.JOB_KIND)
        jobs.register(whatif.JOB_KIND)
        customer_figures.register()  # the published run's figures on crm's customer pages
        timeline.register()  # tier changes on a customer's timeline (crm.timeline)
