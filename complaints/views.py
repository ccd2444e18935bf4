import datetime

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import DetailView, FormView, TemplateView, UpdateView, View
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from core.saved_views import SavedViewsMixin
from crm.bulk import with_select_column
from crm.exports import export_response, filtered_sorted
from crm.models import Customer
from crm.roles import Role, RoleRequiredMixin
from crm.selectors import customer_search
from crm.tables import IdsFirstPaginator

from . import selectors, services
from .filters import ComplaintFilter
from .forms import (
    ComplaintCreateForm,
    ComplaintEditForm,
    CustomerLookupForm,
    NoteForm,
    ProblemForm,
    SlaTargetFormSet,
    TransitionForm,
)
from .models import Complaint, Problem, SlaTarget, State
from .tables import COMPLAINT_EXPORT_HEADERS, ComplaintTable, ProblemTable, complaint_export_rows
from .workflow import (
    CONFIRM_MESSAGES,
    ComplaintRefused,
    action_label,
    allowed_transitions,
    can_reassign,
    can_take,
    can_work,
    complaint_transition,
)

TAB_LABELS = {
    selectors.Tab.MINE: gettext_lazy("Mine"),
    selectors.Tab.UNASSIGNED: gettext_lazy("Unassigned"),
    selectors.Tab.BREACHING: gettext_lazy("Breaching SLA"),
    selectors.Tab.OPEN: gettext_lazy("All open"),
    selectors.Tab.ALL: gettext_lazy("All"),
}


def service_reps():
    return get_user_model().objects.filter(groups__name=Role.SERVICE.value, is_active=True).order_by("username")


def assignee_choices(user, complaint: Complaint):
    """Whom `user` may make the assignee (workflow.check_assignment): an admin, any active service
    rep; a rep, themselves while they may take it. The current assignee is always a choice, so an
    untouched field keeps them."""
    if can_reassign(user):
        wanted = Q(groups__name=Role.SERVICE.value, is_active=True)
    elif can_take(user, complaint):
        wanted = Q(pk=user.pk)
    else:
        wanted = Q(pk__in=[])
    return get_user_model().objects.filter(wanted | Q(pk=complaint.assignee_id)).distinct().order_by("username")


class QueueMixin:
    def tab(self) -> str:
        tab = self.request.GET.get("tab") or (
            selectors.Tab.MINE if self.request.user.has_perm("complaints.work_complaint") else selectors.Tab.OPEN
        )
        if tab not in selectors.TABS:
            raise Http404(_("Unknown tab."))
        return tab

    def queue(self):
        return selectors.complaint_queue(user=self.request.user, tab=self.tab())


class ComplaintQueueView(RoleRequiredMixin, QueueMixin, SavedViewsMixin, SingleTableMixin, FilterView):
    permission_required = "complaints.view_complaint"
    # Saved views, column choice and page size (core.saved_views).
    saved_list_key = "complaints.queue"
    saved_list_url_name = "complaints:queue"
    identifying_columns = ("number",)
    state_extra_params = {"tab": selectors.TABS}
    table_class = ComplaintTable
    filterset_class = ComplaintFilter
    template_name = "complaints/queue.html"
    # Deep pages (the whole history under "all") by primary keys first, as the customer list.
    table_pagination = {"per_page": 25, "paginator_class": IdsFirstPaginator}

    def get_queryset(self):
        return self.queue()

    def get_table_kwargs(self):
        """The service lead (an admin) ticks complaints to reassign them (complaints.bulk_views)."""
        kwargs = super().get_table_kwargs()
        return with_select_column(self.get_table_class(), kwargs) if can_reassign(self.request.user) else kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tabs"] = [(key, TAB_LABELS[key]) for key in selectors.TABS]
        context["current_tab"] = self.tab()
        if can_reassign(self.request.user):
            context["reassign_targets"] = services.service_reps()
        return context


class ComplaintExportView(RoleRequiredMixin, QueueMixin, View):
    permission_required = "complaints.view_complaint"

    def get(self, request, fmt):
        if fmt not in {"csv", "xlsx"}:
            raise Http404(_("Unknown export format."))
        rows = filtered_sorted(
            request, filterset_class=ComplaintFilter, table_class=ComplaintTable, queryset=self.queue()
        )
        if rows is None:
            messages.error(request, _("The filters are not valid; nothing was exported."))
            return redirect("complaints:queue")
        return export_response(fmt, COMPLAINT_EXPORT_HEADERS, complaint_export_rows(rows), name="complaints")


class CustomerLookupView(RoleRequiredMixin, View):
    """Suggestions for the customer field: the customer search's first 20 (crm.selectors.customer_search)."""

    permission_required = "complaints.add_complaint"

    def get(self, request):
        form = CustomerLookupForm(request.GET)
        if not form.is_valid():
            return JsonResponse({"results": [], "errors": form.errors.get_json_data()}, status=400)
        text = form.cleaned_data["q"]
        if len(text) < 1:
            return JsonResponse({"results": []})
        matches = customer_search(Customer.objects.all(), text).order_by("name").values("code", "name")[:20]
        return JsonResponse({"results": [{"code": m["code"], "label": f"{m['code']} {m['name']}"} for m in matches]})


