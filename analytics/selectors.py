"""Read side of the reports: stored report charts (built once per run, language and filter) and the
sales portfolio, all from the published run's results, never from the orders."""

import datetime
import json
import logging
import time

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum, TextField, Window
from django.db.models.functions import Cast, RowNumber
from django.utils import timezone, translation

from crm.models import Interaction

from .charts import CHARTS, VALUED_TIERS, Scope, profit_volume_points
from .models import AnalysisRun, CustomerResult, RunChart, Tier
from .services.scoring import top_share_count

logger = logging.getLogger(__name__)
POINTS = "profit_volume_points"  # the stored points of the profit-vs-volume chart (language-neutral)


# Raise when what a builder stores changes shape: charts stored by the previous code are then rebuilt.
CHARTS_VERSION = 7


def chart_key(name: str, *, scope: Scope, language: str | None) -> str:
    """RunChart.name: the chart, its language (none for language-neutral data), its filter and the
    version of the code that built it."""
    parts = [f"v{CHARTS_VERSION}", name]
    if language:
        parts.append(language)
    if scope.key:
        parts.append(scope.key)
    return ".".join(parts)


def _store(run: AnalysisRun, key: str, figure: dict) -> None:
    """Keeps a built chart; a second request that built it at the same moment loses quietly."""
    try:
        with transaction.atomic():
            RunChart.objects.create(run=run, name=key, figure=figure)
    except IntegrityError:  # stored meanwhile by another request, or the run was pruned: the figure still shows
        pass


def _company(run: AnalysisRun) -> dict:
    return AnalysisRun.objects.filter(pk=run.pk).values_list("company", flat=True).first() or {}


def report_charts(*, run: AnalysisRun, names: list[str], scope: Scope) -> dict[str, dict]:
    """The named charts of the run as stored dicts (figure, reading, columns, rows, extra, empty).

    One query when all are stored; a missing one is built (company figures read once) and stored,
    so it costs only its first reader. Filters apply to the charts that take them; the others are
    company-wide whatever the filter.
    """
    language = translation.get_language() or "en"
    keys = {
        name: chart_key(name, scope=scope if CHARTS[name].filtered else Scope(), language=language) for name in names
    }
    stored = dict(RunChart.objects.filter(run=run, name__in=keys.values()).values_list("name", "figure"))
    company = None
    for name, key in keys.items():
        if key in stored:
            continue
        if company is None:
            company = _company(run)
        started = time.perf_counter()
        chart = CHARTS[name].build(run, company, scope if CHARTS[name].filtered else Scope()).as_json()
        logger.info("report chart %s of run %s built in %.3f s", key, run.pk, time.perf_counter() - started)
        _store(run, key, chart)
        stored[key] = chart
    return {name: stored[key] for name, key in keys.items()}


def profit_volume_points_text(*, run: AnalysisRun, scope: Scope) -> str:
    """The stored points as JSON text, sent as they are (no parsing 100,000 points per request)."""
    key = chart_key(POINTS, scope=scope, language=None)
    text = (
        RunChart.objects.filter(run=run, name=key)
        .annotate(text=Cast("figure", output_field=TextField()))
        .values_list("text", flat=True)
        .first()
    )
    if text is None:
        points = profit_volume_points(run, scope)
        _store(run, key, points)
        text = json.dumps(points, separators=(",", ":"))
    return text


# ---------------------------------------------------------------------------------------- portfolio


