"""Bulk reassignment of customer owners (issue 19): executives and admins tick customers on the list,
or select every customer matching its filter, pick a sales rep, and confirm.

GET shows the confirmation: how many customers, a sample of them, whose they are now and who gets
them; it carries the selection (the ticked ids, or the filter) and the fingerprint of the customers
selected. POST reassigns them in one request, all or nothing (crm.services.customers_reassign_owner),
and refuses when the customers selected are no longer the ones confirmed.
"""

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.generic import TemplateView

from . import services
from .bulk import Selection, can_reassign_owners
from .roles import RoleRequiredMixin
from .selectors import sales_reps
from .views import CustomerFiguresMixin

SAMPLE = 20  # customers listed on the confirmation page
MAX_TICKED = services.BULK_CHUNK  # ticked ids in one request (a page holds 50; a filter selects any number)


class ReassignToForm(forms.Form):
    to = forms.ModelChoiceField(
        queryset=sales_reps(),
        label=gettext_lazy("New owner"),
        empty_label=gettext_lazy("Choose a sales rep"),
        error_messages={
            "required": gettext_lazy("Choose the sales rep who gets the customers."),
            "invalid_choice": gettext_lazy("Customers can only be given to an active sales rep."),
        },
    )


class CustomerReassignView(RoleRequiredMixin, CustomerFiguresMixin, TemplateView):
    template_name = "crm/customer_reassign.html"

    def has_permission(self):
        return can_reassign_owners(self.request.user)

    # The selection -------------------------------------------------------------------------------

    def filter_names(self) -> list[str]:
        return list(self.list_parts()[0].base_filters)

    def carried(self, data) -> list[tuple[str, str]]:
        """The selection's parameters, as the confirmation passes them on: the filter, or the ticked ids."""
        if data.get("all"):
            return [("all", "1")] + [(name, value) for name in self.filter_names() for value in data.getlist(name)]
        return [("ids", value) for value in data.getlist("ids")]

    def list_url(self, data) -> str:
        query = [(name, value) for name in self.filter_names() for value in data.getlist(name) if value]
        return reverse("crm:customer_list") + (f"?{urlencode(query)}" if query else "")

    def selection(self, data) -> tuple[Selection | None, str | None]:
        """(the customers `data` selects, None) or (None, why it selects none)."""
        if data.get("all"):
            filterset = self.list_parts()[0](data, queryset=self.customers(), request=self.request)
            if not filterset.is_valid():
                return None, _("The list's filters are not valid; correct them on the list and select again.")
            return Selection.of_filter(filterset.qs), None
        try:
            ticked = {int(value) for value in data.getlist("ids")}
        except ValueError:
            return None, _("The selection is not valid; go back to the list and select again.")
        if not ticked:
            return None, _("Tick the customers to reassign on the list, or select every customer matching the filter.")
        if len(ticked) > MAX_TICKED:
            return None, _("Tick at most %(max)s customers, or select every customer matching the filter.") % {
                "max": MAX_TICKED
            }
        selection = Selection.of_ids(ticked)
        if selection.count < len(ticked):
            missing = len(ticked) - selection.count
            return None, ngettext(
                "%(count)s of the ticked customers no longer exists; go back to the list and select again.",
                "%(count)s of the ticked customers no longer exist; go back to the list and select again.",
                missing,
            ) % {"count": missing}
        return selection, None

    def reselect(self, data):
        """The ids the same filter selects now (None for ticked ids: the service checks they all exist)."""
        if not data.get("all"):
            return None

        def selected_now() -> list[int]:
            selection = self.selection(data)[0]
            return selection.ids if selection is not None else []

        return selected_now

    # The pages -------------------------------------------------------------------------------------

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        data = self.request.GET
        form = ReassignToForm(data)
        selection, problem = self.selection(data)
        context.update(form=form, problem=problem, back=self.list_url(data), carried=self.carried(data))
        if selection is None:
            return context
        to = form.cleaned_data["to"] if form.is_valid() else None
        owners = list(
            selection.customers.order_by()
            .values("owner_id", "owner__username")
            .annotate(customers=Count("pk"))
            .order_by("-customers", "owner__username")
        )
        already = sum(row["customers"] for row in owners if to is not None and row["owner_id"] == to.pk)
        context.update(
            selection=selection,
            to=to,
            owners=owners,
            already=already,
            moving=selection.count - already,
            sample=list(selection.customers.select_related("owner").order_by("name", "pk")[:SAMPLE]),
        )
        return context

    def post(self, request):
        data = request.POST
        form = ReassignToForm(data)
        selection, problem = self.selection(data)
        back = reverse("crm:customer_reassign") + "?" + urlencode(self.carried(data) + [("to", data.get("to", ""))])
        if problem:
            messages.error(request, problem)
            return redirect(back)
        if not form.is_valid():
            messages.error(request, " ".join(form.errors["to"]))
            return redirect(back)
        if data.get("fingerprint") != selection.fingerprint:
            messages.error(
                request,
                _(
                    "The selection changed since you confirmed it: %(then)s customers then, %(now)s now. "
                    "Nothing was reassigned; check the selection below and confirm again."
                )
                % {"then": data.get("count", "?"), "now": selection.count},
            )
            return redirect(back)
        to = form.cleaned_data["to"]
        try:
            result = services.customers_reassign_owner(
                customer_ids=selection.ids, owner=to, by=request.user, reselect=self.reselect(data)
            )
        except services.ReassignError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(back)
        messages.success(
            request,
            ngettext(
                "%(count)s customer now belongs to %(owner)s.",
                "%(count)s customers now belong to %(owner)s.",
                result.changed,
            )
            % {"count": result.changed, "owner": to.get_username()},
        )
        if result.already:
            messages.info(
                request,
                ngettext(
                    "%(count)s was already theirs and was left as it was.",
                    "%(count)s were already theirs and were left as they were.",
                    result.already,
                )
                % {"count": result.already},
            )
        return redirect(reverse("crm:customer_list") + "?" + urlencode({"owner": to.pk}))
