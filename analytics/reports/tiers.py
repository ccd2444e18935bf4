"""The Tiers page: the tier distribution, the quadrant map, the tier migration since the previous run
and the protected loss-makers to review."""

from collections import Counter
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import display
from core.charts import chart_text, chart_texts

from ..models import Action, AnalysisRun, Protection, Quadrant, Tier
from .cards import (
    COUNT_AXIS,
    TIER_COLOURS,
    Card,
    Scope,
    cents,
    chart,
    count_bars,
    currency,
    list_query,
    number,
    pct_of,
    shown,
    side_by_side,
)
from .cards import tier_label as label_of

STORED_ROWS = 25  # the protected list keeps its first rows; its CSV streams them all (export)
TIER_ORDER = {"A": 1, "B": 2, "C": 3, "D": 4}


def tier_bars(by_tier: dict[str, tuple], *, height: int) -> dict:
    """Customers and profit per tier, side by side, in the tier colours (the Tiers page and a sales
    rep's portfolio): `by_tier` is tier -> (customers, revenue, profit), tiers without customers left out."""
    labels, colours = chart_texts(label_of(t) for t in by_tier), [TIER_COLOURS[t] for t in by_tier]
    drill = [list_query(tier=t) for t in by_tier]  # a click lists the tier's customers
    customers = count_bars(labels, [n for n, _r, _p in by_tier.values()], colours, showlegend=False, customdata=drill)
    profit = {
        "type": "bar",
        "x": labels,
        "y": [float(p) for _n, _r, p in by_tier.values()],
        "marker": {"color": colours},
        "customdata": drill,
    }
    profit |= {"hovertext": [shown(p) for _n, _r, p in by_tier.values()], "showlegend": False}
    profit |= {"hovertemplate": "%{x}: %{hovertext}<extra></extra>", "xaxis": "x2", "yaxis": "y2"}
    layout = side_by_side([_("Customers"), _("Profit (%(currency)s)") % {"currency": currency()}])
    layout["yaxis"] |= {"separatethousands": True, **COUNT_AXIS}
    layout["yaxis2"]["separatethousands"] = True
    return chart([customers, profit], height=height, margin={"t": 64}, meta={"click": "list"}, **layout)


class TiersCard(Card):
    name = "tiers"
    title = gettext_lazy("Tier distribution")
    empty = gettext_lazy("No customers in this selection.")
    filtered = True

    def rows(self, run: AnalysisRun, company: dict, scope: Scope) -> dict[str, tuple] | None:
        """tier -> (customers, revenue, profit) of the customers in scope, in tier order (one query)."""
        found = scope.results(run.pk).order_by().values_list("tier")
        found = found.annotate(n=Count("id"), sum_revenue=Sum("revenue"), sum_profit=Sum("profit"))
        found = {tier: (n, revenue, profit) for tier, n, revenue, profit in found}
        return {tier: found[tier] for tier in Tier.values if tier in found} or None

    def figure(self, by_tier: dict[str, tuple]) -> dict:
        return tier_bars(by_tier, height=340)

    def reading(self, by_tier: dict[str, tuple]) -> list[str]:
        total = sum(n for n, _r, _p in by_tier.values())
        total_profit = sum((p for _n, _r, p in by_tier.values()), Decimal(0))
        reading = []
        if "A" in by_tier:
            n, _revenue, profit = by_tier["A"]
            share, of_profit = number(pct_of(n, total)), number(pct_of(profit, total_profit))
            reading.append(
                _("Core customers (A) are %(count)s of %(total)s (%(share)s%%) and earn %(profit)s%% of profit.")
                % {"count": f"{n:,}", "total": f"{total:,}", "share": share, "profit": of_profit}
            )
        if "D" in by_tier:
            n, _revenue, profit = by_tier["D"]
            reading.append(
                _("%(count)s drain customers (D) lose %(loss)s %(currency)s together.")
                % {"count": f"{n:,}", "loss": shown(-profit), "currency": currency()}
            )
        if "P" in by_tier:
            prospects = by_tier["P"][0]
            reading.append(_("%(count)s prospects (P) had no orders in the window.") % {"count": f"{prospects:,}"})
        return reading

    def csv(self, by_tier: dict[str, tuple]) -> tuple[list, list]:
        rows = [[t, str(Tier(t).label), n, cents(r), cents(p)] for t, (n, r, p) in by_tier.items()]
        return [_("Tier"), _("Name"), _("Customers"), _("Revenue"), _("Profit")], rows

    def extra(self, by_tier: dict[str, tuple]) -> dict:
        return {"counts": {t: n for t, (n, _r, _p) in by_tier.items()}}


