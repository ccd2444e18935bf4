"""Bulk reassignment of complaints (issue 19): the service lead (an admin: only an admin gives a
complaint to someone else, workflow.can_reassign) ticks complaints on the queue, picks a service
rep, confirms, and they are the rep's in one request, all or nothing (services.complaints_reassign).

GET shows the confirmation: every ticked complaint with its state and assignee; complaints that are
no longer open are named there and the batch cannot be confirmed until they are unticked. POST
reassigns, and refuses the whole batch if one of them closed meanwhile.
"""

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.generic import TemplateView

from crm.roles import RoleRequiredMixin

from . import services
from .models import Complaint
from .workflow import AssignmentError, can_reassign


class ReassignToForm(forms.Form):
    to = forms.ModelChoiceField(
        queryset=services.service_reps(),
        label=gettext_lazy("New assignee"),
        empty_label=gettext_lazy("Choose a service rep"),
        error_messages={
            "required": gettext_lazy("Choose the service rep who gets the complaints."),
            "invalid_choice": gettext_lazy("Complaints can only be given to an active service rep."),
        },
    )


class ComplaintReassignView(RoleRequiredMixin, TemplateView):
    template_name = "complaints/complaint_reassign.html"

    def has_permission(self):
        return can_reassign(self.request.user)

    def ticked(self, data) -> tuple[list[int], str | None]:
        try:
            ids = sorted({int(value) for value in data.getlist("ids")})
        except ValueError:
            return [], _("The selection is not valid; go back to the queue and tick the complaints again.")
        if not ids:
            return [], _("Tick the complaints to reassign on the queue.")
        if len(ids) > services.BULK_REASSIGN_MAX:
            return [], _("At most %(max)s complaints are reassigned at once.") % {"max": services.BULK_REASSIGN_MAX}
        return ids, None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        data = self.request.GET
        form = ReassignToForm(data)
        ids, problem = self.ticked(data)
        complaints = list(
            Complaint.objects.filter(pk__in=ids).select_related("customer", "assignee").order_by("number")
        )
        if not problem and len(complaints) < len(ids):
            missing = len(ids) - len(complaints)
            problem = ngettext(
                "%(count)s of the ticked complaints no longer exists; go back to the queue and tick them again.",
                "%(count)s of the ticked complaints no longer exist; go back to the queue and tick them again.",
                missing,
            ) % {"count": missing}
        to = form.cleaned_data["to"] if form.is_valid() else None
        context.update(
            form=form,
            problem=problem,
            complaints=complaints,
            refused=services.not_open(complaints),
            to=to,
            already=sum(1 for complaint in complaints if to is not None and complaint.assignee_id == to.pk),
            ids=ids,
            back=reverse("complaints:queue"),
        )
        return context

    def post(self, request):
        data = request.POST
        ids, problem = self.ticked(data)
        form = ReassignToForm(data)
        back = reverse("complaints:complaint_reassign") + "?" + urlencode([("ids", pk) for pk in ids])
        if problem:
            messages.error(request, problem)
            return redirect(reverse("complaints:queue"))
        if not form.is_valid():
            messages.error(request, " ".join(form.errors["to"]))
            return redirect(back)
        to = form.cleaned_data["to"]
        try:
            result = services.complaints_reassign(complaint_ids=ids, assignee=to, by=request.user)
        except AssignmentError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(f"{back}&{urlencode({'to': to.pk})}")
        messages.success(
            request,
            ngettext(
                "%(count)s complaint is now worked by %(assignee)s.",
                "%(count)s complaints are now worked by %(assignee)s.",
                result.changed,
            )
            % {"count": result.changed, "assignee": to.get_username()},
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
        return redirect(reverse("complaints:queue") + "?" + urlencode({"tab": "open"}))
