"""The complaint board (issue 19): the pipeline by state, and moving a card through the workflow.

Everyone who reads complaints sees the board; a card moves only for someone who may work it, only
along TRANSITIONS, and only through `workflow.complaint_transition` with its guards and its "nobody
moved it meanwhile" check (expected_state). A move that needs facts opens its form on the board
(`?move=<pk>&to=<state>`); a refused move leaves the card where it was and says why on the board.
Moves answer a script (board.js, Accept: application/json) with JSON, a form with a redirect.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from crm.roles import RoleRequiredMixin

from .board import SCOPES, Scope, board_card, board_columns, board_complaints, needs_fields
from .filters import ComplaintFilter
from .forms import TransitionForm
from .models import OPEN_STATES, Complaint, State
from .workflow import (
    CONFIRM_MESSAGES,
    AssignmentError,
    ComplaintRefused,
    TransitionError,
    action_label,
    allowed_transitions,
    check_may_work,
    complaint_transition,
    required_details,
)

SCOPE_LABELS = {
    Scope.MINE: gettext_lazy("Mine"),
    Scope.UNASSIGNED: gettext_lazy("Unassigned"),
    Scope.ALL: gettext_lazy("All"),
}
# What the board keeps in its address besides the open move: the scope and the queue's filters.
BOARD_PARAMS = ("scope", "q", "severity", "category")


class BoardFilter(ComplaintFilter):
    """The queue's filters less the state, which the board's columns are."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters.pop("state", None)


class BoardMixin:
    def scope(self) -> str:
        default = Scope.MINE if self.request.user.has_perm("complaints.work_complaint") else Scope.ALL
        scope = self.request.GET.get("scope") or default
        if scope not in SCOPES:
            raise Http404(_("Unknown tab."))
        return scope

    def board_query(self) -> str:
        """The board's own address parameters (scope and filters), to come back to the same board."""
        return urlencode([(name, self.request.GET[name]) for name in BOARD_PARAMS if self.request.GET.get(name)])

    def board_url(self) -> str:
        query = self.board_query()
        return reverse("complaints:board") + (f"?{query}" if query else "")

    def queue_url(self, state: str, scope: str) -> str:
        """The queue showing a column's complaints: the same filters, that state; the queue's "mine"
        and "unassigned" tabs hold open complaints only, so the other states go to "all"."""
        tab = scope if scope != Scope.ALL and state in OPEN_STATES else ("open" if state in OPEN_STATES else "all")
        params = [("tab", tab), ("state", state)]
        params += [
            (name, self.request.GET[name]) for name in ("q", "severity", "category") if self.request.GET.get(name)
        ]
        return reverse("complaints:queue") + "?" + urlencode(params)

    def move_form(self, complaint: Complaint, to: str, data=None) -> TransitionForm:
        """The form of one move on the board. Shown with the complaint, so the facts it needs are
        marked required; no `required` attribute, so a missing fact reaches the workflow's guard,
        whose message the board shows. Bound, it is read without the complaint for the same reason."""
        if data is not None:
            return TransitionForm(data, auto_id="id_move_%s", use_required_attribute=False)
        return TransitionForm(
            initial={"to": to, "expected_state": complaint.state},
            complaint=complaint,
            auto_id="id_move_%s",
            use_required_attribute=False,
        )

    def board_context(self, *, panel=None) -> dict:
        scope = self.scope()
        board_filter = BoardFilter(
            self.request.GET or None, queryset=board_complaints(user=self.request.user, scope=scope)
        )
        complaints = board_filter.qs if board_filter.is_bound and board_filter.is_valid() else board_filter.queryset
        columns = board_columns(user=self.request.user, complaints=complaints)
        for column in columns:
            column.queue_url = self.queue_url(column.state, scope)
        query = self.board_query()
        return {
            "columns": columns,
            "filter": board_filter,
            "scopes": [(key, SCOPE_LABELS[key]) for key in SCOPES],
            "current_scope": scope,
            "board_query": query,
            "board_url": self.board_url(),
            "panel": panel,
            "total": sum(column.count for column in columns),
        }

    def panel(self, complaint: Complaint, to: str, form: TransitionForm) -> dict:
        confirm = CONFIRM_MESSAGES.get(to)
        return {
            "complaint": complaint,
            "to": to,
            "to_label": State(to).label,
            "label": action_label(complaint, to),
            "form": form,
            "confirm": confirm % {"number": complaint.number} if confirm else "",
        }