QUADRANT_CELLS = {  # (current profit high?, future high?) of each quadrant, DESIGN section 5
    Quadrant.CHAMPION: (1, 1),
    Quadrant.STAR: (0, 1),
    Quadrant.HARVEST: (1, 0),
    Quadrant.EXIT: (0, 0),
}
QUADRANT_ACTIONS = {
    Quadrant.CHAMPION: Action.INVEST,
    Quadrant.STAR: Action.DEVELOP,
    Quadrant.HARVEST: Action.HARVEST,
    Quadrant.EXIT: Action.REDUCE,
}


class QuadrantsCard(Card):
    name = "quadrants"
    title = gettext_lazy("Quadrant map: current and future profit")
    empty = gettext_lazy("No customer has a quadrant yet: quadrants need customers with orders in the window.")
    filtered = True

    def rows(self, run: AnalysisRun, company: dict, scope: Scope) -> dict | None:
        """quadrant -> (customers, profit) for every quadrant, or None when no customer has one (one query)."""
        found = scope.results(run.pk).exclude(quadrant="").order_by().values_list("quadrant")
        found = {q: (n, profit) for q, n, profit in found.annotate(n=Count("id"), sum_profit=Sum("profit"))}
        return {q: found.get(q, (0, Decimal(0))) for q in QUADRANT_CELLS} if found else None

    def figure(self, quadrants: dict) -> dict:
        z, text, drill = [[0, 0], [0, 0]], [["", ""], ["", ""]], [["", ""], ["", ""]]
        for quadrant, (col, row) in QUADRANT_CELLS.items():
            n, profit = quadrants[quadrant]
            z[row][col] = n
            drill[row][col] = list_query(quadrant=quadrant.value)  # a click lists the cell's customers
            text[row][col] = (
                f"<b>{chart_text(quadrant.label)}</b><br>{n:,}<br>"
                + chart_text(_("profit %(amount)s") % {"amount": shown(profit)})
                + "<br>"
                + chart_text(_("action: %(action)s") % {"action": QUADRANT_ACTIONS[quadrant].label})
            )
        heatmap = {
            "type": "heatmap",
            "z": z,
            "x": chart_texts([_("Low current profit"), _("High current profit")]),
            "y": chart_texts([_("Low future profit"), _("High future profit")]),
            "text": text,
            "texttemplate": "%{text}",
            "hoverinfo": "none",  # the cell says it all; "none" (not "skip") keeps the click
            "customdata": drill,
            "colorscale": [[0, "#f5f7fa"], [1, "#9cc3e6"]],
        }
        heatmap |= {"showscale": False, "xgap": 4, "ygap": 4}
        white = {"gridcolor": "#ffffff"}
        return chart([heatmap], height=360, xaxis={"side": "bottom", **white}, yaxis=white, meta={"click": "list"})

    def reading(self, quadrants: dict) -> list[str]:
        counts = {q: f"{n:,}" for q, (n, _p) in quadrants.items()}
        total = sum(n for n, _p in quadrants.values())
        text = _(
            "%(champion)s champions to invest in, %(star)s future stars to develop, %(harvest)s to harvest and "
            "%(exit)s to reduce or exit, of %(total)s customers with orders."
        )
        return [text % ({str(q.value): n for q, n in counts.items()} | {"total": f"{total:,}"})]

    def csv(self, quadrants: dict) -> tuple[list, list]:
        rows = [[q.value, str(q.label), n, cents(profit)] for q, (n, profit) in quadrants.items()]
        return [_("Quadrant"), _("Name"), _("Customers"), _("Profit")], rows

    def extra(self, quadrants: dict) -> dict:
        return {"counts": {q: n for q, (n, _p) in quadrants.items()}}


