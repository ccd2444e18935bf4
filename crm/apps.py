from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Customers")

    def ready(self):
        # Imported once the app registry is ready (Django's rule for AppConfig modules).
        from . import search, timeline_sources

        timeline_sources.register()  # crm's kinds of event on a customer's timeline (crm.timeline)
        search.register()  # customers and contacts in the top bar's search (core.search)
