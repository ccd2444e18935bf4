from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = _("Complaints")

    def ready(self):
        # Imported once the app registry is ready (Django's rule for AppConfig modules).
        from crm import extensions

        from . import search, timeline
        from .selectors import customer_complaints

        # The customer page lists the customer's complaints for whoever reads complaints.
        extensions.register_customer_panel(
            extensions.CustomerPanel(
                name="complaints", context=customer_complaints, permission="complaints.view_complaint"
            )
        )
        timeline.register()  # complaints and their state moves on a customer's timeline (crm.timeline)
        search.register()  # complaints in the top bar's search (core.search)
