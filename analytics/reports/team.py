"""The Team page: executives compare sales reps. Per owner of customers: customers, revenue and profit
in the published run, the tier mix, the neglected core and key accounts and the overdue follow-ups;
a table sorted by profit (each rep opening their portfolio) and one bar chart of profit and revenue.

One GROUP BY owner over the run's results (every figure a FILTER of it, kept in the cache per run),
and per view one over the neglected accounts contacted since the run and one over the overdue
follow-ups, whatever the number of reps or customers. The neglected accounts and the follow-ups are
the portfolio page's (reports/portfolio.py), counted per owner instead of listed for one; the
follow-ups are tasks (tasks.Task) on the owner's customers, open or snoozed until a day that has
come, due before today: what My tasks lists as overdue.
"""

import datetime
from decimal import Decimal
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _

from core import display
from core.charts import chart_text, chart_texts
from crm.models import Interaction
from crm.selectors import sales_reps
from tasks.models import Task, due_q

from ..models import AnalysisRun, CustomerResult, Tier
from .cards import TIER_COLOURS, cents, chart, currency, pct_of, shown
from .portfolio import CACHED_FOR, NEGLECTED, ownership_version

TIER_MIX = (Tier.A, Tier.B, Tier.C, Tier.D)
PROFIT_COLOUR, REVENUE_COLOUR = TIER_COLOURS["A"], "#9cc3e6"


class Rep(NamedTuple):
    """One owner's figures; `owner` None for the customers nobody owns."""

    owner: object | None  # the user
    linked: bool  # a sales rep, whose portfolio the page opens
    customers: int
    revenue: Decimal
    profit: Decimal
    tiers: dict  # tier -> customers, for TIER_MIX
    neglected: int
    overdue: int

    @property
    def tier_list(self) -> list[tuple[str, int]]:
        return [(str(tier), self.tiers[tier]) for tier in TIER_MIX]

    @property
    def name(self) -> str:
        if self.owner is None:
            return _("No owner")
        full = self.owner.get_full_name()
        return f"{full} ({self.owner.get_username()})" if full else self.owner.get_username()


def team_run_figures(*, run: AnalysisRun) -> dict:
    """Owner id (None for nobody) -> customers, revenue, profit, customers per tier and neglected
    candidates (DESIGN's neglected accounts as of the run): one GROUP BY owner over the run's results,
    every figure a FILTER of it. Kept in the cache per run for a few minutes, as the portfolio keeps its
    figures (a reassigned customer moves at once: portfolio.ownership_version)."""
    published = run.published_at.isoformat() if run.published_at else ""
    key = f"analytics:team:{run.pk}:{published}:{ownership_version()}"
    found = cache.get(key)
    if found is None:
        figures = {
            "customers": Count("id"),
            "revenue": Sum("revenue", default=Decimal(0)),
            "profit": Sum("profit", default=Decimal(0)),
            "candidates": Count("id", filter=NEGLECTED),
            **{f"tier_{tier}": Count("id", filter=Q(tier=tier)) for tier in TIER_MIX},
        }
        owners = CustomerResult.objects.filter(run=run).order_by().values("customer__owner").annotate(**figures)
        found = {row.pop("customer__owner"): row for row in owners}
        if run.status == AnalysisRun.Status.SUCCEEDED:
            cache.set(key, found, timeout=CACHED_FOR)
    return found


def team_contacted(*, run: AnalysisRun) -> dict:
    """Owner id -> neglected candidates that an interaction logged after the run's as-of date has
    reached: they leave the neglected list at once, as on the portfolio (portfolio_neglected)."""
    since_run = Interaction.objects.filter(occurred_on__gt=run.as_of).values("customer_id")
    contacted = CustomerResult.objects.filter(NEGLECTED, run=run, customer_id__in=since_run)
    return dict(contacted.order_by().values_list("customer__owner").annotate(n=Count("id")))


def overdue_follow_ups(today: datetime.date):
    """Follow-ups not done whose day is before today (a snoozed one once its date has passed), as
    My tasks counts them overdue (tasks.models.due_q)."""
    return Task.objects.filter(due_q(today - datetime.timedelta(days=1)))


NOBODY = {"customers": 0, "revenue": Decimal(0), "profit": Decimal(0), "candidates": 0}


