"""The sales portfolio page: a sales rep's customers by tier with their actions, their largest
customers per tier, the neglected core and key accounts, the declining top accounts and the
follow-ups due this week.

What comes from the run (`portfolio_figures`: one aggregate with a FILTER per figure, the top
customers per tier, the declining accounts, the neglected candidates) is read once and kept in the
cache per run, owner and language for a few minutes: a rep with 18,638 customers cost 1.5-2.5 s of
database time per view when each view read it again. What changes between runs is read on every
view: interactions logged since the run (they take an account off the neglected list at once) and
the follow-ups due.
"""

import datetime
import uuid

from django.core.cache import cache
from django.db.models import Count, F, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone, translation

from crm.models import Interaction
from tasks.models import Task
from tasks.selectors import due_this_week, week_end

from ..models import Action, AnalysisRun, CustomerResult, Tier
from ..services.core import top_share_count
from .cards import VALUED_TIERS
from .tiers import tier_bars

CACHED_FOR = 10 * 60  # seconds: a renamed customer shows within minutes; a reassigned one at once (ownership_version)
PER_TIER = 10  # the largest customers listed per tier
LISTED = 20  # neglected and declining accounts listed
# DESIGN's neglected accounts: core and key accounts (A, B) without an interaction in the 60 days to the run's as-of date.
NEGLECTED = Q(tier__in=[Tier.A, Tier.B]) & (
    Q(days_since_last_interaction__isnull=True) | Q(days_since_last_interaction__gte=60)
)


OWNERSHIP_KEY = "analytics:ownership"


def ownership_version() -> str:
    """A token that changes whenever customers change owner (ownership_changed): part of the cache
    keys of the figures kept per owner (the portfolio's, the team's), so none outlives a reassignment."""
    return cache.get_or_set(OWNERSHIP_KEY, lambda: uuid.uuid4().hex, timeout=None)


def ownership_changed() -> None:
    """Customers changed owner (crm.signals.customer_owners_changed): every figure kept per owner is stale."""
    cache.set(OWNERSHIP_KEY, uuid.uuid4().hex, timeout=None)


def portfolio_results(*, run: AnalysisRun, owner) -> QuerySet[CustomerResult]:
    """The owner's customers in the run: a sales rep's portfolio."""
    return CustomerResult.objects.filter(run=run, customer__owner=owner)


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


def _declining(last: tuple | None) -> Q:
    """In the company's top 20% by revenue and more than 5% down against the year before."""
    if last is None:
        return Q(pk__in=[])
    in_top = Q(revenue__gt=last[0]) | Q(revenue=last[0], customer__code__lte=last[1])
    return Q(tier__in=VALUED_TIERS) & in_top & Q(growth_pct__lt=-5)


def portfolio_tiers(*, run: AnalysisRun, owner, declining: Q) -> tuple[dict, int]:
    """Per tier: customers, revenue, profit and customers per recommended action; and how many are
    `declining`. One aggregate over the owner's results, a FILTER per figure."""
    figures = {"declining": Count("id", filter=declining)}
    for tier in Tier.values:
        figures |= {
            f"{tier}.customers": Count("id", filter=Q(tier=tier)),
            f"{tier}.revenue": Sum("revenue", filter=Q(tier=tier), default=0),
            f"{tier}.profit": Sum("profit", filter=Q(tier=tier), default=0),
        }
        figures |= {f"{tier}.{action}": Count("id", filter=Q(tier=tier, action=action)) for action in Action.values}
    found = portfolio_results(run=run, owner=owner).aggregate(**figures)
    summary = {
        tier: {
            "tier": tier,
            "label": str(Tier(tier).label),
            **{name: found[f"{tier}.{name}"] for name in ("customers", "revenue", "profit")},
            "actions": {action: found[f"{tier}.{action}"] for action in Action.values if found[f"{tier}.{action}"]},
        }
        for tier in Tier.values
    }
    for entry in summary.values():
        entry["action_list"] = [(code, str(Action(code).label), n) for code, n in sorted(entry["actions"].items())]
    return summary, found["declining"]