SOURCES = ("new", *Tier.values)


def _place(tier: str, order=SOURCES) -> int:
    return order.index(tier) if tier in order else 9


def direction(source: str, target: str) -> str:
    if source in TIER_ORDER and target in TIER_ORDER:
        return "same" if source == target else "up" if TIER_ORDER[target] < TIER_ORDER[source] else "down"
    return "same"


class MigrationCard(Card):
    name = "migration"
    title = gettext_lazy("Tier migration since the previous run")
    empty = gettext_lazy("Tier migration compares two runs: it appears after the next run is published.")
    LINKS = {"up": "rgba(27,127,90,0.35)", "down": "rgba(192,57,43,0.35)", "same": "rgba(138,148,166,0.3)"}

    def rows(self, run: AnalysisRun, company: dict, scope: Scope) -> list[tuple] | None:
        """(tier before, tier now, customers) from the run's migration figures, new customers first."""
        pairs = [(*key.split(">")[:2], n) for key, n in (company.get("tier_migration") or {}).items()]
        return sorted(pairs, key=lambda move: (_place(move[0]), move[1])) or None

    def figure(self, pairs: list[tuple]) -> dict:
        sources = sorted({s for s, _t, _n in pairs}, key=_place)
        targets = sorted({t for _s, t, _n in pairs}, key=lambda t: _place(t, Tier.values))
        names = {"new": _("New customers")}
        nodes = [(_("Before: %(tier)s") % {"tier": names.get(s) or label_of(s)}, s) for s in sources]
        nodes += [(_("Now: %(tier)s") % {"tier": label_of(t)}, t) for t in targets]
        colours = [TIER_COLOURS.get(tier, "#6b7785") for _n, tier in nodes]
        link = {
            "source": [sources.index(s) for s, _t, _n in pairs],
            "target": [len(sources) + targets.index(t) for _s, t, _n in pairs],
            "value": [n for _s, _t, n in pairs],
            "color": [self.LINKS[direction(s, t)] for s, t, _n in pairs],
            "customdata": [list_query(moved=f"{s}>{t}") for s, t, _n in pairs],  # a click lists the link's customers
        }
        node = {"label": chart_texts(name for name, _t in nodes), "color": colours, "pad": 14, "thickness": 16}
        sankey = {"type": "sankey", "arrangement": "snap", "node": node, "link": link}
        return chart([sankey], height=420, margin={"t": 16}, meta={"click": "list"})

    @staticmethod
    def counts(pairs: list[tuple]) -> Counter:
        counts = Counter()
        for s, t, n in pairs:
            counts["new" if s == "new" else direction(s, t) if s in TIER_ORDER and t in TIER_ORDER else "other"] += n
        return counts

    def reading(self, pairs: list[tuple]) -> list[str]:
        counts = self.counts(pairs)
        reading = [
            _(
                "Since the previous run %(up)s customers moved up a tier, %(down)s moved down and %(same)s stayed; "
                "%(new)s are new."
            )
            % {key: f"{counts[key]:,}" for key in ("up", "down", "same", "new")}
        ]
        a_lost = sum(n for s, t, n in pairs if s == "A" and t != "A")
        if a_lost:
            reading.append(_("%(count)s core (A) customers left tier A: find out why.") % {"count": f"{a_lost:,}"})
        return reading

    def csv(self, pairs: list[tuple]) -> tuple[list, list]:
        return [_("Previous tier"), _("Tier now"), _("Customers")], [list(pair) for pair in pairs]

    def extra(self, pairs: list[tuple]) -> dict:
        return {"counts": dict(self.counts(pairs))}


