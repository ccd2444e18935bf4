"""My tasks (and the team's), a new follow-up, and what is done with ticked ones (one POST)."""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.generic import FormView, TemplateView, View

from complaints.models import Complaint
from crm.models import Customer
from crm.roles import RoleRequiredMixin

from . import rules, services
from .forms import BulkForm, TaskFilterForm, TaskForm, snooze_presets
from .models import Source, State
from .selectors import LISTED, TaskFilters, task_list

SOURCE_NOTES = {
    Source.NEGLECTED: gettext_lazy("A core or key account without a visit, call or meeting in 60 days: get in touch."),
    Source.DECLINING: gettext_lazy(
        "A top account whose revenue is falling against the year before: find out why, and what would win it back."
    ),
}


def _next_url(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


class MyTasksView(RoleRequiredMixin, TemplateView):
    """The user's follow-ups to act on, overdue first, the snoozed ones apart; executives and admins
    read the team's, by assignee."""

    permission_required = "tasks.view_task"
    template_name = "tasks/my_tasks.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        today = timezone.localdate()
        # Executives and admins open on the team's; reps on theirs, with the rest they may work a tab away.
        manager = rules.is_manager(user)
        team = self.request.GET.get("scope", "team" if manager else "mine") == "team"
        form = TaskFilterForm(self.request.GET or None)
        data = {}
        if form.is_bound:
            form.is_valid()  # a wrong value drops that filter alone: the others still apply
            data = form.cleaned_data
        filters = TaskFilters(
            state=data.get("state") or State.OPEN,
            due=data.get("due") or "",
            assignee=data.get("assignee") if team else None,
            team=team,
        )
        active, snoozed = task_list(user=user, filters=filters, today=today)
        page = Paginator(active, LISTED).get_page(self.request.GET.get("page"))
        context.update(
            filter_form=form,
            filters=filters,
            team=team,
            is_manager=manager,
            page=page,
            tasks=list(page.object_list),
            snoozed=list(snoozed[:LISTED]) if filters.state == State.OPEN else [],
            today=today,
            presets=snooze_presets(today),
            bulk_form=BulkForm(auto_id="bulk-%s"),
            may_work=rules.may_work_any(user, rules.WORK),
            may_reassign=rules.may_work_any(user, rules.REASSIGN),
            selectable=filters.state != State.DONE
            and (rules.may_work_any(user, rules.WORK) or rules.may_work_any(user, rules.REASSIGN)),
        )
        return context


class TaskCreateView(RoleRequiredMixin, FormView):
    """A new follow-up on a customer (?customer=<id>), a complaint (?complaint=<id>), or from a
    portfolio alert (&source=neglected or declining): the form comes filled in."""

    permission_required = "tasks.add_task"
    template_name = "tasks/task_form.html"
    form_class = TaskForm

    def dispatch(self, request, *args, **kwargs):
        params = request.POST if request.method == "POST" else request.GET
        self.complaint = None
        complaint_id = params.get("complaint") or ""
        customer_id = params.get("customer") or ""
        if complaint_id.isdigit():
            self.complaint = get_object_or_404(Complaint.objects.select_related("customer"), pk=complaint_id)
            self.customer = self.complaint.customer
        elif customer_id.isdigit():
            self.customer = get_object_or_404(Customer.objects.select_related("owner"), pk=customer_id)
        else:
            return redirect("tasks:my_tasks")
        source = params.get("source") or ""
        self.source = Source.COMPLAINT if self.complaint else (source if source in SOURCE_NOTES else Source.CUSTOMER)
        return super().dispatch(request, *args, **kwargs)

    def has_permission(self):
        return super().has_permission() and rules.can_create_task(
            self.request.user, customer=self.customer, complaint=self.complaint
        )

    def get_initial(self):
        user = self.request.user
        assignee = user if rules.assignable_users().filter(pk=user.pk).exists() else self.customer.owner
        days = 0 if self.source in SOURCE_NOTES else 1
        return {
            "assignee": assignee,
            "due_on": timezone.localdate() + datetime.timedelta(days=days),
            "note": SOURCE_NOTES.get(self.source, ""),
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        fallback = self.complaint.get_absolute_url() if self.complaint else self.customer.get_absolute_url()
        context.update(
            customer=self.customer,
            complaint=self.complaint,
            source=self.source,
            source_label=Source(self.source).label,
            next_url=_next_url(self.request, fallback),
        )
        return context

    def form_valid(self, form):
        try:
            task = services.task_create(
                customer=self.customer,
                complaint=self.complaint,
                source=self.source,
                by=self.request.user,
                **form.cleaned_data,
            )
        except ValidationError as error:
            form.add_error(None, error)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        messages.success(
            self.request,
            _("Follow-up on %(customer)s created, due %(due)s.")
            % {"customer": self.customer.name, "due": date_format(task.due_on)},
        )
        return redirect(_next_url(self.request, self.customer.get_absolute_url()))

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class TaskBulkView(RoleRequiredMixin, View):
    """Complete, snooze or reassign the ticked follow-ups: one POST, all or nothing, then back."""

    permission_required = "tasks.view_task"
    http_method_names = ["post"]

    def post(self, request):
        back = _next_url(request, "/tasks/")
        form = BulkForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(back)
        action = form.cleaned_data["action"]
        if not rules.may_work_any(request.user, rules.REASSIGN if action == services.REASSIGN else rules.WORK):
            raise PermissionDenied(_("You may not do this with follow-ups."))
        try:
            changed, unchanged = services.tasks_bulk(
                tasks=rules.visible_tasks(request.user),
                ids=form.cleaned_data["task"],
                user=request.user,
                action=action,
                until=form.snooze_until(timezone.localdate()),
                assignee=form.cleaned_data.get("assignee"),
            )
        except services.BulkRefused as refused:
            if refused.forbidden:
                raise PermissionDenied(refused.message) from refused
            messages.error(request, refused.message)
            return redirect(back)
        messages.success(request, _done_message(action, changed, unchanged, form))
        return redirect(back)


def _done_message(action, changed, unchanged, form) -> str:
    if not changed and action == services.COMPLETE:
        return ngettext(
            "Nothing changed: the chosen follow-up was done already.",
            "Nothing changed: the %(count)d chosen follow-ups were done already.",
            unchanged,
        ) % {"count": unchanged}
    if not changed and action == services.REASSIGN:
        return ngettext(
            "Nothing changed: the chosen follow-up was theirs already.",
            "Nothing changed: the %(count)d chosen follow-ups were theirs already.",
            unchanged,
        ) % {"count": unchanged}
    if action == services.COMPLETE:
        text = ngettext("%(count)d follow-up completed.", "%(count)d follow-ups completed.", changed)
    elif action == services.SNOOZE:
        text = ngettext(
            "%(count)d follow-up snoozed until %(until)s.", "%(count)d follow-ups snoozed until %(until)s.", changed
        )
    else:
        text = ngettext("%(count)d follow-up given to %(user)s.", "%(count)d follow-ups given to %(user)s.", changed)
    assignee = form.cleaned_data.get("assignee")
    message = text % {
        "count": changed,
        "until": date_format(form.snooze_until(timezone.localdate())) if action == services.SNOOZE else "",
        "user": (assignee.get_full_name() or assignee.get_username()) if assignee else "",
    }
    if unchanged and action == services.COMPLETE:
        message += " " + ngettext(
            "%(count)d was done already: nothing to do.", "%(count)d were done already: nothing to do.", unchanged
        ) % {"count": unchanged}
    elif unchanged:
        message += " " + ngettext("%(count)d was theirs already.", "%(count)d were theirs already.", unchanged) % {
            "count": unchanged
        }
    return message
