"""The Compare page: two published runs side by side, run A (the earlier, by default) and run B:
tier migration from A to B (a Sankey), the top 20%'s share of profit, revenue concentration and
churn, each a card with its figure, plain-language reading and CSV over the rows its query read.

Migration is one GROUP BY (tier in A, tier in B) over every customer joined to its result in each
run; the other cards read the two runs' stored company figures (one query for both), so every
figure is the run's own definition (services/core.py), not a second one. Shares and churn are
whole-company figures: the report filters do not apply here.
"""

import datetime
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.core.cache import cache
from django.db.models import Case, CharField, Count, F, FilteredRelation, Q, Value, When
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import display
from core.charts import chart_text, chart_texts
from crm.models import Customer

from ..models import AnalysisRun, Tier
from .cards import TIER_COLOURS, chart, currency, number
from .cards import tier_label as label_of
from .tiers import TIER_ORDER, MigrationCard, direction

CACHED_FOR = 24 * 3600  # seconds: a published run never changes; older runs are pruned after a dozen more
RUN_COLOURS = ("#8a94a6", "#2f6db5")  # run A grey, run B blue: the later picture stands out
SETTINGS = (
    ("scoring_model_id", gettext_lazy("the scoring model")),
    ("cost_model_id", gettext_lazy("the cost model")),
    ("tier_rules_id", gettext_lazy("the tier rules")),
)


class Pair(NamedTuple):
    """The two runs compared and their stored company figures."""

    a: AnalysisRun
    b: AnalysisRun
    company_a: dict
    company_b: dict

    @property
    def same_as_of(self) -> bool:
        return self.a.as_of == self.b.as_of

    @property
    def changed_settings(self) -> list[str]:
        """The settings run B used that differ from run A's, as words."""
        return [str(name) for field, name in SETTINGS if getattr(self.a, field) != getattr(self.b, field)]


# ------------------------------------------------------------------------------------------ reading runs


def compare_runs() -> list[AnalysisRun]:
    """The published runs a person can compare, latest first (their company figures left out)."""
    published = AnalysisRun.objects.filter(status=AnalysisRun.Status.SUCCEEDED)
    return list(published.order_by("-published_at", "-id").defer("company", "timings"))


def compare_pair(*, a: AnalysisRun, b: AnalysisRun) -> Pair:
    """The pair with both runs' company figures (one query)."""
    company = dict(AnalysisRun.objects.filter(pk__in=[a.pk, b.pk]).values_list("pk", "company"))
    return Pair(a, b, company.get(a.pk) or {}, company.get(b.pk) or {})


def run_label(run: AnalysisRun) -> str:
    return _("Run #%(id)s, as of %(date)s") % {"id": run.pk, "date": display.day(run.as_of)}


def run_choice_label(run: AnalysisRun) -> str:
    """How the run picker names a run: its number and as-of date (short: the picker fits a phone)."""
    return _("#%(id)s · as of %(date)s") % {"id": run.pk, "date": display.day(run.as_of)}


def change(before, after, places: int = 1) -> str:
    """A signed difference as a reading writes it: +2.5, −1.0, 0.0; — when either is missing."""
    if before is None or after is None:
        return "—"
    difference = Decimal(after) - Decimal(before)
    text = number(abs(difference), places)
    return f"+{text}" if difference > 0 else f"−{text}" if difference < 0 else text


