from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "exchange"
    verbose_name = _("Data exchange")

    def ready(self):
        from core import jobs

        from .services import JOB_KIND

        jobs.register(JOB_KIND)
