"""Complaints in the top bar's search (core.search), registered from ComplaintsConfig.ready().

A complaint is found by its number (the whole number or its start, any case) or by words of its
description (what the complaint is about), among all complaints, as the queue's "all" tab lists
them for whoever reads complaints. Newest first. No money is shown.
"""

from urllib.parse import urlencode

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.text import Truncator
from django.utils.timezone import localtime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.search import Hit, SearchProvider, register_search_provider

from .models import Complaint
from .selectors import Tab, complaint_queue, complaint_text_condition


def complaint_search(*, user, text: str) -> QuerySet[Complaint]:
    """The complaints of the queue's "all" tab whose number starts with `text` (any case) or whose
    description contains it, newest first. On PostgreSQL each test is one an index of complaints
    0004 serves (the number's upper-cased prefix, the description's trigrams and short Chinese grams)."""
    complaints = complaint_queue(user=user, tab=Tab.ALL)
    return complaints.filter(complaint_text_condition(text, using=complaints.db)).order_by("-received_at", "-id")


class ComplaintSearch(SearchProvider):
    kind = "complaints"
    label = _("Complaints")
    permission = "complaints.view_complaint"
    order = 30

    def matches(self, *, text, user):
        return complaint_search(user=user, text=text)

    def hit(self, complaint: Complaint) -> Hit:
        customer = complaint.customer
        parts = [
            complaint.get_state_display(),
            f"{customer.code} {customer.name}",
            date_format(localtime(complaint.received_at), "SHORT_DATE_FORMAT"),
        ]
        return Hit(
            title=f"{complaint.number} {Truncator(complaint.description).chars(80)}",
            url=complaint.get_absolute_url(),
            detail=" · ".join(parts),
        )

    def see_all(self, *, text):
        query = urlencode({"tab": Tab.ALL, "q": text})
        return f"{reverse('complaints:queue')}?{query}", gettext("Search the complaint queue")


def register() -> None:
    register_search_provider(ComplaintSearch())
