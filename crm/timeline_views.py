"""The customer's timeline page: every kind of event the user may see, newest first, filtered by
kind and paged by keyset (crm.timeline)."""

from django.core.exceptions import BadRequest
from django.shortcuts import get_object_or_404
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from .models import Customer
from .roles import RoleRequiredMixin
from .timeline import Cursor, timeline_page

PER_PAGE = 25


class CustomerTimelineView(RoleRequiredMixin, TemplateView):
    permission_required = "crm.view_customer"
    template_name = "crm/customer_timeline.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        customer = get_object_or_404(Customer, pk=self.kwargs["pk"])
        kinds = [kind for kind in self.request.GET.getlist("kind") if kind]
        before = self.request.GET.get("before") or None
        try:
            cursor = Cursor.decode(before) if before else None
        except ValueError:
            raise BadRequest(_("This page of the timeline does not exist; start again from the newest.")) from None
        page = timeline_page(customer=customer, user=self.request.user, kinds=kinds, before=cursor, per_page=PER_PAGE)
        filtered = page.kinds != frozenset(source.kind for source in page.sources)
        shown_kinds = sorted(page.kinds) if filtered else []
        context.update(
            customer=customer,
            timeline=page,
            filtered=filtered,
            paged=cursor is not None,
            newest_query=urlencode({"kind": shown_kinds}, doseq=True),
            older_query=(
                urlencode({"kind": shown_kinds, "before": page.next_cursor.encode()}, doseq=True)
                if page.next_cursor
                else ""
            ),
        )
        return context