def plain(value, places: int = 4) -> str:
    """A figure for a CSV cell: exact to `places`, half-up, no grouping (a spreadsheet reads it as a number)."""
    return "" if value is None else str(Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _pct(company: dict, key: str) -> Decimal | None:
    value = company.get(key)
    return None if value is None else Decimal(str(value))


class CompareCard:
    """A card of the Compare page: `rows` reads the pair once (None: the card says `empty`), and the
    figure, the reading and the CSV ((columns, rows)) are separate functions of those rows."""

    name: str
    title: str
    help = ""
    empty = ""

    def rows(self, pair: Pair):
        raise NotImplementedError

    def figure(self, rows, pair: Pair) -> dict | None:
        return None

    def reading(self, rows, pair: Pair) -> list[str]:
        return []

    def csv(self, rows, pair: Pair) -> tuple[list, list]:
        raise NotImplementedError

    def note(self, rows, pair: Pair) -> str:
        return ""

    def extra(self, rows, pair: Pair) -> dict:
        return {}

    def build(self, pair: Pair) -> dict:
        data = self.rows(pair)
        if not data:
            empty = {"figure": None, "reading": [], "columns": [], "rows": [], "note": "", "extra": {}}
            return empty | {"empty": str(self.empty)}
        columns, rows = self.csv(data, pair)
        return {
            "figure": self.figure(data, pair),
            "reading": self.reading(data, pair),
            "columns": [str(column) for column in columns],
            "rows": rows,
            "note": self.note(data, pair),
            "extra": self.extra(data, pair),
            "empty": "",
        }


# ------------------------------------------------------------------------------------------ migration

NOT_IN_RUN = "none"  # the tier code of a customer the run did not count (created after it started, say)
MIGRATION_ORDER = (NOT_IN_RUN, *Tier.values)


def migration_counts(moves: list[tuple]) -> Counter:
    """Customers by kind of move: up, down or same tier (A-D), from_prospect (P to a tier),
    to_prospect (a tier to P), new (not in run A), gone (not in run B)."""
    counts = Counter()
    for source, target, n in moves:
        if source == NOT_IN_RUN:
            kind = "new"
        elif target == NOT_IN_RUN:
            kind = "gone"
        elif source == target:
            kind = "same"
        elif source in TIER_ORDER and target in TIER_ORDER:
            kind = direction(source, target)
        else:
            kind = "from_prospect" if source == Tier.P else "to_prospect"
        counts[kind] += n
    return counts


def counted_tier(run: AnalysisRun, relation: str) -> Case | F:
    """The customer's tier in the run, or null when the run did not count it: no row, or only the
    stand-in prospect row of a customer created after the run started (storage.add_prospects), as
    the run's own migration counts it (readers.previous_tiers)."""
    tier = F(f"{relation}__tier")
    if run.started_at is None:
        return tier
    return Case(When(created_at__lte=run.started_at, then=tier), default=Value(None), output_field=CharField())


class MigrationCompareCard(CompareCard):
    name = "migration"
    title = gettext_lazy("Tier migration")
    help = gettext_lazy("Every customer from its tier in run A (left) to its tier in run B (right).")
    empty = gettext_lazy("Neither run has any customer.")

    def rows(self, pair: Pair) -> list[tuple] | None:
        """(tier in run A, tier in run B, customers), NOT_IN_RUN for a customer one run lacks: one
        GROUP BY over every customer joined to its result in each run."""
        moves = (
            Customer.objects.annotate(
                in_a=FilteredRelation("results", condition=Q(results__run_id=pair.a.pk)),
                in_b=FilteredRelation("results", condition=Q(results__run_id=pair.b.pk)),
            )
            .annotate(tier_a=counted_tier(pair.a, "in_a"), tier_b=counted_tier(pair.b, "in_b"))
            .filter(Q(tier_a__isnull=False) | Q(tier_b__isnull=False))
            .order_by()
            .values_list("tier_a", "tier_b")
            .annotate(customers=Count("pk"))
        )
        found = [(source or NOT_IN_RUN, target or NOT_IN_RUN, n) for source, target, n in moves]
        return sorted(found, key=lambda m: (MIGRATION_ORDER.index(m[0]), MIGRATION_ORDER.index(m[1]))) or None

    @staticmethod
    def node_label(tier: str, pair_run: AnalysisRun, n: int) -> str:
        name = _("Not in run #%(id)s") % {"id": pair_run.pk} if tier == NOT_IN_RUN else label_of(tier)
        return f"{name} ({n:,})"

    def figure(self, moves: list[tuple], pair: Pair) -> dict:
        totals_a, totals_b = Counter(), Counter()
        for source, target, n in moves:
            totals_a[source] += n
            totals_b[target] += n
        sources = [t for t in MIGRATION_ORDER if totals_a[t]]
        targets = [t for t in MIGRATION_ORDER if totals_b[t]]
        labels = [self.node_label(t, pair.a, totals_a[t]) for t in sources]
        labels += [self.node_label(t, pair.b, totals_b[t]) for t in targets]
        colours = [TIER_COLOURS.get(t, "#6b7785") for t in (*sources, *targets)]
        kinds = [
            direction(s, t) if s in TIER_ORDER and t in TIER_ORDER else "same" if s == t else "other"
            for s, t, _n in moves
        ]
        link_colours = MigrationCard.LINKS | {"other": "rgba(201,162,39,0.35)"}
        link = {
            "source": [sources.index(s) for s, _t, _n in moves],
            "target": [len(sources) + targets.index(t) for _s, t, _n in moves],
            "value": [n for _s, _t, n in moves],
            "color": [link_colours[kind] for kind in kinds],
            "hovertemplate": "%{source.label} → %{target.label}: %{value:,}<extra></extra>",
        }
        node = {"label": chart_texts(labels), "color": colours, "pad": 14, "thickness": 16}
        node |= {"hovertemplate": "%{label}<extra></extra>"}
        sankey = {"type": "sankey", "arrangement": "snap", "node": node, "link": link}
        heading = {"xref": "paper", "yref": "paper", "y": 1.0, "yanchor": "bottom", "showarrow": False}
        headings = [
            heading | {"x": 0, "xanchor": "left", "text": chart_text(run_label(pair.a))},
            heading | {"x": 1, "xanchor": "right", "text": chart_text(run_label(pair.b))},
        ]
        return chart([sankey], height=460, margin={"t": 64, "l": 8, "r": 8}, annotations=headings)

    def note(self, moves: list[tuple], pair: Pair) -> str:
        """What a person must know before reading the flows: both runs are of the same window."""
        if pair.a.pk == pair.b.pk:
            return _("You picked the same run twice: nothing moves. Pick two different runs.")
        if not pair.same_as_of:
            return ""
        figures = {"date": display.day(pair.a.as_of)}
        changed = pair.changed_settings
        if changed:
            figures["settings"] = ", ".join(changed)
            return (
                _(
                    "Both runs are as of %(date)s: the same 12 months of orders. Every move here comes from "
                    "the settings that changed between them (%(settings)s), not from what customers did."
                )
                % figures
            )
        return (
            _(
                "Both runs are as of %(date)s, with the same settings: any move here comes from data "
                "imported or corrected between them, not from a new period."
            )
            % figures
        )

    def reading(self, moves: list[tuple], pair: Pair) -> list[str]:
        counts = migration_counts(moves)
        figures = {key: f"{counts[key]:,}" for key in ("up", "down", "same", "new")}
        reading = [
            _(
                "From run #%(a)s to run #%(b)s, %(up)s customers moved up a tier, %(down)s moved down and "
                "%(same)s kept their tier; %(new)s are new in run #%(b)s."
            )
            % (figures | {"a": pair.a.pk, "b": pair.b.pk})
        ]
        if counts["from_prospect"] or counts["to_prospect"]:
            reading.append(
                _(
                    "%(joined)s prospects (P) ordered and joined a tier; %(left)s customers had no orders in "
                    "run B's window and fell back to prospect."
                )
                % {"joined": f"{counts['from_prospect']:,}", "left": f"{counts['to_prospect']:,}"}
            )
        if counts["gone"]:
            reading.append(
                _("%(count)s customers of run #%(a)s are not in run #%(b)s.")
                % {"count": f"{counts['gone']:,}", "a": pair.a.pk, "b": pair.b.pk}
            )
        a_lost = sum(n for s, t, n in moves if s == Tier.A and t != Tier.A)
        if a_lost:
            reading.append(_("%(count)s core (A) customers left tier A: find out why.") % {"count": f"{a_lost:,}"})
        return reading

    def csv(self, moves: list[tuple], pair: Pair) -> tuple[list, list]:
        columns = [
            _("Tier in run #%(id)s") % {"id": pair.a.pk},
            _("Tier in run #%(id)s") % {"id": pair.b.pk},
            _("Customers"),
        ]
        if pair.a.pk == pair.b.pk:  # one run against itself: the two columns need names apart
            columns[:2] = [_("Tier in run A"), _("Tier in run B")]
        return columns, [[source, target, n] for source, target, n in moves]

    def extra(self, moves: list[tuple], pair: Pair) -> dict:
        return {"counts": dict(migration_counts(moves)), "same_as_of": pair.same_as_of}


# ------------------------------------------------------------------------------- the two runs' figures


def run_bars(pair: Pair, labels: list[str], values: tuple[list, list], *, suffix: str = "%") -> list[dict]:
    """A bar per figure for each run, run A then run B, their values written on them."""
    traces = []
    for run, shown_values, colour in zip((pair.a, pair.b), values, RUN_COLOURS, strict=True):
        name = chart_text(run_label(run))
        traces.append(
            {
                "type": "bar",
                "name": name,
                "x": chart_texts(labels),
                "y": [None if v is None else float(v) for v in shown_values],
                "marker": {"color": colour},
                "texttemplate": "%{y:.1f}" + suffix,
                "hovertemplate": "%{x}: %{y:.2f}" + suffix + "<extra>" + name + "</extra>",
            }
        )
    return traces


class Top20CompareCard(CompareCard):
    name = "top20"
    title = gettext_lazy("The top 20%'s share")
    help = gettext_lazy("The top 20 percent of customers by revenue: their share of revenue and of profit.")
    empty = gettext_lazy("The top 20%'s shares need customers with orders in both runs.")
    KEYS = ("top20_revenue_share_pct", "top20_profit_share_pct")

    def rows(self, pair: Pair) -> dict | None:
        shares = {key: (_pct(pair.company_a, key), _pct(pair.company_b, key)) for key in self.KEYS}
        counts = (pair.company_a.get("top20_count"), pair.company_b.get("top20_count"))
        if all(a is None and b is None for a, b in shares.values()):
            return None
        return shares | {"counts": counts}

    @staticmethod
    def labels() -> list[str]:
        return [_("Share of revenue"), _("Share of profit")]

    def figure(self, shares: dict, pair: Pair) -> dict:
        values = tuple([shares[key][side] for key in self.KEYS] for side in (0, 1))
        bars = run_bars(pair, self.labels(), values)
        hundred = {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": 100, "y1": 100}
        return chart(
            bars,
            barmode="group",
            yaxis={"title": {"text": "%"}, "ticksuffix": "%", "rangemode": "tozero"},
            shapes=[hundred | {"line": {"color": "#6b7785", "dash": "dot", "width": 1}}],
        )

    def reading(self, shares: dict, pair: Pair) -> list[str]:
        before, after = shares["top20_profit_share_pct"]
        reading = [
            _(
                "The top 20%% of customers brought %(a)s%% of profit in run #%(run_a)s and %(b)s%% in run "
                "#%(run_b)s: %(change)s percentage points."
            )
            % {
                "a": number(before),
                "b": number(after),
                "run_a": pair.a.pk,
                "run_b": pair.b.pk,
                "change": change(before, after),
            }
        ]
        revenue_a, revenue_b = shares["top20_revenue_share_pct"]
        reading.append(
            _("Their share of revenue went from %(a)s%% to %(b)s%% (%(change)s points).")
            % {"a": number(revenue_a), "b": number(revenue_b), "change": change(revenue_a, revenue_b)}
        )
        if after is not None and after > 100:
            reading.append(
                _("In run #%(id)s that is more than all the profit: the others lose money together.")
                % {"id": pair.b.pk}
            )
        return reading

    def csv(self, shares: dict, pair: Pair) -> tuple[list, list]:
        columns = [_("Figure"), run_label(pair.a), run_label(pair.b), _("Change (points)")]
        rows = [
            [label, plain(a), plain(b), "" if a is None or b is None else plain(b - a)]
            for label, (a, b) in zip(self.labels(), (shares[key] for key in self.KEYS), strict=True)
        ]
        rows.append([_("Customers in the top 20%"), *shares["counts"], ""])
        return columns, rows


class ConcentrationCompareCard(CompareCard):
    name = "concentration"
    title = gettext_lazy("Revenue concentration")
    help = gettext_lazy(
        "The largest and the five largest customers' shares of revenue, and the HHI; the alert is above 25 "
        "percent or an HHI of 2,500."
    )
    empty = gettext_lazy("Concentration needs revenue in the window of both runs.")
    KEYS = ("top1_share_pct", "top5_share_pct", "hhi")

    def rows(self, pair: Pair) -> dict | None:
        figures = {key: (_pct(pair.company_a, key), _pct(pair.company_b, key)) for key in self.KEYS}
        if all(a is None and b is None for a, b in figures.values()):
            return None
        alerts = (bool(pair.company_a.get("concentration_alert")), bool(pair.company_b.get("concentration_alert")))
        return figures | {"alert": alerts}

    @staticmethod
    def labels() -> list[str]:
        return [_("Largest customer's share"), _("Five largest customers' share")]

    def figure(self, figures: dict, pair: Pair) -> dict:
        values = tuple([figures[key][side] for key in self.KEYS[:2]] for side in (0, 1))
        alert = {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": 25, "y1": 25}
        return chart(
            run_bars(pair, self.labels(), values),
            barmode="group",
            yaxis={"title": {"text": _("Share of revenue (%)")}, "ticksuffix": "%", "rangemode": "tozero"},
            shapes=[alert | {"line": {"color": "#c0392b", "dash": "dash", "width": 1.5}}],
        )

    def reading(self, figures: dict, pair: Pair) -> list[str]:
        (top1_a, top1_b), (top5_a, top5_b), (hhi_a, hhi_b) = (figures[key] for key in self.KEYS)
        reading = [
            _(
                "The largest customer's share of revenue went from %(a)s%% to %(b)s%% (%(change)s points), the "
                "five largest's from %(a5)s%% to %(b5)s%% (%(change5)s points)."
            )
            % {
                "a": number(top1_a),
                "b": number(top1_b),
                "change": change(top1_a, top1_b),
                "a5": number(top5_a),
                "b5": number(top5_b),
                "change5": change(top5_a, top5_b),
            },
            _("The HHI went from %(a)s to %(b)s (%(change)s).")
            % {"a": number(hhi_a, 0), "b": number(hhi_b, 0), "change": change(hhi_a, hhi_b, 0)},
        ]
        alert_a, alert_b = figures["alert"]
        if alert_b and not alert_a:
            reading.append(
                _("Run #%(id)s raises the concentration alert; the earlier one did not.") % {"id": pair.b.pk}
            )
        elif alert_a and not alert_b:
            reading.append(_("The concentration alert of run #%(id)s is gone.") % {"id": pair.a.pk})
        elif alert_b:
            reading.append(_("Both runs raise the concentration alert: losing one buyer would hurt."))
        return reading

    def csv(self, figures: dict, pair: Pair) -> tuple[list, list]:
        columns = [_("Figure"), run_label(pair.a), run_label(pair.b), _("Change")]
        names = (*self.labels(), _("HHI"))
        rows = [
            [name, plain(a), plain(b), "" if a is None or b is None else plain(b - a)]
            for name, (a, b) in zip(names, (figures[key] for key in self.KEYS), strict=True)
        ]
        yes_no = {True: _("Yes"), False: _("No")}
        rows.append([_("Concentration alert"), yes_no[figures["alert"][0]], yes_no[figures["alert"][1]], ""])
        return columns, rows


class ChurnCompareCard(CompareCard):
    name = "churn"
    title = gettext_lazy("Churn")
    help = gettext_lazy("Customers who left in each run's 12-month window, month by month.")
    empty = gettext_lazy("Neither run has churn figures.")

    def rows(self, pair: Pair) -> dict | None:
        months = (pair.company_a.get("churn_by_month") or [], pair.company_b.get("churn_by_month") or [])
        if not any(months):
            return None
        return {
            "months": months,
            "churned": (pair.company_a.get("churned_in_window") or 0, pair.company_b.get("churned_in_window") or 0),
            "lost": (pair.company_a.get("revenue_lost"), pair.company_b.get("revenue_lost")),
            "windows": (pair.company_a.get("window") or [], pair.company_b.get("window") or []),
        }

    def figure(self, churn: dict, pair: Pair) -> dict:
        periods = sorted({m["period"] for months in churn["months"] for m in months})
        bars = []
        for run, months, colour in zip((pair.a, pair.b), churn["months"], RUN_COLOURS, strict=True):
            churned = {m["period"]: m["churned"] for m in months}
            name = chart_text(run_label(run))
            bars.append(
                {
                    "type": "bar",
                    "name": name,
                    "x": periods,
                    "y": [churned.get(period) for period in periods],
                    "marker": {"color": colour},
                    "hovertemplate": "%{x}: %{y:,}<extra>" + name + "</extra>",
                }
            )
        return chart(
            bars,
            barmode="group",
            xaxis={"type": "category"},
            yaxis={"title": {"text": _("Customers churned")}, "tickformat": ",d", "rangemode": "tozero"},
        )

    def reading(self, churn: dict, pair: Pair) -> list[str]:
        churned_a, churned_b = churn["churned"]
        reading = []
        for run, churned, lost, window in zip(
            (pair.a, pair.b), churn["churned"], churn["lost"], churn["windows"], strict=True
        ):
            days = [display.day(datetime.date.fromisoformat(day)) for day in window] if len(window) == 2 else ["—", "—"]
            reading.append(
                _(
                    "Run #%(id)s (%(start)s to %(end)s): %(count)s customers churned; they had brought "
                    "%(lost)s %(currency)s in their last 12 months."
                )
                % {
                    "id": run.pk,
                    "start": days[0],
                    "end": days[1],
                    "count": f"{churned:,}",
                    "lost": display.money(lost),
                    "currency": currency(),
                }
            )
        if pair.same_as_of:
            reading.append(
                _("Both runs cover the same 12 months, so churn differs only if churn dates were corrected.")
            )
        else:
            reading.append(
                _("Churn changed by %(change)s customers between the two windows.")
                % {"change": change(churned_a, churned_b, 0)}
            )
        return reading

    def csv(self, churn: dict, pair: Pair) -> tuple[list, list]:
        columns = [_("Run"), _("Period"), _("Churned"), _("Active at the start"), _("Churn rate %")]
        rows = [
            [run.pk, m["period"], m["churned"], m["active_at_start"], m["rate_pct"] or ""]
            for run, months in zip((pair.a, pair.b), churn["months"], strict=True)
            for m in months
        ]
        return columns, rows


CARDS = {
    card.name: card
    for card in (MigrationCompareCard(), Top20CompareCard(), ConcentrationCompareCard(), ChurnCompareCard())
}


def compare_cached(*, a: AnalysisRun, b: AnalysisRun) -> list[dict]:
    """The cards of two published runs (two queries), kept in the cache for a day per pair and
    language: what a published run says never changes, and the migration reads every customer of
    both (customers created since count in neither, so a later reader gets the same figures)."""
    stamps = [run.published_at.isoformat() if run.published_at else "" for run in (a, b)]
    key = f"analytics:compare:{a.pk}:{stamps[0]}:{b.pk}:{stamps[1]}:{translation.get_language()}"
    cards = cache.get(key)
    if cards is None:
        cards = [
            {key: value for key, value in card.items() if key != "spec"}
            for card in compare_cards(compare_pair(a=a, b=b))
        ]
        cache.set(key, cards, timeout=CACHED_FOR)
    return [card | {"spec": CARDS[card["name"]]} for card in cards]


def compare_cards(pair: Pair) -> list[dict]:
    """Every card of the page, built for the pair: one query for the migration, none for the rest."""
    return [
        {"name": name, "spec": card, "dom_id": f"compare-{name}", **card.build(pair)} for name, card in CARDS.items()
    ]
