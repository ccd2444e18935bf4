from django.contrib import messages
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.generic import TemplateView, View

from crm.roles import RoleRequiredMixin

from .forms import CostModelForm, ScoringModelForm, TierRulesForm
from .models import AnalysisRun, CostModel, ScoringModel, TierRules
from .services import runs, settings_versions


def run_status(run: AnalysisRun | None) -> dict | None:
    if run is None:
        return None
    return {
        "id": run.pk,
        "status": run.status,
        "status_label": str(run.get_status_display()),
        "progress": run.progress,
        "note": run.progress_note,
        "as_of": run.as_of.isoformat(),
        "finished": run.status in (AnalysisRun.Status.SUCCEEDED, AnalysisRun.Status.FAILED),
    }


class RunListView(RoleRequiredMixin, TemplateView):
    """Executives: what is published, what is running, the recompute button and the run history."""

    permission_required = "analytics.view_analysisrun"
    template_name = "analytics/runs.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["published"] = runs.published_run()
        context["active"] = runs.active_run()
        context["runs"] = AnalysisRun.objects.select_related("requested_by", "scoring_model", "cost_model", "tier_rules")[:20]
        return context


class RunStartView(RoleRequiredMixin, View):
    permission_required = "analytics.start_run"

    def post(self, request):
        run, created = runs.run_request(trigger=AnalysisRun.Trigger.MANUAL, by=request.user)
        if created:
            messages.success(request, _("Recompute started. The figures switch over when it is done."))
        else:
            messages.info(request, _("A run is already under way; it will publish when done."))
        return redirect("analytics:runs")


class RunStatusView(RoleRequiredMixin, View):
    """Polled by the progress bar."""

    permission_required = "analytics.view_analysisrun"

    def get(self, request, pk):
        return JsonResponse(run_status(get_object_or_404(AnalysisRun, pk=pk)))


class ModelSettingsView(RoleRequiredMixin, TemplateView):
    """Cost model, scoring model and tier rules. Saving makes a new version; runs keep theirs."""

    permission_required = "analytics.view_scoringmodel"
    template_name = "analytics/settings.html"
    FORMS = {"cost": CostModelForm, "tiers": TierRulesForm}

    def forms(self, data=None, which=None):
        scoring = ScoringModel.objects.latest()
        return {
            "cost": CostModelForm(data if which == "cost" else None, instance=CostModel.objects.latest()),
            "scoring": ScoringModelForm(data if which == "scoring" else None, current=scoring.weights),
            "tiers": TierRulesForm(data if which == "tiers" else None, instance=TierRules.objects.latest()),
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("forms", self.forms())
        context["can_change"] = self.request.user.has_perm("analytics.add_scoringmodel")
        context["scoring"] = ScoringModel.objects.latest()
        return context

    def post(self, request):
        if not request.user.has_perm("analytics.add_scoringmodel"):
            return self.handle_no_permission()
        which = request.POST.get("which")
        forms = self.forms(request.POST, which)
        form = forms.get(which)
        if form is None or not form.is_valid():
            return self.render_to_response(self.get_context_data(forms=forms), status=400)
        with transaction.atomic():
            settings_versions.save_version(which=which, data=form.cleaned_data, by=request.user)
        messages.success(request, _("Saved as a new version. The next run uses it."))
        return redirect("analytics:settings")