class ComplaintCreateView(RoleRequiredMixin, FormView):
    permission_required = "complaints.add_complaint"
    template_name = "complaints/complaint_form.html"
    form_class = ComplaintCreateForm

    def get_initial(self):
        initial = {
            "assignee": self.request.user.pk if self.request.user.has_perm("complaints.work_complaint") else None
        }
        if code := self.request.GET.get("customer"):
            initial["customer"] = code
        return initial

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "assignees": service_reps()}

    def form_valid(self, form):
        complaint = services.complaint_create(
            customer=form.cleaned_data["customer"],
            by=self.request.user,
            data=form.complaint_data(),
            notify=True,
            acknowledge=form.cleaned_data["send_acknowledgment"],
        )
        messages.success(self.request, _("Complaint %(number)s logged.") % {"number": complaint.number})
        return redirect(complaint)


class ComplaintContextMixin:
    def complaint_context(self, complaint: Complaint, *, transition_form=None, note_form=None) -> dict:
        user = self.request.user
        may_work = can_work(user, complaint)
        moves = []
        if may_work:
            for to in allowed_transitions(complaint):
                confirm = CONFIRM_MESSAGES.get(to)
                moves.append(
                    {
                        "to": to,
                        "label": action_label(complaint, to),
                        "form": transition_form
                        if transition_form is not None and transition_form.data.get("to") == to
                        else TransitionForm(
                            initial={"to": to, "expected_state": complaint.state},
                            complaint=complaint,
                            auto_id=f"id_{to}_%s",
                        ),
                        # Moves off the normal path look apart and ask first (static/js/confirm.js).
                        "danger": confirm is not None,
                        "confirm": confirm % {"number": complaint.number} if confirm else "",
                    }
                )
        return {
            "complaint": complaint,
            "object": complaint,
            "notes": complaint.notes.select_related("author"),
            "transitions": complaint.transitions.select_related("by"),
            "duplicates": complaint.duplicates.only("pk", "number", "state"),
            "moves": moves,
            "can_work": may_work,
            "can_take": can_take(user, complaint),
            "can_edit": user.has_perm("complaints.change_complaint") and may_work,
            "note_form": note_form or (NoteForm() if may_work else None),
        }


class ComplaintDetailView(RoleRequiredMixin, ComplaintContextMixin, DetailView):
    permission_required = "complaints.view_complaint"
    template_name = "complaints/complaint_detail.html"

    def get_queryset(self):
        return selectors.complaint_list().select_related("duplicate_of", "created_by", "order")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **self.complaint_context(self.object)}


class ComplaintActionView(RoleRequiredMixin, ComplaintContextMixin, TemplateView):
    """Base for POST actions on one complaint: only someone who may work it gets here."""

    permission_required = "complaints.work_complaint"
    template_name = "complaints/complaint_detail.html"
    http_method_names = ["post"]

    def get_complaint(self) -> Complaint:
        complaint = get_object_or_404(
            selectors.complaint_list().select_related("duplicate_of", "created_by", "order"), pk=self.kwargs["pk"]
        )
        if not can_work(self.request.user, complaint):
            raise PermissionDenied(_("Only the assignee works this complaint."))
        return complaint

    def render_errors(self, complaint: Complaint, **forms):
        return self.render_to_response(self.complaint_context(complaint, **forms), status=400)

    def fresh(self, pk) -> Complaint:
        """The complaint as it is now, after a refused write (someone else may have changed it)."""
        return selectors.complaint_list().select_related("duplicate_of", "created_by", "order").get(pk=pk)


class ComplaintTransitionView(ComplaintActionView):
    def post(self, request, pk):
        complaint = self.get_complaint()
        form = TransitionForm(request.POST, complaint=complaint, auto_id=f"id_{request.POST.get('to', '')}_%s")
        if not form.is_valid():
            return self.render_errors(complaint, transition_form=form)
        try:
            # The mover works the complaint: checked on the locked row, and it becomes theirs if nobody worked it.
            complaint_transition(complaint=complaint, by=request.user, as_worker=True, **form.cleaned_data)
        except ComplaintRefused as refused:
            if hasattr(refused, "error_dict"):  # a guard: shown beside the fields of that move
                for field, errors in refused.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:  # an illegal or stale move: the page says so at the top
                for message in refused.messages:
                    messages.error(request, message)
            return self.render_errors(self.fresh(pk), transition_form=form)
        messages.success(
            request,
            _("Complaint %(number)s is now “%(state)s”.")
            % {"number": complaint.number, "state": State(form.cleaned_data["to"]).label},
        )
        return redirect(complaint)