def week_bounds(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    monday = today - datetime.timedelta(days=today.weekday())
    return monday, monday + datetime.timedelta(days=6)


def portfolio_results(*, run: AnalysisRun, owner) -> QuerySet[CustomerResult]:
    """The owner's customers in the run: a sales rep's portfolio."""
    return CustomerResult.objects.filter(run=run, customer__owner=owner)


def portfolio_tiers(*, run: AnalysisRun, owner) -> dict:
    """Per tier: customers, revenue, profit, and customers per recommended action (one query)."""
    summary = {
        tier: {"tier": tier, "label": Tier(tier).label, "customers": 0, "revenue": 0, "profit": 0, "actions": {}}
        for tier in Tier.values
    }
    rows = (
        portfolio_results(run=run, owner=owner)
        .order_by()
        .values_list("tier", "action")
        .annotate(n=Count("id"), sum_revenue=Sum("revenue"), sum_profit=Sum("profit"))
    )
    for tier, action, n, revenue, profit in rows.values_list("tier", "action", "n", "sum_revenue", "sum_profit"):
        entry = summary[tier]
        entry["customers"] += n
        entry["revenue"] += revenue or 0
        entry["profit"] += profit or 0
        if action:
            entry["actions"][action] = entry["actions"].get(action, 0) + n
    return summary


def portfolio_top_by_tier(*, run: AnalysisRun, owner, per_tier: int = 10) -> dict[str, list[CustomerResult]]:
    """The owner's largest customers by revenue in each tier (one query, a window per tier)."""
    ranked = (
        portfolio_results(run=run, owner=owner)
        .select_related("customer")
        .annotate(
            place=Window(
                RowNumber(), partition_by=[F("tier")], order_by=[F("revenue").desc(), F("customer__code").asc()]
            )
        )
        .filter(place__lte=per_tier)
        .order_by("tier", "place")
    )
    listed: dict[str, list] = {}
    for result in ranked:
        listed.setdefault(result.tier, []).append(result)
    return listed


def portfolio_neglected(*, run: AnalysisRun, owner, limit: int = 20) -> tuple[int, list[CustomerResult]]:
    """Core and key accounts (A, B) without an interaction in the 60 days to the run's as-of date,
    and none logged since: DESIGN's neglected accounts, as they stand today."""
    since_run = Interaction.objects.filter(customer_id=OuterRef("customer_id"), occurred_on__gt=run.as_of)
    neglected = (
        portfolio_results(run=run, owner=owner)
        .filter(tier__in=[Tier.A, Tier.B])
        .filter(Q(days_since_last_interaction__isnull=True) | Q(days_since_last_interaction__gte=60))
        .exclude(Exists(since_run))
    )
    count = neglected.count()
    listed = list(neglected.select_related("customer").order_by("-revenue", "customer__code")[:limit]) if count else []
    return count, listed


def top20_last_place(*, run: AnalysisRun) -> tuple | None:
    """(revenue, customer code) of the last customer in the run's top 20% by revenue (None when
    the run values nobody). The same for every portfolio and it reads the whole run (0.2-0.8 s at
    100,000 customers), so it is kept in the cache: a published run's results never change."""
    key = f"analytics:top20-last-place:{run.pk}:{run.published_at.isoformat() if run.published_at else ''}"
    cached = cache.get(key)
    if cached is not None:
        return cached or None
    valued = CustomerResult.objects.filter(run=run, tier__in=VALUED_TIERS)
    n = valued.count()
    last = ()
    if n:
        top = top_share_count(n, 20)  # as DESIGN counts the top 20%
        last = tuple(valued.order_by("-revenue", "customer__code").values_list("revenue", "customer__code")[top - 1])
    if run.status == AnalysisRun.Status.SUCCEEDED:
        cache.set(key, last, timeout=24 * 3600)
    return last or None


def portfolio_declining(*, run: AnalysisRun, owner, limit: int = 20) -> tuple[int, list[CustomerResult]]:
    """The owner's customers in the company's top 20% by revenue whose revenue fell more than 5%
    against the year before (the top-20% trend's declining ones), steepest fall first."""
    last = top20_last_place(run=run)
    if last is None:
        return 0, []
    in_top = Q(revenue__gt=last[0]) | Q(revenue=last[0], customer__code__lte=last[1])
    declining = portfolio_results(run=run, owner=owner).filter(tier__in=VALUED_TIERS).filter(in_top, growth_pct__lt=-5)
    count = declining.count()
    listed = (
        list(declining.select_related("customer").order_by("growth_pct", "customer__code")[:limit]) if count else []
    )
    return count, listed


def portfolio_follow_ups(
    *, owner, today: datetime.date | None = None, limit: int = 50
) -> tuple[int, list[Interaction]]:
    """Follow-ups on the owner's customers due by the end of this week (overdue ones included) that
    no later interaction with the customer has answered yet; earliest first."""
    today = today or timezone.localdate()
    _monday, sunday = week_bounds(today)
    answered = Interaction.objects.filter(customer_id=OuterRef("customer_id"), occurred_on__gt=OuterRef("occurred_on"))
    due = Interaction.objects.filter(
        customer__owner=owner, next_follow_up__isnull=False, next_follow_up__lte=sunday
    ).exclude(Exists(answered))
    count = due.count()
    listed = (
        list(due.select_related("customer", "by").order_by("next_follow_up", "customer__code")[:limit]) if count else []
    )
    return count, listed


def report_charts_warm(*, run: AnalysisRun) -> int:
    """Builds and stores every unfiltered report chart of the run in every language, so no reader
    pays for the first build. Meant to run once after publication (a task on the run's id);
    returns how many charts it had to build."""
    from django.conf import settings

    before = RunChart.objects.filter(run=run).count()
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            report_charts(run=run, names=list(CHARTS), scope=Scope())
    profit_volume_points_text(run=run, scope=Scope())
    return RunChart.objects.filter(run=run).count() - before