def portfolio_top_by_tier(*, run: AnalysisRun, owner) -> dict[str, list[CustomerResult]]:
    """The owner's largest customers by revenue in each tier: ranked on the narrow columns (a window
    per tier), then the few listed read whole (two queries: one over the whole portfolio's columns
    took half again as long)."""
    place = Window(RowNumber(), partition_by=[F("tier")], order_by=[F("revenue").desc(), F("customer__code").asc()])
    ranked = portfolio_results(run=run, owner=owner).annotate(place=place).filter(place__lte=PER_TIER)
    listed: dict[str, list] = {}
    top = CustomerResult.objects.filter(pk__in=list(ranked.values_list("pk", flat=True))).select_related("customer")
    for result in top.order_by("tier", "-revenue", "customer__code"):
        listed.setdefault(result.tier, []).append(result)
    return listed


def portfolio_figures(*, run: AnalysisRun, owner) -> dict:
    """What the run says of the owner's portfolio (four queries, and the top-20% line from the cache)."""
    declining = _declining(top20_last_place(run=run))
    summary, declining_count = portfolio_tiers(run=run, owner=owner, declining=declining)
    by_tier = {t: (e["customers"], e["revenue"], e["profit"]) for t, e in summary.items() if e["customers"]}
    results = portfolio_results(run=run, owner=owner).select_related("customer")
    neglected = portfolio_results(run=run, owner=owner).filter(NEGLECTED).order_by("-revenue", "customer__code")
    return {
        "tiers": list(summary.values()),
        "customers_total": sum(entry["customers"] for entry in summary.values()),
        "tier_figure": tier_bars(by_tier, height=280) if by_tier else None,
        "top_by_tier": portfolio_top_by_tier(run=run, owner=owner) if by_tier else {},
        "declining_count": declining_count,
        "declining": list(results.filter(declining).order_by("growth_pct", "customer__code")[:LISTED])
        if declining_count
        else [],
        "neglected_candidates": list(neglected.values_list("customer_id", flat=True)) if by_tier else [],
    }


def portfolio_cached(*, run: AnalysisRun, owner) -> dict:
    """portfolio_figures, from the cache when this run, owner and language were read in the last minutes
    and no customer changed owner since (ownership_version)."""
    published = run.published_at.isoformat() if run.published_at else ""
    key = f"analytics:portfolio:{run.pk}:{published}:{ownership_version()}:{owner.pk}:{translation.get_language()}"
    figures = cache.get(key)
    if figures is None:
        figures = portfolio_figures(run=run, owner=owner)
        if run.status == AnalysisRun.Status.SUCCEEDED:
            cache.set(key, figures, timeout=CACHED_FOR)
    return figures


def portfolio_neglected(*, run: AnalysisRun, owner, candidates: list[int]) -> tuple[int, list[CustomerResult]]:
    """The neglected accounts as they stand today: the run's candidates (ids, largest first) that no
    interaction logged since the run's as-of date has reached (one query, two when any is listed)."""
    if not candidates:
        return 0, []
    since_run = Interaction.objects.filter(customer__owner=owner, occurred_on__gt=run.as_of)
    contacted = set(since_run.values_list("customer_id", flat=True))
    neglected = [pk for pk in candidates if pk not in contacted]
    shown = neglected[:LISTED]
    found = {
        r.customer_id: r
        for r in CustomerResult.objects.filter(run=run, customer_id__in=shown).select_related("customer")
    }
    return len(neglected), [found[pk] for pk in shown if pk in found]


def week_bounds(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The Monday and the Sunday of `today`'s week: the week whose follow-ups the portfolio lists
    (tasks.selectors.week_end, the one definition of its end)."""
    return today - datetime.timedelta(days=today.weekday()), week_end(today)


def portfolio_follow_ups(*, owner, today: datetime.date | None = None, limit: int = 50) -> tuple[int, list[Task]]:
    """The follow-ups (tasks.Task) assigned to the owner to act on by the end of this week: open ones
    due by Sunday and snoozed ones whose day has come, overdue first; how many, and the first few."""
    return due_this_week(assignee=owner, today=today or timezone.localdate(), limit=limit)