def team_rows(*, run: AnalysisRun, today: datetime.date) -> list[Rep]:
    """Every sales rep (with or without customers), every other owner of customers in the run, and the
    customers without one; most profitable first, the unowned last. Four queries, whatever the number
    of reps or customers: the reps, the run's figures by owner (from the cache after the first view),
    the neglected accounts contacted since the run by owner, the overdue follow-ups by owner."""
    reps = {user.pk: user for user in sales_reps()}
    found = team_run_figures(run=run)
    contacted = team_contacted(run=run)
    overdue = dict(overdue_follow_ups(today).order_by().values_list("customer__owner").annotate(n=Count("id")))
    others = [pk for pk in found if pk is not None and pk not in reps]
    if others:  # an owner who is no (longer an active) sales rep: named, not linked
        reps |= {user.pk: user for user in get_user_model().objects.filter(pk__in=others)}
    sales = {pk for pk in reps if pk not in others}
    rows = []
    for pk in [*reps, None]:
        if pk is None and pk not in found:
            continue
        row = found.get(pk) or NOBODY
        rows.append(
            Rep(
                owner=reps.get(pk),
                linked=pk in sales,
                customers=row["customers"],
                revenue=row["revenue"],
                profit=row["profit"],
                tiers={tier: row.get(f"tier_{tier}", 0) for tier in TIER_MIX},
                neglected=row["candidates"] - contacted.get(pk, 0),
                overdue=overdue.get(pk, 0),
            )
        )
    return sorted(rows, key=lambda rep: (rep.owner is None, -rep.profit, rep.name))


def team_figure(reps: list[Rep]) -> dict | None:
    """Profit and revenue per rep, side by side, largest profit on top."""
    shown_reps = [rep for rep in reps if rep.owner is not None and rep.customers]
    if not shown_reps:
        return None
    names = chart_texts(rep.name for rep in shown_reps)
    bars = []
    for key, label, colour in (("profit", _("Profit"), PROFIT_COLOUR), ("revenue", _("Revenue"), REVENUE_COLOUR)):
        values = [getattr(rep, key) for rep in shown_reps]
        bars.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": chart_text(label),
                "y": names,
                "x": [float(value) for value in values],
                "hovertext": [shown(value) for value in values],
                "marker": {"color": colour},
                "hovertemplate": "%{y}: %{hovertext}<extra>" + chart_text(label) + "</extra>",
            }
        )
    return chart(
        bars,
        barmode="group",
        height=max(260, 56 * len(shown_reps) + 90),
        yaxis={"autorange": "reversed", "automargin": True},
        xaxis={"title": {"text": currency()}, "separatethousands": True},
        margin={"l": 10},
    )


def team_reading(reps: list[Rep]) -> list[str]:
    """What the table says, in numbers: who earns the most, who loses, where accounts are neglected."""
    owned = [rep for rep in reps if rep.owner is not None and rep.customers]
    if not owned:
        return []
    total_profit = sum((rep.profit for rep in reps), Decimal(0))
    best = owned[0]  # reps come most profitable first
    reading = [
        _("%(rep)s's customers earn the most: %(profit)s %(currency)s of profit on %(revenue)s of revenue.")
        % {"rep": best.name, "profit": shown(best.profit), "revenue": shown(best.revenue), "currency": currency()}
    ]
    share = pct_of(best.profit, total_profit) if total_profit > 0 else None
    if share is not None:
        reading[0] += " " + _("That is %(share)s%% of the company's profit.") % {"share": display.number(share, 1)}
    losing = [rep for rep in owned if rep.profit < 0]
    if losing:
        reading.append(
            _("%(count)s reps' customers lose money together; the most: %(rep)s, %(loss)s %(currency)s.")
            % {
                "count": f"{len(losing):,}",
                "rep": losing[-1].name,
                "loss": shown(-losing[-1].profit),
                "currency": currency(),
            }
        )
    neglected = sum(rep.neglected for rep in reps)
    if neglected:
        worst = max(owned, key=lambda rep: (rep.neglected, rep.revenue))
        reading.append(
            _("%(count)s core and key accounts (A, B) have had no contact in 60 days; %(rep)s has the most (%(most)s).")
            % {"count": f"{neglected:,}", "rep": worst.name, "most": f"{worst.neglected:,}"}
        )
    else:
        reading.append(_("Every core and key account (A, B) has been in touch in the last 60 days."))
    overdue = sum(rep.overdue for rep in reps)
    if overdue:
        reading.append(_("%(count)s follow-ups are overdue.") % {"count": f"{overdue:,}"})
    return reading


def team_csv(reps: list[Rep]) -> tuple[list, list]:
    columns = [
        _("Sales rep"),
        _("Customers"),
        _("Revenue"),
        _("Profit"),
        *(f"{_('Tier')} {tier}" for tier in TIER_MIX),
        _("Neglected A/B accounts"),
        _("Overdue follow-ups"),
    ]
    rows = [
        [
            rep.owner.get_username() if rep.owner is not None else "",
            rep.customers,
            cents(rep.revenue),
            cents(rep.profit),
            *(rep.tiers[tier] for tier in TIER_MIX),
            rep.neglected,
            rep.overdue,
        ]
        for rep in reps
    ]
    return columns, rows