class ComplaintNoteView(ComplaintActionView):
    def post(self, request, pk):
        complaint = self.get_complaint()
        form = NoteForm(request.POST)
        if not form.is_valid():
            return self.render_errors(complaint, note_form=form)
        services.complaint_add_note(complaint=complaint, by=request.user, **form.cleaned_data)
        messages.success(request, _("Note added."))
        return redirect(complaint.get_absolute_url() + "#timeline")


class ComplaintTakeView(ComplaintActionView):
    def post(self, request, pk):
        complaint = self.get_complaint()
        try:
            services.complaint_take(complaint=complaint, by=request.user)
        except ComplaintRefused as refused:
            for message in refused.messages:
                messages.error(request, message)
            return self.render_errors(self.fresh(pk))
        messages.success(request, _("You now work complaint %(number)s.") % {"number": complaint.number})
        return redirect(complaint)


class ComplaintEditView(RoleRequiredMixin, UpdateView):
    permission_required = "complaints.change_complaint"
    template_name = "complaints/complaint_edit.html"
    form_class = ComplaintEditForm

    def get_queryset(self):
        return selectors.complaint_list()

    def get_object(self, queryset=None):
        complaint = super().get_object(queryset)
        if not can_work(self.request.user, complaint):  # the one who works a complaint edits it
            raise PermissionDenied(_("Only the assignee works this complaint."))
        return complaint

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "assignees": assignee_choices(self.request.user, self.object),
            "may_assign": can_reassign(self.request.user) or can_take(self.request.user, self.object),
        }

    def form_valid(self, form):
        # Only what this person changed is written, on the row as it is now (services.complaint_update).
        try:
            services.complaint_update(complaint=self.object, data=form.edits(), by=self.request.user, as_worker=True)
        except ComplaintRefused as refused:
            form.add_error("assignee" if "assignee" in form.changed_data else None, refused.messages)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        messages.success(self.request, _("Complaint %(number)s saved.") % {"number": self.object.number})
        return redirect(self.object)


class ProblemListView(RoleRequiredMixin, SingleTableMixin, TemplateView):
    permission_required = "complaints.view_problem"
    template_name = "complaints/problem_list.html"
    table_class = ProblemTable
    table_pagination = {"per_page": 50}

    def get_table_data(self):
        return Problem.objects.annotate(
            complaint_count=Count("complaints"), last_received=Max("complaints__received_at")
        )


class ProblemDetailView(RoleRequiredMixin, DetailView):
    permission_required = "complaints.view_problem"
    template_name = "complaints/problem_detail.html"
    model = Problem

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        complaints = list(
            selectors.complaints_with_recurrence(
                self.object.complaints.select_related("customer", "assignee")
            ).order_by("received_at")
        )
        context["complaints"] = complaints
        context["recurrences"] = sum(1 for c in complaints if c.recurrence)
        return context


class ProblemCreateView(RoleRequiredMixin, FormView):
    permission_required = "complaints.add_problem"
    template_name = "complaints/problem_form.html"
    form_class = ProblemForm

    def form_valid(self, form):
        problem = services.problem_create(by=self.request.user, data=form.cleaned_data)
        messages.success(self.request, _("Problem recorded."))
        return redirect(problem)


class ProblemEditView(RoleRequiredMixin, UpdateView):
    permission_required = "complaints.change_problem"
    template_name = "complaints/problem_form.html"
    form_class = ProblemForm
    model = Problem

    def form_valid(self, form):
        services.problem_update(problem=self.object, data=form.cleaned_data, by=self.request.user)
        messages.success(self.request, _("Problem saved."))
        return redirect(self.object)


class SlaTargetView(RoleRequiredMixin, TemplateView):
    """Executives set the hours; everyone who reads complaints sees them."""

    permission_required = "complaints.view_slatarget"
    template_name = "complaints/sla_targets.html"

    def formset(self, data=None):
        return SlaTargetFormSet(data, queryset=SlaTarget.objects.all().order_by("first_response_hours"))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("formset", self.formset())
        context["can_change"] = self.request.user.has_perm("complaints.change_slatarget")
        return context

    def post(self, request):
        if not request.user.has_perm("complaints.change_slatarget"):
            raise PermissionDenied(_("Only executives set SLA targets."))
        formset = self.formset(request.POST)
        if not formset.is_valid():
            return self.render_to_response(self.get_context_data(formset=formset), status=400)
        services.sla_targets_update(forms=formset.forms, by=request.user)
        messages.success(request, _("SLA targets saved. They apply to complaints logged from now on."))
        return redirect("complaints:sla_targets")


class ComplaintKpiView(RoleRequiredMixin, TemplateView):
    """The service KPIs for a period (default: the last 30 days), computed by the database."""

    permission_required = "complaints.view_complaint"
    template_name = "complaints/kpis.html"
    PERIODS = (7, 30, 90, 365)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        try:
            days = int(self.request.GET.get("days", 30))
        except ValueError:
            days = 30
        days = days if days in self.PERIODS else 30
        now = timezone.now()
        context.update(
            kpis=selectors.complaint_kpis(start=now - datetime.timedelta(days=days), end=now, now=now),
            days=days,
            periods=self.PERIODS,
        )
        return context
