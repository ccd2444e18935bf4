import datetime
import json
import re
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.generic import TemplateView, View

from complaints.selectors import Tab, complaint_queue
from core import jobs
from crm.exports import export_response
from crm.roles import Role, RoleRequiredMixin, user_roles
from tasks import rules as task_rules
from tasks import selectors as task_selectors

from . import gzipped, selectors
from .forms import CompareForm, CostModelForm, PortfolioOwnerForm, ReportFilterForm, ScoringModelForm, TierRulesForm
from .models import AnalysisRun, CostModel, CustomerResult, ScoringModel, Tier, TierRules, WhatIf
from .reports import CHARTS, PORTFOLIO_PERMISSION, REPORTS_PERMISSION, SECTIONS, Scope
from .reports import compare as compare_report
from .reports import portfolio as portfolio_report
from .reports import team as team_report
from .services import runs, settings_versions, whatif


class RunListView(RoleRequiredMixin, TemplateView):
    """Executives: what is published, what is running, the recompute button and the run history."""

    permission_required = "analytics.view_analysisrun"
    template_name = "analytics/runs.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["published"] = runs.published_run()
        context["active"] = runs.active_run()
        context["runs"] = AnalysisRun.objects.select_related(
            "requested_by", "scoring_model", "cost_model", "tier_rules"
        )[:20]
        return context


class RunStartView(RoleRequiredMixin, View):
    permission_required = "analytics.start_run"

    def post(self, request):
        run, created = runs.run_request(trigger=AnalysisRun.Trigger.MANUAL, by=request.user)
        if run.error == jobs.NOT_SENT:  # the broker did not take it: the run is failed, not waiting
            messages.error(request, _(jobs.NOT_SENT))
        elif created:
            messages.success(request, _("Recompute started. The figures switch over when it is done."))
        else:
            messages.info(request, _("A run is already under way; it will publish when done."))
        back = request.POST.get("next", "")
        if back and url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect(back)  # the report page the button was on, which then shows the progress
        return redirect("analytics:runs")


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
        if "forms" not in context:  # (setdefault would read the three settings again for nothing)
            context["forms"] = self.forms()
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
            _version, created = settings_versions.save_version(which=which, data=form.cleaned_data, by=request.user)
        if created:
            messages.success(request, _("Saved as a new version. The next run uses it."))
        else:
            messages.info(request, _("Nothing changed: no new version was saved."))
        return redirect("analytics:settings")


class WhatIfStartView(ModelSettingsView):
    """The settings forms' Preview: the draft checked by the same form, then a what-if job (nothing saved)."""

    permission_required = "analytics.add_scoringmodel"
    http_method_names = ["post"]

    def post(self, request):
        which = request.POST.get("which")
        forms = self.forms(request.POST, which)
        form = forms.get(which)
        if form is None or not form.is_valid():
            return self.render_to_response(self.get_context_data(forms=forms), status=400)
        try:
            job = whatif.whatif_request(which=which, cleaned=form.cleaned_data, by=request.user)
        except whatif.NothingToCompare:
            messages.error(request, _("No run is published yet, so there are no tiers to compare with."))
            return self.render_to_response(self.get_context_data(forms=forms), status=409)
        # If the broker did not take it, the job is failed (jobs.NOT_SENT) and its page says so.
        return redirect("analytics:whatif", pk=job.pk)


class WhatIfView(ModelSettingsView):
    """The settings page with a what-if preview: its progress, then the tiers it would change; the
    draft stays in its form, to Save as before. Its author's and the admins' only."""

    permission_required = "analytics.add_scoringmodel"

    def get(self, request, pk):
        self.job = get_object_or_404(WhatIf.objects.select_related("run"), pk=pk)
        if not whatif.JOB_KIND.visible_to(request.user, self.job):
            raise PermissionDenied
        return super().get(request)

    def get_context_data(self, **kwargs):
        kwargs.setdefault("forms", self.forms(self.job.draft, self.job.which))
        context = super().get_context_data(**kwargs)
        context["whatif"] = self.job
        if self.job.summary:
            context["whatif_matrix"] = whatif.matrix(self.job.summary)
            context["tiers"] = Tier.values
        return context


# ------------------------------------------------------------------------------------ reports


def scope_params(scope: Scope) -> dict:
    return {name: getattr(scope, name) for name in ("region", "industry", "owner") if getattr(scope, name) is not None}


class RunContextMixin:
    """The published run and the one under way, for the run-status bar of report pages."""

    def run_context(self) -> dict:
        return {"run": runs.published_run(), "active": runs.active_run()}


