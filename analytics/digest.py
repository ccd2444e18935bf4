"""The executives' weekly digest (beat: analytics.weekly_digest): the week's SLA breaches and
satisfaction, the customers who churned in it with the revenue lost (their revenue in the published
run's 12 months), the concentration alert, and the top customers whose tier changed between the
two latest published runs. Read here, told through notifications.services.notify."""

import datetime

from django.contrib.auth import get_user_model
from django.db.models import Avg, Count, Q
from django.urls import reverse
from django.utils import timezone

from complaints.models import Complaint
from crm.models import Customer, Survey
from crm.roles import Role
from notifications import kinds
from notifications.services import notify

from .models import AnalysisRun, CustomerResult

TOP_CUSTOMERS = 20


def _published_runs() -> list[AnalysisRun]:
    return list(AnalysisRun.objects.filter(status=AnalysisRun.Status.SUCCEEDED).order_by("-published_at", "-id")[:2])


def digest_figures(*, now: datetime.datetime) -> dict:
    """What the week ending at `now` holds (see the module's docstring)."""
    start = now - datetime.timedelta(days=7)
    first_day, last_day = timezone.localdate(start), timezone.localdate(now)
    breaches = Complaint.objects.filter(
        Q(first_response_breached=True, first_response_due_at__gt=start, first_response_due_at__lte=now)
        | Q(resolution_breached=True, resolution_due_at__gt=start, resolution_due_at__lte=now)
    ).count()
    surveys = Survey.objects.filter(answered_on__gt=first_day, answered_on__lte=last_day).aggregate(
        mean=Avg("score"), answers=Count("id")
    )
    runs = _published_runs()
    run = runs[0] if runs else None
    churned_customers = Customer.objects.filter(
        status=Customer.Status.CHURNED, churned_on__gt=first_day, churned_on__lte=last_day
    ).order_by("code")
    revenue = (
        dict(
            CustomerResult.objects.filter(run=run, customer__in=churned_customers).values_list("customer_id", "revenue")
        )
        if run
        else {}
    )
    churned = [
        {"code": c.code, "name": c.name, "revenue_lost": revenue.get(c.pk), "reason": c.get_churn_reason_display()}
        for c in churned_customers
    ]
    tier_changes = []
    if len(runs) == 2:
        top = CustomerResult.objects.filter(run=run).select_related("customer").order_by("-revenue", "customer__code")
        top = list(top[:TOP_CUSTOMERS])
        before = dict(
            CustomerResult.objects.filter(run=runs[1], customer__in=[r.customer_id for r in top]).values_list(
                "customer_id", "tier"
            )
        )
        tier_changes = [
            {"code": r.customer.code, "name": r.customer.name, "before": before[r.customer_id], "after": r.tier}
            for r in top
            if r.customer_id in before and before[r.customer_id] != r.tier
        ]
    company = (run.company or {}) if run else {}
    return {
        "start": first_day + datetime.timedelta(days=1),  # the seven days after `first_day`, up to `last_day`
        "end": last_day,
        "sla_breaches": breaches,
        "satisfaction": surveys["mean"],
        "survey_answers": surveys["answers"],
        "churned": churned,
        "revenue_lost": sum((c["revenue_lost"] or 0) for c in churned),
        "concentration_alert": bool(company.get("concentration_alert")),
        "top1_share_pct": company.get("top1_share_pct"),
        "hhi": company.get("hhi"),
        "tier_changes": tier_changes,
        "run": run,
    }


def weekly_digest(*, now: datetime.datetime | None = None) -> int:
    """Tells each executive the week's digest, once per week (in the app, and by e-mail unless
    turned off); returns how many were told."""
    now = now or timezone.now()
    figures = digest_figures(now=now)
    year, week, _day = timezone.localdate(now).isocalendar()
    satisfaction = figures["satisfaction"]
    executives = get_user_model().objects.filter(groups__name=Role.EXECUTIVE.value, is_active=True).distinct()
    return len(
        notify(
            recipients=executives.order_by("pk"),
            kind=kinds.WEEKLY_DIGEST,
            args={
                "breaches": figures["sla_breaches"],
                "churned": len(figures["churned"]),
                "satisfaction": f"{satisfaction:.2f}" if satisfaction is not None else "—",
            },
            context={"figures": figures},
            link=reverse("analytics:dashboard"),
            key=f"week:{year}-{week:02d}",
        )
    )