class ProtectedCard(Card):
    """Loss-making (D) customers that a protection trait sends to review instead of reduce."""

    name = "protected"
    title = gettext_lazy("Protected loss-makers to review")
    empty = gettext_lazy("No protected customer loses money: every loss-maker can be reduced without a review.")
    filtered = True
    FIELDS = ("customer_id", "customer__code", "customer__name", "revenue", "profit", "protection")

    @staticmethod
    def results(run: AnalysisRun, scope: Scope):
        return scope.results(run.pk).filter(tier=Tier.D, action=Action.REVIEW).order_by("profit", "customer__code")

    def rows(self, run: AnalysisRun, company: dict, scope: Scope) -> dict | None:
        """The worst STORED_ROWS, how many there are, their loss and reasons (three queries)."""
        results = self.results(run, scope)
        listed = list(results.values_list(*self.FIELDS)[:STORED_ROWS])
        if not listed:
            return None
        reasons = Counter()
        for protection, n in results.order_by().values_list("protection").annotate(n=Count("id")):
            for reason in filter(None, protection.split(";")):
                reasons[reason] += n
        return {"listed": listed, "reasons": reasons, **results.aggregate(count=Count("id"), loss=Sum("profit"))}

    def figure(self, protected: dict) -> dict:
        top = protected["listed"][:15]
        loss = [chart_text(_("loss %(amount)s") % {"amount": shown(-profit)}) for *_r, profit, _p in top]
        bars = {"type": "bar", "orientation": "h", "marker": {"color": TIER_COLOURS["D"]}, "hovertext": loss}
        bars |= {
            "x": [float(-profit) for *_r, profit, _p in top],
            "y": [chart_text(f"{code} {name}") for _pk, code, name, *_r in top],
            "customdata": [pk for pk, *_r in top],
            "hovertemplate": "%{y}<br>%{hovertext}<extra></extra>",
        }
        return chart(
            [bars],
            height=max(220, 26 * len(top) + 60),
            yaxis={"autorange": "reversed"},
            meta={"click": "customer"},
            xaxis={"title": {"text": _("Loss (%(currency)s)") % {"currency": currency()}}, "separatethousands": True},
            margin={"l": 10},
        )

    def reading(self, protected: dict) -> list[str]:
        loss = shown(-(protected["loss"] or 0))
        reading = [
            _(
                "%(count)s loss-making customers are protected (loyal, big, potential or strategic) and lose "
                "%(loss)s %(currency)s together: review each before cutting it."
            )
            % {"count": f"{protected['count']:,}", "loss": loss, "currency": currency()}
        ]
        if protected["reasons"]:
            reason, n = protected["reasons"].most_common(1)[0]
            reason = display.label(reason, Protection)
            reading.append(_("Most common reason: %(reason)s (%(count)s).") % {"reason": reason, "count": f"{n:,}"})
        return reading

    @staticmethod
    def csv_rows(listed) -> list[list]:
        return [
            [code, name, cents(revenue), cents(profit), reasons] for _pk, code, name, revenue, profit, reasons in listed
        ]

    def csv(self, protected: dict) -> tuple[list, list]:
        columns = [_("Code"), _("Name"), _("Revenue"), _("Profit"), _("Protection")]
        return columns, self.csv_rows(protected["listed"])

    def table(self, protected: dict) -> list[dict]:
        return [
            {
                "customer": pk,
                "cells": [code, name, display.money(revenue), display.money(profit)]
                + [", ".join(display.label(reason, Protection) for reason in filter(None, reasons.split(";")))],
            }
            for pk, code, name, revenue, profit, reasons in protected["listed"]
        ]

    def extra(self, protected: dict) -> dict:
        return {"count": protected["count"]}

    def export(self, run: AnalysisRun, scope: Scope):
        """Every protected loss-maker, worst loss first (streamed, not stored)."""
        yield from self.csv_rows(self.results(run, scope).values_list(*self.FIELDS).iterator(chunk_size=5000))


CARDS = (TiersCard(), QuadrantsCard(), MigrationCard(), ProtectedCard())