class ReportView(RoleRequiredMixin, RunContextMixin, TemplateView):
    """An executive report section: its charts read from the run's stored figures (built on first read)."""

    permission_required = REPORTS_PERMISSION
    template_name = "analytics/report.html"

    def get(self, request, section="value"):
        self.section = SECTIONS.get(section)
        if self.section is None:
            raise Http404
        self.form = ReportFilterForm(request.GET or None)
        if self.section.filtered and request.GET and not self.form.is_valid():
            response = self.render_to_response(self.get_context_data(scope=Scope()), status=400)
        else:
            scope = self.form.scope() if self.section.filtered else Scope()
            response = self.render_to_response(self.get_context_data(scope=scope))
        if "profit_volume" in self.section.charts:
            # Its WebGL points need script-src 'unsafe-eval' (settings.CSP_WEBGL_CHARTS), on this page only.
            response._csp_update = settings.CSP_WEBGL_CHARTS  # what django-csp's @csp_update sets
        return response

    def get_context_data(self, *, scope: Scope, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(self.run_context())
        context.update(
            section=self.section,
            sections=SECTIONS.values(),
            form=self.form,
            scope=scope,
            query=self.request.GET.urlencode(),
        )
        run = context["run"]
        if run is not None:
            stored = selectors.report_charts(run=run, names=list(self.section.charts), scope=scope)
            context["charts"] = [
                {"name": name, "spec": CHARTS[name], "dom_id": f"figure-{name}", **stored[name]}
                for name in self.section.charts
            ]
            if "profit_volume" in self.section.charts and not stored["profit_volume"]["empty"]:
                # The run and language in the address: the browser may keep the points until either changes.
                params = {"run": run.pk, "lang": translation.get_language(), **scope_params(scope)}
                context["points_url"] = reverse("analytics:report_profit_volume") + "?" + urlencode(params)
            context["point_labels"] = {
                "revenue": _("Revenue"),
                "profit": _("Profit"),
                "action": _("Action"),
                "owner": _("Owner"),
                "open": _("Open the customer"),
            }
        return context


class ProfitVolumePointsView(RoleRequiredMixin, View):
    """The profit-vs-volume chart, loaded by the page after it has shown: the translated frame and
    the run's stored points (compact typed arrays, sent as stored)."""

    permission_required = REPORTS_PERMISSION

    def get(self, request):
        form = ReportFilterForm(request.GET or None)
        if request.GET and not form.is_valid():
            return JsonResponse({"errors": form.errors}, status=400)
        scope = form.scope()
        run = runs.published_run()
        if run is None:
            return JsonResponse({"errors": {"run": [_("No analysis run has been published yet.")]}}, status=404)
        frame = selectors.report_charts(run=run, names=["profit_volume"], scope=scope)["profit_volume"]
        customer_url = json.dumps(reverse("crm:customer_detail", args=[0]))
        frame_json = json.dumps(frame, separators=(",", ":"))
        # The stored points first (POINTS_START), then what this request adds: the points are put in
        # whole rather than parsed and dumped again, and to a reader that takes gzip they go as
        # compressed when stored, only this small end compressed now (analytics.gzipped).
        end = f',"run":{run.pk:d},"customer_url":{customer_url},"frame":{frame_json}}}'.encode()
        if gzipped.accepts_gzip(request.headers.get("Accept-Encoding", "")):
            body = gzipped.closed(selectors.profit_volume_points_gzipped(run=run, scope=scope), end)
            response = HttpResponse(body, content_type="application/json")
            response["Content-Encoding"] = "gzip"
        else:
            points = selectors.profit_volume_points_text(run=run, scope=scope)
            response = HttpResponse((selectors.POINTS_START + points).encode() + end, content_type="application/json")
        patch_vary_headers(response, ["Accept-Encoding"])
        response["Cache-Control"] = "private, max-age=3600"  # the page asks with its run and language in the address
        return response


class ReportCustomerView(RoleRequiredMixin, View):
    """One customer's figures in the published run: what the chart's hover panel shows."""

    permission_required = REPORTS_PERMISSION

    def get(self, request, pk):
        run = runs.published_run()
        if run is None:
            raise Http404
        result = get_object_or_404(
            CustomerResult.objects.select_related("customer", "customer__owner"), run=run, customer_id=pk
        )
        customer = result.customer
        return JsonResponse(
            {
                "id": customer.pk,
                "code": customer.code,
                "name": customer.name,
                "tier": result.tier,
                "tier_label": str(result.get_tier_display()),
                "revenue": str(result.revenue),
                "profit": str(result.profit),
                "quadrant": str(result.get_quadrant_display()) if result.quadrant else "",
                "action": str(result.get_action_display()) if result.action else "",
                "protection": result.protection_reasons,
                "owner": customer.owner.get_username() if customer.owner else "",
                "url": customer.get_absolute_url(),
            }
        )


class ReportCSVView(RoleRequiredMixin, View):
    """A chart's data as CSV: the stored table, or for profit vs volume every plotted customer."""

    permission_required = REPORTS_PERMISSION

    def get(self, request, name):
        if name not in CHARTS:
            raise Http404
        form = ReportFilterForm(request.GET or None)
        if request.GET and not form.is_valid():
            return JsonResponse({"errors": form.errors}, status=400)
        scope = form.scope() if CHARTS[name].filtered else Scope()
        run = runs.published_run()
        if run is None:
            raise Http404(_("No analysis run has been published yet."))
        chart = selectors.report_charts(run=run, names=[name], scope=scope)[name]
        rows = CHARTS[name].export(run, scope) or chart["rows"]  # a card that stores its first rows streams all
        columns = chart["columns"] or [_("Note")]
        if not chart["columns"]:
            rows = [[chart["empty"]]]
        rows = ([number_cell(cell) for cell in row] for row in rows)
        return export_response("csv", columns, rows, name=f"{name.replace('_', '-')}-run{run.pk}")


NUMBER = re.compile(r"-?\d+(\.\d+)?")


def number_cell(cell):
    """Stored figures are strings; a number goes out as a number (a leading minus is not a formula)."""
    return Decimal(cell) if isinstance(cell, str) and NUMBER.fullmatch(cell) else cell


class PortfolioView(RoleRequiredMixin, RunContextMixin, TemplateView):
    """A sales rep's own customers: by tier with their actions, neglected accounts, declining top
    accounts and follow-ups due this week. Sales reps only ever see their own; executives pick one."""

    permission_required = PORTFOLIO_PERMISSION
    template_name = "analytics/portfolio.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(self.run_context())
        user = self.request.user
        roles = user_roles(user)
        is_sales = Role.SALES in roles and not user.has_perm(REPORTS_PERMISSION)
        if is_sales:
            owner, form = user, None
        else:
            form = PortfolioOwnerForm(self.request.GET or None)
            owner = form.cleaned_data["owner"] if form.is_valid() else None
        context.update(owner=owner, owner_form=form, is_own=owner == user, may_work_follow_ups=owner == user)
        run = context["run"]
        if owner is None:
            return context
        today = timezone.localdate()
        context["follow_ups_count"], context["follow_ups"] = portfolio_report.portfolio_follow_ups(
            owner=owner, today=today
        )
        context["week"] = portfolio_report.week_bounds(today)
        context["today"] = today
        if run is None:
            return context
        figures = portfolio_report.portfolio_cached(run=run, owner=owner)
        context.update(figures)
        context["neglected_count"], context["neglected"] = portfolio_report.portfolio_neglected(
            run=run, owner=owner, candidates=figures["neglected_candidates"]
        )
        # A "Create follow-up" per alert row, or the follow-up one made already (tasks; one query).
        listed = {r.customer_id for r in [*context["neglected"], *figures["declining"]]}
        alert_tasks = task_selectors.open_alert_tasks(customer_ids=listed)
        for source, results in (("neglected", context["neglected"]), ("declining", figures["declining"])):
            for result in results:
                result.alert_task = alert_tasks.get((result.customer_id, source))
        context["may_create_follow_ups"] = task_rules.can_create_on_customers_of(user, owner=owner, roles=roles)
        return context


# ---------------------------------------------------------------------------------- dashboard


class DashboardView(RoleRequiredMixin, TemplateView):
    """Executives' start page: the published run's headline figures and the complaint backlog,
    each linking to the page behind it. Reads the run's stored company figures (one row) and counts
    the open complaints in SQL: a handful of queries whatever the size of the company."""

    permission_required = REPORTS_PERMISSION
    template_name = "analytics/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = runs.published_run(with_company=True)
        context.update(run=run, active=runs.active_run(), complaints=dashboard_complaints(self.request.user))
        if run is not None:
            context["figures"] = dashboard_figures(run.company)
        return context


def dashboard_complaints(user) -> dict:
    return {
        "open": complaint_queue(user=user, tab=Tab.OPEN).count(),
        "breaching": complaint_queue(user=user, tab=Tab.BREACHING).count(),
        "open_tab": Tab.OPEN,
        "breaching_tab": Tab.BREACHING,
    }


def dashboard_figures(company: dict) -> dict:
    """The headline figures out of a run's company figures (money as Decimal, shares as numbers)."""
    tiers = company.get("tiers") or {}
    total = sum(tiers.values())
    quarters = company.get("churn_by_quarter") or []
    # The last whole month's ARPU: the as_of month counts only if as_of is its last day.
    as_of = datetime.date.fromisoformat(company["as_of"]) if company.get("as_of") else None
    partial = as_of.strftime("%Y-%m") if as_of and (as_of + datetime.timedelta(days=1)).month == as_of.month else None
    arpu = [month for month in company.get("arpu") or [] if month.get("arpu") is not None and month["month"] != partial]
    return {
        "as_of": company.get("as_of"),
        "revenue": Decimal(company["revenue"]) if company.get("revenue") is not None else None,
        "profit": Decimal(company["profit"]) if company.get("profit") is not None else None,
        "customers_with_orders": company.get("customers_with_orders"),
        "top1_share_pct": company.get("top1_share_pct"),
        "hhi": company.get("hhi"),
        "concentration_alert": bool(company.get("concentration_alert")),
        "top20_profit_share_pct": company.get("top20_profit_share_pct"),
        "tiers": [
            {"tier": tier, "label": Tier(tier).label, "customers": n, "pct": (100 * n / total) if total else 0}
            for tier, n in tiers.items()
        ],
        "churned_in_window": company.get("churned_in_window"),
        "churn_quarter": quarters[-1] if quarters else None,
        "revenue_lost": Decimal(company["revenue_lost"]) if company.get("revenue_lost") is not None else None,
        "arpu_month": arpu[-1] if arpu else None,
    }


# ------------------------------------------------------------------------------ compare and team


def compare_form(request, published: list) -> CompareForm:
    """The run picker, bound only when the address names a run (other parameters are not a pick)."""
    asked = "a" in request.GET or "b" in request.GET
    return CompareForm(request.GET if asked else None, runs=published)


class CompareView(RoleRequiredMixin, TemplateView):
    """Two published runs side by side (run A, run B; by default the one before the latest and the
    latest): tier migration, the top 20%'s share, concentration and churn. Three queries besides the
    login's: the published runs, and on the pair's first view the two runs' company figures and the
    migration (then kept in the cache)."""

    permission_required = REPORTS_PERMISSION
    template_name = "analytics/compare.html"

    def get(self, request):
        published = compare_report.compare_runs()
        form = compare_form(request, published)
        context = {"form": form, "runs_count": len(published), "latest": published[0] if published else None}
        if form.is_bound and not form.is_valid():
            return self.render_to_response(self.get_context_data(**context), status=400)
        if form.is_bound or len(published) >= 2:
            a, b = form.pair()
            cards = compare_report.compare_cached(a=a, b=b)
            context.update(run_a=a, run_b=b, cards=cards, query=urlencode({"a": a.pk, "b": b.pk}))
        return self.render_to_response(self.get_context_data(**context))


class CompareCSVView(RoleRequiredMixin, View):
    """A Compare card's rows as CSV, for the runs in the address (or the default pair)."""

    permission_required = REPORTS_PERMISSION

    def get(self, request, name):
        card = compare_report.CARDS.get(name)
        if card is None:
            raise Http404
        published = compare_report.compare_runs()
        form = compare_form(request, published)
        if form.is_bound and not form.is_valid():
            return JsonResponse({"errors": form.errors}, status=400)
        if not form.is_bound and len(published) < 2:
            columns, rows, file_name = [_("Note")], [[_("Compare needs two published runs.")]], f"compare-{name}"
        else:
            a, b = form.pair()
            built = card.build(compare_report.compare_pair(a=a, b=b))
            columns, rows = built["columns"] or [_("Note")], built["rows"] or [[built["empty"]]]
            file_name = f"compare-{name}-run{a.pk}-run{b.pk}"
        rows = ([number_cell(cell) for cell in row] for row in rows)
        return export_response("csv", columns, rows, name=file_name)


class TeamView(RoleRequiredMixin, RunContextMixin, TemplateView):
    """Executives compare sales reps in the published run: customers, revenue, profit, tier mix,
    neglected core and key accounts, overdue follow-ups; each rep opens their portfolio. A handful of
    queries whatever the number of reps or customers (one GROUP BY owner over the run's results)."""

    permission_required = REPORTS_PERMISSION
    template_name = "analytics/team.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(self.run_context())
        run = context["run"]
        if run is not None:
            reps = team_report.team_rows(run=run, today=timezone.localdate())
            context.update(
                reps=reps,
                figure=team_report.team_figure(reps),
                reading=team_report.team_reading(reps),
                tiers=team_report.TIER_MIX,
            )
        return context


class TeamCSVView(RoleRequiredMixin, View):
    """The Team table as CSV."""

    permission_required = REPORTS_PERMISSION

    def get(self, request):
        run = runs.published_run()
        if run is None:
            raise Http404(_("No analysis run has been published yet."))
        columns, rows = team_report.team_csv(team_report.team_rows(run=run, today=timezone.localdate()))
        rows = ([number_cell(cell) for cell in row] for row in rows)
        return export_response("csv", columns, rows, name=f"team-run{run.pk}")