class ComplaintBoardView(RoleRequiredMixin, BoardMixin, TemplateView):
    """The board. With `?move=<pk>&to=<state>` it opens the form of that move above the columns."""

    permission_required = "complaints.view_complaint"
    template_name = "complaints/board.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **self.board_context(panel=self.requested_panel())}

    def requested_panel(self):
        pk, to = self.request.GET.get("move"), self.request.GET.get("to", "")
        if not pk:
            return None
        if not pk.isdigit():
            raise Http404(_("No such complaint."))
        complaint = get_object_or_404(Complaint.objects.select_related("customer", "assignee"), pk=pk)
        try:
            check_may_work(self.request.user, complaint)
        except AssignmentError as refused:
            messages.error(self.request, " ".join(refused.messages))
            return None
        if to not in allowed_transitions(complaint):
            messages.error(self.request, _refused_move(complaint, to))
            return None
        return self.panel(complaint, to, self.move_form(complaint, to))


def _refused_move(complaint: Complaint, to: str) -> str:
    """The workflow's own words for a move TRANSITIONS does not allow."""
    to_label = State(to).label if to in State.values else to
    return _("A complaint that is “%(from)s” cannot move to “%(to)s”.") % {
        "from": complaint.get_state_display(),
        "to": to_label,
    }


class ComplaintBoardMoveView(RoleRequiredMixin, BoardMixin, TemplateView):
    """Moves one card: POST to, expected_state (the state the board showed) and the move's facts.

    `quick` (the card's own Move control, or a drop): a move that needs fields opens its form on the
    board instead (nothing moves). Otherwise the workflow decides: a guard's refusal shows the form
    again with the guard's messages (400); a stale or disallowed move shows the board with the
    workflow's reason at the top (400), someone else's the same (403). A script gets JSON."""

    permission_required = "complaints.work_complaint"
    template_name = "complaints/board.html"
    http_method_names = ["post"]

    def wants_json(self) -> bool:
        return "application/json" in self.request.headers.get("Accept", "")

    def post(self, request, pk):
        complaint = get_object_or_404(Complaint.objects.select_related("customer", "assignee"), pk=pk)
        to = request.POST.get("to", "")
        quick = request.POST.get("quick") and request.POST.get("expected_state") == complaint.state  # else: stale
        if quick and to in allowed_transitions(complaint) and needs_fields(complaint, to):
            url = self.board_url()
            url += ("&" if "?" in url else "?") + urlencode({"move": complaint.pk, "to": to}) + "#move-panel"
            if self.wants_json():
                return JsonResponse({"ok": False, "open": url})
            return redirect(url)
        form = self.move_form(complaint, to, data=request.POST)
        try:
            if not form.is_valid():  # a fact in the wrong shape (a date, an unknown complaint number)
                check_may_work(request.user, complaint)
                if to not in allowed_transitions(complaint):
                    raise TransitionError(_refused_move(complaint, to))
                return self.form_refused(complaint, to, form)
            # The mover works the complaint: checked on the locked row, and it becomes theirs if nobody worked it.
            moved = complaint_transition(complaint=complaint, by=request.user, as_worker=True, **form.cleaned_data)
        except ComplaintRefused as refused:
            if isinstance(refused, TransitionError) and hasattr(refused, "error_dict"):  # a guard: facts missing
                for name, errors in refused.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
                return self.form_refused(complaint, to, form)
            return self.refused(refused.messages, status=403 if isinstance(refused, AssignmentError) else 400)
        message = _("Complaint %(number)s is now “%(state)s”.") % {"number": moved.number, "state": State(to).label}
        if self.wants_json():
            moved = Complaint.objects.select_related("customer", "assignee").get(pk=moved.pk)
            card = render_to_string(
                "complaints/board_card.html",
                {"card": board_card(complaint=moved, user=request.user), "board_query": self.board_query()},
                request=request,
            )
            return JsonResponse({"ok": True, "message": message, "state": moved.state, "card": card})
        messages.success(request, message)
        return redirect(self.board_url())

    def form_refused(self, complaint: Complaint, to: str, form: TransitionForm):
        """The card stays; the move's form opens again on the board with the reasons beside its fields."""
        if self.wants_json():
            texts = [text for errors in form.errors.values() for text in errors]
            return JsonResponse({"ok": False, "errors": texts}, status=400)
        for name in required_details(complaint, to):
            if name in form.fields:
                form.fields[name].required = True  # marked as on the form first shown
        context = self.get_context_data(**self.board_context(panel=self.panel(complaint, to, form)))
        return self.render_to_response(context, status=400)

    def refused(self, texts: list[str], *, status: int):
        """The card stays; the board says why at the top (stale, not allowed, not theirs)."""
        if self.wants_json():
            return JsonResponse({"ok": False, "errors": texts}, status=status)
        for text in texts:
            messages.error(self.request, text)
        return self.render_to_response(self.get_context_data(**self.board_context()), status=status)
