"""The executive report figures: Plotly figures built in Python from a published run, each with a
short plain-language reading computed from the same numbers and its data as a table (the CSV).

Builders read the run's company figures (`AnalysisRun.company`, see services/company.py for their
shapes) and its `CustomerResult` rows, never the orders. `analytics.selectors.report_charts` builds
each chart once per run, language and filter and stores it as a `RunChart`; pages only read.

The profit-vs-volume chart is the heavy one (a point per customer): its points are stored once per
run and filter, language-neutral and compact (`profit_volume_points`: revenue and profit in whole
cents, customer ids as small deltas, base64 in Plotly's typed-array form), and its translated frame
(`profit_volume`: traces without points, guide lines, axis buttons, the reading) separately, so the
page stays small and the points come from their own JSON endpoint after it.

Chart text follows core.charts: whatever comes from data goes through `chart_text` (plotly.js renders
HTML in chart text), and money a person reads is formatted from the Decimal (`chart_money`), never
from a float; coordinates are float64 (Python floats, or the exact cents divided in the browser).
"""

import array
import base64
import datetime
import sys
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

import plotly.graph_objects as go
from django.conf import settings
from django.db.models import Avg, Count, Min, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from plotly.subplots import make_subplots

from core.charts import chart_money, chart_separators, chart_text, chart_texts
from core.display import month as month_label
from crm.models import Customer, Survey

from .models import Action, AnalysisRun, CustomerResult, Protection, Quadrant, Tier
from .services import company as company_figures

# The tier colours of static/css/app.css (--tier-a ... --tier-p): lists, badges and charts agree.
TIER_COLOURS = {"A": "#1b7f5a", "B": "#2f6db5", "C": "#8a94a6", "D": "#c0392b", "P": "#c9a227"}
VALUED_TIERS = ("A", "B", "C", "D")  # customers with orders in the window: the plotted population
TIER_ORDER = {"A": 1, "B": 2, "C": 3, "D": 4}
INLINE_LABELS_UP_TO = 5000  # up to this many points, names travel with the points (hover shows them at once)
STORED_ROWS = 25  # a per-customer list card keeps its first rows; its CSV streams them all (protected_rows)
TWO = Decimal("0.01")
GOOD, NEUTRAL, BAD, NEW = "#1b7f5a", "#8a94a6", "#c0392b", "#c9a227"
SATISFACTION_COLOURS = {1: "#c0392b", 2: "#e67e22", 3: "#95a5a6", 4: "#27ae60", 5: "#1b7f5a"}


@dataclass(frozen=True)
class Scope:
    """The report filters: one region, industry and/or owner (ids); empty = the whole company."""

    region: int | None = None
    industry: int | None = None
    owner: int | None = None

    @property
    def is_all(self) -> bool:
        return self.region is None and self.industry is None and self.owner is None

    @property
    def key(self) -> str:
        return "" if self.is_all else f"r{self.region or ''}i{self.industry or ''}o{self.owner or ''}"

    def results(self, run_id: int):
        results = CustomerResult.objects.filter(run_id=run_id)
        for name in ("region", "industry", "owner"):
            if getattr(self, name) is not None:
                results = results.filter(**{f"customer__{name}_id": getattr(self, name)})
        return results


@dataclass
class Chart:
    """What a report card shows: a figure (or none for a list), the reading, and the table behind it."""

    figure: dict | None
    reading: list[str]
    columns: list[str]
    rows: list[list]
    extra: dict = field(default_factory=dict)
    empty: str = ""  # when set, the card shows this (what to do next) instead of the figure

    def as_json(self) -> dict:
        return {
            "figure": self.figure,
            "reading": self.reading,
            "columns": self.columns,
            "rows": self.rows,
            "extra": self.extra,
            "empty": self.empty,
        }


# ------------------------------------------------------------------------------------------- helpers


def tier_label(tier: str) -> str:
    return str(Tier(tier).label) if tier in Tier.values else tier


# Money as people read it in a reading, a list card or a chart: half-up to the cent, grouped as the pages are.
shown = chart_money


def cents(value) -> str:
    """Money for a CSV cell: two places, no grouping."""
    return "" if value is None else str(Decimal(value).quantize(TWO, rounding=ROUND_HALF_UP))


def number(value, places: int = 1) -> str:
    if value is None:
        return "—"
    return f"{Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):,.{places}f}"


def pct_of(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def currency() -> str:
    return settings.CURRENCY


def layout(**overrides) -> dict:
    """One plain look for every chart (no Plotly template: it would add kilobytes to each figure)."""
    base = {
        "margin": {"l": 64, "r": 24, "t": 24, "b": 48},
        "height": 340,
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "font": {
            "family": 'system-ui, -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", '
            '"Noto Sans CJK SC", sans-serif',
            "size": 12,
            "color": "#1d2733",
        },
        "xaxis": {"gridcolor": "#eef1f5", "zerolinecolor": "#c5ced8", "automargin": True},
        "yaxis": {"gridcolor": "#eef1f5", "zerolinecolor": "#c5ced8", "automargin": True},
        "legend": {"orientation": "h", "y": -0.18},
        "separators": chart_separators(),
        "hoverlabel": {"namelength": -1},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


def figure_json(figure: go.Figure) -> dict:
    """The figure as plain JSON-able data (what `json_script` and the JSON endpoint send)."""
    return figure.to_plotly_json() | {"data": [trace.to_plotly_json() for trace in figure.data]}


def typed(values, typecode: str) -> dict:
    """Plotly's typed-array form: {"dtype", "bdata"} with little-endian bytes in base64."""
    packed = array.array(typecode, values)
    if sys.byteorder != "little":
        packed.byteswap()
    dtype = {"B": "u1", "H": "u2", "I": "u4", "i": "i4"}[typecode]
    assert packed.itemsize == int(dtype[1]), dtype
    return {"dtype": dtype, "bdata": base64.b64encode(packed.tobytes()).decode("ascii")}


INT32 = range(-(2**31), 2**31)


def money_cents(values: list[Decimal]) -> dict:
    """Money figures as whole cents, exactly: an int32 typed array (as small as the float32 this
    replaced, which lost single units above 16,777,216), and for the rare figure beyond int32
    (21,474,836.47 either way) its index and cents in `wide` (a JSON number: exact up to 2**53 cents),
    with 0 in the array. The browser divides by 100 for float64 coordinates and writes the hover
    figures from the cents themselves, so no float rounds what a person reads."""
    cents = [int(value.quantize(TWO, rounding=ROUND_HALF_UP).scaleb(2)) for value in values]
    wide = [[index, c] for index, c in enumerate(cents) if c not in INT32]
    return typed([c if c in INT32 else 0 for c in cents], "i") | {"wide": wide}


def id_deltas(ids: list[int]) -> dict:
    """Ascending customer ids as the first id and the gaps after it, in the smallest unsigned type."""
    if not ids:
        return {"first": 0, "delta": typed([], "B")}
    gaps = [b - a for a, b in zip(ids, ids[1:], strict=False)]
    widest = max(gaps, default=0)
    typecode = "B" if widest < 2**8 else "H" if widest < 2**16 else "I"
    return {"first": ids[0], "delta": typed(gaps, typecode)}


def empty_chart(message: str) -> Chart:
    return Chart(figure=None, reading=[], columns=[], rows=[], empty=message)


def listed_customers(run: AnalysisRun, ids, figure: str) -> dict[int, tuple[str, str, Decimal]]:
    """customer id -> (code, name, the run's `figure`) for a listed few, in one query."""
    rows = CustomerResult.objects.filter(run_id=run.pk, customer_id__in=list(ids))
    return {
        pk: (code, name, value)
        for pk, code, name, value in rows.values_list("customer_id", "customer__code", "customer__name", figure)
    }


# ------------------------------------------------------------------------------- profit vs volume


def profit_volume_points(run: AnalysisRun, scope: Scope) -> dict:
    """Every customer with orders in the window, grouped by tier: revenue (x) and profit (y) in whole
    cents (`money_cents`), customer ids (ascending within a tier) as deltas; names inline (as chart
    text) for small books."""
    results = scope.results(run.pk).filter(tier__in=VALUED_TIERS).order_by("tier", "customer_id")
    fields = ["customer_id", "tier", "revenue", "profit"]
    count = results.count()
    with_labels = count <= INLINE_LABELS_UP_TO
    if with_labels:
        fields += ["customer__code", "customer__name"]
    by_tier: dict[str, dict[str, list]] = {}
    for row in results.values_list(*fields).iterator(chunk_size=20000):
        points = by_tier.setdefault(row[1], {"ids": [], "revenue": [], "profit": [], "labels": []})
        points["ids"].append(row[0])
        points["revenue"].append(row[2])
        points["profit"].append(row[3])
        if with_labels:
            points["labels"].append(chart_text(f"{row[4]} {row[5]}"))
    traces = []
    for tier in VALUED_TIERS:
        points = by_tier.get(tier)
        if not points:
            continue
        trace = {
            "tier": tier,
            "count": len(points["ids"]),
            "ids": id_deltas(points["ids"]),
            "revenue_cents": money_cents(points["revenue"]),
            "profit_cents": money_cents(points["profit"]),
        }
        if with_labels:
            trace["labels"] = points["labels"]
        traces.append(trace)
    return {"count": count, "traces": traces}


def profit_volume(run: AnalysisRun, company: dict, scope: Scope) -> Chart:
    """The frame of the profit-vs-volume chart (traces get their points from profit_volume_points),
    the average-profit line and quadrant guides, the axis buttons, and the reading."""
    results = scope.results(run.pk).filter(tier__in=VALUED_TIERS)
    totals = results.aggregate(
        n=Count("id"),
        total_revenue=Sum("revenue"),
        total_profit=Sum("profit"),
        losers=Count("id", filter=Q(profit__lt=0)),
        loss=Sum("profit", filter=Q(profit__lt=0)),
        low_profit=Min("profit"),
        positive=Min("revenue", filter=Q(revenue__gt=0)),
    )
    n = totals["n"]
    if not n:
        return empty_chart(_("No customer has orders in this window. Import orders, then recompute."))
    count_by_tier = dict(results.order_by().values_list("tier").annotate(n=Count("id")))
    mean_profit = totals["total_profit"] / n
    mean_revenue = totals["total_revenue"] / n
    largest = (
        results.order_by("-revenue", "customer__code")
        .values_list("customer_id", "customer__code", "customer__name", "revenue", "profit")
        .first()
    )
    best = (
        results.order_by("-profit", "customer__code")
        .values_list("customer_id", "customer__code", "customer__name", "revenue", "profit")
        .first()
    )
    best_rank = results.filter(Q(revenue__gt=best[3]) | Q(revenue=best[3], customer__code__lt=best[1])).count() + 1
    positive = totals["positive"]
    top_revenue = largest[3]
    low_profit = totals["low_profit"]
    high_profit = best[4]

    money = currency()
    figure = go.Figure()
    for tier in VALUED_TIERS:
        if not count_by_tier.get(tier):
            continue
        figure.add_trace(
            go.Scattergl(
                x=[],
                y=[],
                mode="markers",
                name=chart_text(f"{tier_label(tier)} ({count_by_tier[tier]:,})"),
                marker={"color": TIER_COLOURS[tier], "size": 6, "opacity": 0.75, "line": {"width": 0}},
                meta={"tier": tier, "role": "points"},
                # customdata: the point's revenue and profit as text, written in the browser from the exact cents
                hovertemplate=(
                    "%{text}<br>"
                    + _("Revenue")
                    + ": %{customdata[0]} "
                    + money
                    + "<br>"
                    + _("Profit")
                    + ": %{customdata[1]} "
                    + money
                    + "<extra>"
                    + chart_text(tier_label(tier))
                    + "</extra>"
                ),
            )
        )
    x_low = float(positive or 1)
    x_high = float(max(top_revenue, Decimal(1)))
    y_low, y_high = float(min(low_profit, Decimal(0))), float(max(high_profit, Decimal(0)))
    figure.add_trace(
        go.Scatter(
            x=[x_low, x_high],
            y=[float(mean_profit)] * 2,
            mode="lines",
            name=_("Average profit (%(amount)s)") % {"amount": shown(mean_profit)},
            line={"color": "#b26a00", "dash": "dash", "width": 2},
            hoverinfo="skip",
            meta={"role": "guide"},
        )
    )
    figure.add_trace(
        go.Scatter(
            x=[float(mean_revenue)] * 2,
            y=[y_low, y_high],
            mode="lines",
            name=_("Average revenue (%(amount)s)") % {"amount": shown(mean_revenue)},
            line={"color": "#6b7785", "dash": "dot", "width": 1.5},
            hoverinfo="skip",
            meta={"role": "guide"},
        )
    )
    figure.add_trace(
        go.Scatter(
            x=[x_low, x_high],
            y=[0, 0],
            mode="lines",
            name=_("Break-even"),
            line={"color": "#1d2733", "width": 1},
            hoverinfo="skip",
            meta={"role": "guide"},
        )
    )
    buttons = [
        {"label": _("Linear axes"), "method": "relayout", "args": [{"xaxis.type": "linear", "yaxis.type": "linear"}]},
        {"label": _("Log revenue"), "method": "relayout", "args": [{"xaxis.type": "log", "yaxis.type": "linear"}]},
        {
            "label": _("Log revenue and profit (losses hidden)"),
            "method": "relayout",
            "args": [{"xaxis.type": "log", "yaxis.type": "log"}],
        },
    ]
    figure.update_layout(
        **layout(
            height=520,
            margin={"t": 56},
            xaxis={
                "title": {"text": _("Revenue, 12 months (%(currency)s)") % {"currency": money}},
                "separatethousands": True,
            },
            yaxis={
                "title": {"text": _("Profit, 12 months (%(currency)s)") % {"currency": money}},
                "separatethousands": True,
            },
            updatemenus=[
                {
                    "type": "buttons",
                    "direction": "right",
                    "x": 0,
                    "xanchor": "left",
                    "y": 1.12,
                    "yanchor": "top",
                    "buttons": buttons,
                    "showactive": True,
                    "pad": {"r": 4, "t": 0},
                }
            ],
            hovermode="closest",
            dragmode="zoom",
        )
    )

    reading = []
    if largest[4] < mean_profit:
        reading.append(
            _(
                "Your largest customer by revenue, %(customer)s, earns less profit than the average "
                "customer: %(profit)s against %(average)s."
            )
            % {"customer": f"{largest[1]} {largest[2]}", "profit": shown(largest[4]), "average": shown(mean_profit)}
        )
    else:
        reading.append(
            _(
                "Your largest customer by revenue, %(customer)s, earns %(profit)s, more than the average "
                "customer's %(average)s."
            )
            % {"customer": f"{largest[1]} {largest[2]}", "profit": shown(largest[4]), "average": shown(mean_profit)}
        )
    if best[0] != largest[0]:
        reading.append(
            _("The most profitable customer, %(customer)s (%(profit)s), is only number %(rank)s by revenue.")
            % {"customer": f"{best[1]} {best[2]}", "profit": shown(best[4]), "rank": f"{best_rank:,}"}
        )
    if totals["losers"]:
        reading.append(
            _("%(count)s of %(total)s customers lose money; together they cost %(loss)s %(currency)s.")
            % {"count": f"{totals['losers']:,}", "total": f"{n:,}", "loss": shown(-totals["loss"]), "currency": money}
        )
    else:
        reading.append(_("No customer loses money in this window."))
    reading.append(_("Each point is a customer: hover to see it, click to open it."))
    columns = [_("Code"), _("Name"), _("Tier"), _("Revenue"), _("Profit"), _("Quadrant"), _("Action")]
    extra = {
        "count": n,
        "mean_profit": str(mean_profit),
        "mean_revenue": str(mean_revenue),
        "largest": largest[0],
        "most_profitable": best[0],
    }
    return Chart(figure=figure_json(figure), reading=reading, columns=columns, rows=[], extra=extra)


def protected_rows(run: AnalysisRun, scope: Scope):
    """The CSV of protected loss-makers: all of them, worst loss first (streamed, not stored)."""
    results = scope.results(run.pk).filter(tier=Tier.D, action=Action.REVIEW).order_by("profit", "customer__code")
    for code, name, revenue, profit, protection in results.values_list(
        "customer__code", "customer__name", "revenue", "profit", "protection"
    ).iterator(chunk_size=5000):
        yield [code, name, cents(revenue), cents(profit), protection]


def profit_volume_rows(run: AnalysisRun, scope: Scope):
    """The CSV of the profit-vs-volume chart: one row per plotted customer (streamed, not stored)."""
    results = scope.results(run.pk).filter(tier__in=VALUED_TIERS).order_by("-revenue", "customer__code")
    for code, name, tier, revenue, profit, quadrant, action in results.values_list(
        "customer__code", "customer__name", "tier", "revenue", "profit", "quadrant", "action"
    ).iterator(chunk_size=5000):
        yield [code, name, tier, cents(revenue), cents(profit), quadrant, action]


# ------------------------------------------------------------------- whale curve, Pareto, concentration


def _population(run: AnalysisRun, scope: Scope) -> list[tuple]:
    """(code, revenue, profit, customer_id) of the customers with orders in scope, for the filtered figures."""
    return list(
        scope.results(run.pk)
        .filter(tier__in=VALUED_TIERS)
        .values_list("customer__code", "revenue", "profit", "customer_id")
    )


class _Figures(NamedTuple):
    """What company.py's definitions read of a customer."""

    code: str
    revenue: Decimal
    profit: Decimal


def _as_figures(population: list[tuple]) -> list[_Figures]:
    return [_Figures(code, revenue, profit) for code, revenue, profit, _pk in population]


def whale_figures(population: list[tuple], points: int = 400) -> dict:
    """The whale curve of the customers in scope, by the run's own definition (services/company.py)."""
    return company_figures.to_json(company_figures.whale_curve(_as_figures(population), points=points))


def concentration_figures(population: list[tuple]) -> dict:
    """Top-1 and top-5 shares, HHI, the alert and the top 20%'s shares, by the run's own definition."""
    return company_figures.to_json(company_figures.concentration(_as_figures(population)))


def whale(run: AnalysisRun, company: dict, scope: Scope) -> Chart:
    data = company.get("whale") if scope.is_all else whale_figures(_population(run, scope))
    if not data or not data.get("curve"):
        return empty_chart(_("The whale curve needs customers with orders and a total profit other than zero."))
    peak = Decimal(data["peak_pct"])
    n_peak = data["peak_customers"]
    curve = sample_curve(data["curve"], peak_pct=data["peak_pct"])
    xs = [float(x) for x, _y in curve]
    ys = [float(y) for _x, y in curve]
    peak_x = next((float(x) for x, y in curve if Decimal(y) == peak), xs[ys.index(max(ys))])
    figure = go.Figure(
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines",
            name=_("Cumulative profit"),
            line={"color": "#2f6db5", "width": 2.5},
            hovertemplate=_("Top %(share)s of customers by profit") % {"share": "%{x:.1f}%"}
            + "<br>"
            + _("%(share)s of total profit") % {"share": "%{y:.1f}%"}
            + "<extra></extra>",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=[peak_x],
            y=[float(peak)],
            mode="markers+text",
            name=_("Peak"),
            marker={"color": "#c0392b", "size": 11},
            text=[_("Peak %(pct)s%%") % {"pct": number(peak)}],
            textposition="top left" if peak_x > 80 else "top center",
            hoverinfo="skip",
            cliponaxis=False,
        )
    )
    figure.add_hline(y=100, line={"color": "#6b7785", "dash": "dot", "width": 1})
    figure.update_layout(
        **layout(
            xaxis={"title": {"text": _("Customers, most profitable first (percent)")}, "range": [0, 100]},
            yaxis={"title": {"text": _("Cumulative profit (percent of the total)")}},
            showlegend=False,
        )
    )
    reading = [
        _("The %(count)s most profitable customers earn %(peak)s%% of total profit.")
        % {"count": f"{n_peak:,}", "peak": number(peak)},
    ]
    if peak > 100:
        reading.append(
            _("The customers after them give %(back)s percentage points of it back: that is what the loss-makers cost.")
            % {"back": number(peak - 100)}
        )
    else:
        reading.append(_("No customer's losses eat into the total: the curve ends at its peak."))
    rows = [[x, y] for x, y in curve]
    return Chart(
        figure=figure_json(figure),
        reading=reading,
        columns=[_("Customers, % (most profitable first)"), _("Cumulative profit, percent of the total")],
        rows=rows,
        extra={"peak_pct": data["peak_pct"], "peak_customers": n_peak},
    )


def sample_curve(curve: list, *, peak_pct: str, points: int = 500) -> list:
    """At most about `points` points of a whale curve, always with its first, peak and last points.
    (A run may store a point per customer: 100,000 points would not make a better line.)"""
    if len(curve) <= points:
        return curve
    step = len(curve) / points
    keep = {int(i * step) for i in range(points)} | {0, len(curve) - 1}
    keep |= {i for i, (_x, y) in enumerate(curve) if y == peak_pct}
    return [curve[i] for i in sorted(keep)]


def _concentration_data(run: AnalysisRun, company: dict, scope: Scope) -> dict:
    if scope.is_all:
        keys = (
            "revenue",
            "profit",
            "top1_share_pct",
            "top5_share_pct",
            "hhi",
            "concentration_alert",
            "top20_count",
            "top20_revenue_share_pct",
            "top20_profit_share_pct",
        )
        return {key: company.get(key) for key in keys}
    return concentration_figures(_population(run, scope))


def pareto(run: AnalysisRun, company: dict, scope: Scope) -> Chart:
    data = _concentration_data(run, company, scope)
    if not data.get("top20_count") or data.get("top20_revenue_share_pct") is None:
        return empty_chart(_("Pareto shares need customers with orders. Import orders, then recompute."))
    revenue = Decimal(data["top20_revenue_share_pct"])
    profit = None if data["top20_profit_share_pct"] is None else Decimal(data["top20_profit_share_pct"])
    top_name, rest_name = (
        _("Top 20%% of customers (%(count)s)") % {"count": f"{data['top20_count']:,}"},
        _("The other 80%"),
    )
    labels = [_("Share of revenue"), _("Share of profit")]
    top_values = [float(revenue), float(profit or 0)]
    rest_values = [float(100 - revenue), float(100 - (profit or 0))]
    figure = go.Figure(
        [
            go.Bar(
                x=labels,
                y=top_values,
                name=top_name,
                marker_color="#1b7f5a",
                texttemplate="%{y:.1f}%",
                hovertemplate="%{x}: %{y:.1f}%<extra>" + top_name + "</extra>",
            ),
            go.Bar(
                x=labels,
                y=rest_values,
                name=rest_name,
                marker_color="#c5ced8",
                texttemplate="%{y:.1f}%",
                hovertemplate="%{x}: %{y:.1f}%<extra>" + rest_name + "</extra>",
            ),
        ]
    )
    figure.update_layout(**layout(barmode="relative", yaxis={"title": {"text": "%"}, "ticksuffix": "%"}))
    reading = [
        _("The top 20%% of customers (%(count)s) bring %(revenue)s%% of revenue and %(profit)s%% of profit.")
        % {"count": f"{data['top20_count']:,}", "revenue": number(revenue), "profit": number(profit)}
    ]
    if profit is not None and profit > 100:
        reading.append(_("That is more than all the profit: the other customers lose money together."))
    elif profit is not None and profit < 60:
        reading.append(_("Profit is spread more evenly than the 80/20 rule suggests."))
    rows = [
        [_("Share of revenue"), number(revenue, 4), number(100 - revenue, 4)],
        [_("Share of profit"), number(profit, 4), "" if profit is None else number(100 - profit, 4)],
    ]
    return Chart(
        figure=figure_json(figure),
        reading=reading,
        columns=[_("Figure"), top_name, rest_name],
        rows=rows,
        extra={
            "top20_count": data["top20_count"],
            "revenue_pct": data["top20_revenue_share_pct"],
            "profit_pct": data["top20_profit_share_pct"],
        },
    )


def concentration(run: AnalysisRun, company: dict, scope: Scope) -> Chart:
    data = _concentration_data(run, company, scope)
    total = Decimal(data.get("revenue") or 0)
    if not total:
        return empty_chart(_("Concentration needs revenue in the window. Import orders, then recompute."))
    top = list(
        scope.results(run.pk)
        .filter(tier__in=VALUED_TIERS)
        .order_by("-revenue", "customer__code")
        .values_list("customer_id", "customer__code", "customer__name", "revenue")[:10]
    )
    shares = [pct_of(revenue, total) for _pk, _code, _name, revenue in top]
    labels = [chart_text(f"{code} {name}") for _pk, code, name, _revenue in top]
    figure = go.Figure(
        go.Bar(
            x=[float(s) for s in shares],
            y=labels,
            orientation="h",
            marker_color="#2f6db5",
            customdata=[pk for pk, *_rest in top],
            texttemplate="%{x:.1f}%",
            hovertemplate="%{y}<br>" + _("%(share)s of revenue") % {"share": "%{x:.2f}%"} + "<extra></extra>",
        )
    )
    figure.add_vline(x=25, line={"color": "#c0392b", "dash": "dash", "width": 1.5})
    figure.update_layout(
        **layout(
            height=360,
            yaxis={"autorange": "reversed", "automargin": True},
            meta={"click": "customer"},
            xaxis={
                "title": {"text": _("Share of revenue (%)")},
                "ticksuffix": "%",
                "range": [0, max(30.0, float(max(shares)) * 1.1)],
            },
            showlegend=False,
            margin={"l": 10},
        )
    )
    top1, top5, hhi = (
        Decimal(data[k]) if data[k] is not None else None for k in ("top1_share_pct", "top5_share_pct", "hhi")
    )
    if data["concentration_alert"]:
        reading = [
            _(
                "Revenue is concentrated: the largest customer brings %(top1)s%% and the HHI is %(hhi)s "
                "(the alert is above 25%% or 2,500). Losing one buyer would hurt."
            )
            % {"top1": number(top1), "hhi": number(hhi, 0)}
        ]
    else:
        reading = [
            _(
                "Revenue is spread: the largest customer brings %(top1)s%%, the five largest %(top5)s%%, "
                "HHI %(hhi)s (the alert is above 25%% or 2,500)."
            )
            % {"top1": number(top1), "top5": number(top5), "hhi": number(hhi, 0)}
        ]
    rows = [
        [code, name, cents(revenue), number(share, 4)]
        for (_pk, code, name, revenue), share in zip(top, shares, strict=False)
    ]
    extra = {
        "top1_share_pct": data["top1_share_pct"],
        "top5_share_pct": data["top5_share_pct"],
        "hhi": data["hhi"],
        "alert": data["concentration_alert"],
    }
    return Chart(
        figure=figure_json(figure),
        reading=reading,
        columns=[_("Code"), _("Name"), _("Revenue"), _("Share of revenue (%)")],
        rows=rows,
        extra=extra,
    )


# -------------------------------------------------------------------------------------------- tiers


def tiers(run: AnalysisRun, company: dict, scope: Scope) -> Chart:
    rows_by_tier = {
        tier: (n, revenue, profit)
        for tier, n, revenue, profit in scope.results(run.pk)
        .order_by()
        .values_list("tier")
        .annotate(n=Count("id"), sum_revenue=Sum("revenue"), sum_profit=Sum("profit"))
        .values_list("tier", "n", "sum_revenue", "sum_profit")
    }
    total = sum(n for n, _r, _p in rows_by_tier.values())
    if not total:
        return empty_chart(_("No customers in this selection."))
    order = [t for t in Tier.values if t in rows_by_tier]
    labels = chart_texts(tier_label(t) for t in order)
    colours = [TIER_COLOURS[t] for t in order]
    figure = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=[_("Customers"), _("Profit (%(currency)s)") % {"currency": currency()}],
        horizontal_spacing=0.12,
    )
    figure.add_trace(
        go.Bar(
            x=labels,
            y=[rows_by_tier[t][0] for t in order],
            marker_color=colours,
            texttemplate="%{y:,}",
            hovertemplate="%{x}: %{y:,}<extra></extra>",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Bar(
            x=labels,
            y=[float(rows_by_tier[t][2] or 0) for t in order],
            marker_color=colours,
            hovertext=[shown(rows_by_tier[t][2] or 0) for t in order],
            hovertemplate="%{x}: %{hovertext}<extra></extra>",
            showlegend=False,
        ),
        row=1,
        col=2,
    )
    figure.update_layout(**layout(height=340, margin={"t": 40}))
    figure.update_yaxes(gridcolor="#eef1f5", separatethousands=True)
    figure.update_yaxes(tickformat=",d", rangemode="tozero", row=1, col=1)  # whole customers
    total_profit = sum((p or 0 for _n, _r, p in rows_by_tier.values()), Decimal(0))
    reading = []
    if "A" in rows_by_tier:
        n, _revenue, profit = rows_by_tier["A"]
        reading.append(
            _("Core customers (A) are %(count)s of %(total)s (%(share)s%%) and earn %(profit)s%% of profit.")
            % {
                "count": f"{n:,}",
                "total": f"{total:,}",
                "share": number(pct_of(n, total)),
                "profit": number(pct_of(profit, total_profit)),
            }
        )
    if "D" in rows_by_tier:
        n, _revenue, profit = rows_by_tier["D"]
        reading.append(
            _("%(count)s drain customers (D) lose %(loss)s %(currency)s together.")
            % {"count": f"{n:,}", "loss": shown(-(profit or 0)), "currency": currency()}
        )
    if "P" in rows_by_tier:
        reading.append(
            _("%(count)s prospects (P) had no orders in the window.") % {"count": f"{rows_by_tier['P'][0]:,}"}
        )
    rows = [
        [t, str(Tier(t).label), rows_by_tier[t][0], cents(rows_by_tier[t][1]), cents(rows_by_tier[t][2])] for t in order
    ]
    return Chart(
        figure=figure_json(figure),
        reading=reading,
        columns=[_("Tier"), _("Name"), _("Customers"), _("Revenue"), _("Profit")],
        rows=rows,
        extra={"counts": {t: rows_by_tier[t][0] for t in order}},
    )


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


def quadrants(run: AnalysisRun, company: dict, scope: Scope) -> Chart:
    found = {
        q: (n, profit)
        for q, n, profit in scope.results(run.pk)
        .exclude(quadrant="")
        .order_by()
        .values_list("quadrant")
        .annotate(n=Count("id"), sum_profit=Sum("profit"))
        .values_list("quadrant", "n", "sum_profit")
    }
    if not found:
        return empty_chart(_("No customer has a quadrant yet: quadrants need customers with orders in the window."))
    z = [[0, 0], [0, 0]]
    text = [["", ""], ["", ""]]
    for quadrant, (col, row) in QUADRANT_CELLS.items():
        n, profit = found.get(quadrant, (0, Decimal(0)))
        z[row][col] = n
        text[row][col] = (
            f"<b>{chart_text(quadrant.label)}</b><br>{n:,}<br>"
            + chart_text(_("profit %(amount)s") % {"amount": shown(profit)})
            + "<br>"
            + chart_text(_("action: %(action)s") % {"action": QUADRANT_ACTIONS[quadrant].label})
        )
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=chart_texts([_("Low current profit"), _("High current profit")]),
            y=chart_texts([_("Low future profit"), _("High future profit")]),
            text=text,
            texttemplate="%{text}",
            hoverinfo="skip",
            colorscale=[[0, "#f5f7fa"], [1, "#9cc3e6"]],
            showscale=False,
            xgap=4,
            ygap=4,
        )
    )
    figure.update_layout(
        **layout(height=360, xaxis={"side": "bottom", "gridcolor": "#ffffff"}, yaxis={"gridcolor": "#ffffff"})
    )
    total = sum(n for n, _p in found.values())
    counts = {q: found.get(q, (0, 0))[0] for q in QUADRANT_CELLS}
    reading = [
        _(
            "%(champion)s champions to invest in, %(star)s future stars to develop, %(harvest)s to harvest and "
            "%(exit)s to reduce or exit, of %(total)s customers with orders."
        )
        % {
            "champion": f"{counts[Quadrant.CHAMPION]:,}",
            "star": f"{counts[Quadrant.STAR]:,}",
            "harvest": f"{counts[Quadrant.HARVEST]:,}",
            "exit": f"{counts[Quadrant.EXIT]:,}",
            "total": f"{total:,}",
        }
    ]
    rows = [
        [q.value, str(q.label), found.get(q, (0, 0))[0], cents(found.get(q, (0, Decimal(0)))[1])]
        for q in QUADRANT_CELLS
    ]
    return Chart(
        figure=figure_json(figure),
        reading=reading,
        columns=[_("Quadrant"), _("Name"), _("Customers"), _("Profit")],
        rows=rows,
        extra={"counts": counts},
    )


def migration(run: AnalysisRun, company: dict, scope: Scope) -> Chart:
    moves = company.get("tier_migration") or {}
    if not moves:
        return empty_chart(_("Tier migration compares two runs: it appears after the next run is published."))
    pairs = sorted(
        ((key.split(">")[0], key.split(">")[1], n) for key, n in moves.items()),
        key=lambda m: (("new", *Tier.values).index(m[0]) if m[0] in ("new", *Tier.values) else 9, m[1]),
    )
    sources = sorted(
        {s for s, _t, _n in pairs}, key=lambda s: ("new", *Tier.values).index(s) if s in ("new", *Tier.values) else 9
    )
    targets = sorted({t for _s, t, _n in pairs}, key=lambda t: Tier.values.index(t) if t in Tier.values else 9)
    label = {"new": _("New customers")}
    nodes = [
        (_("Before: %(tier)s") % {"tier": label.get(s) or tier_label(s)}, TIER_COLOURS.get(s, "#6b7785"))
        for s in sources
    ]
    nodes += [(_("Now: %(tier)s") % {"tier": tier_label(t)}, TIER_COLOURS.get(t, "#6b7785")) for t in targets]
    link_colour = {"up": "rgba(27,127,90,0.35)", "down": "rgba(192,57,43,0.35)", "same": "rgba(138,148,166,0.3)"}

    def direction(source, target):
        if source in TIER_ORDER and target in TIER_ORDER:
            return "same" if source == target else "up" if TIER_ORDER[target] < TIER_ORDER[source] else "down"
        return "same"

    figure = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": chart_texts(n for n, _c in nodes),
                "color": [c for _n, c in nodes],
                "pad": 14,
                "thickness": 16,
            },
            link={
                "source": [sources.index(s) for s, _t, _n in pairs],
                "target": [len(sources) + targets.index(t) for _s, t, _n in pairs],
                "value": [n for _s, _t, n in pairs],
                "color": [link_colour[direction(s, t)] for s, t, _n in pairs],
            },
        )
    )
    figure.update_layout(**layout(height=420, margin={"t": 16}))
    counts = Counter()
    for s, t, n in pairs:
        counts["new" if s == "new" else direction(s, t) if s in TIER_ORDER and t in TIER_ORDER else "other"] += n
    reading = [
        _(
            "Since the previous run %(up)s customers moved up a tier, %(down)s moved down and %(same)s stayed; "
            "%(new)s are new."
        )
        % {
            "up": f"{counts['up']:,}",
            "down": f"{counts['down']:,}",
            "same": f"{counts['same']:,}",
            "new": f"{counts['new']:,}",
        }
    ]
    a_lost = sum(n for s, t, n in pairs if s == "A" and t != "A")
    if a_lost:
        reading.append(_("%(count)s core (A) customers left tier A: find out why.") % {"count": f"{a_lost:,}"})
    rows = [[s, t, n] for s, t, n in pairs]
    return Chart(
        figure=figure_json(figure),
        reading=reading,
        columns=[_("Previous tier"), _("Tier now"), _("Customers")],
        rows=rows,
        extra={"counts": dict(counts)},
    )


def protected(run: AnalysisRun, company: dict, scope: Scope) -> Chart:
    """Loss-making (D) customers that a protection trait sends to review instead of reduce."""
    results = scope.results(run.pk).filter(tier=Tier.D, action=Action.REVIEW)
    totals = results.aggregate(n=Count("id"), loss=Sum("profit"))
    listed = list(
        results.order_by("profit", "customer__code").values_list(
            "customer_id", "customer__code", "customer__name", "revenue", "profit", "protection"
        )[:STORED_ROWS]
    )
    reasons_all = Counter()
    for protection, n in results.order_by().values_list("protection").annotate(n=Count("id")):
        for reason in protection.split(";"):
            if reason:
                reasons_all[reason] += n
    if not listed:
        return empty_chart(_("No protected customer loses money: every loss-maker can be reduced without a review."))
    reasons = reasons_all
    reason_labels = dict(Protection.choices)
    top = listed[:15]
    figure = go.Figure(
        go.Bar(
            x=[float(-profit) for *_r, profit, _p in top],
            y=[chart_text(f"{code} {name}") for _pk, code, name, *_r in top],
            orientation="h",
            marker_color=TIER_COLOURS["D"],
            customdata=[pk for pk, *_r in top],
            hovertext=[chart_text(_("loss %(amount)s") % {"amount": shown(-profit)}) for *_r, profit, _p in top],
            hovertemplate="%{y}<br>%{hovertext}<extra></extra>",
        )
    )
    figure.update_layout(
        **layout(
            height=max(220, 26 * len(top) + 60),
            yaxis={"autorange": "reversed"},
            meta={"click": "customer"},
            xaxis={"title": {"text": _("Loss (%(currency)s)") % {"currency": currency()}}},
            margin={"l": 10},
        )
    )
    reading = [
        _(
            "%(count)s loss-making customers are protected (loyal, big, potential or strategic) and lose "
            "%(loss)s %(currency)s together: review each before cutting it."
        )
        % {"count": f"{totals['n']:,}", "loss": shown(-(totals["loss"] or 0)), "currency": currency()}
    ]
    if reasons:
        reading.append(
            _("Most common reason: %(reason)s (%(count)s).")
            % {
                "reason": reason_labels.get(reasons.most_common(1)[0][0], reasons.most_common(1)[0][0]),
                "count": f"{reasons.most_common(1)[0][1]:,}",
            }
        )
    rows = [
        [code, name, cents(revenue), cents(profit), protection]
        for _pk, code, name, revenue, profit, protection in listed
    ]
    extra = {"count": totals["n"], "ids": [pk for pk, *_r in listed[:25]]}
    return Chart(
        figure=figure_json(figure),
        reading=reading,
        columns=[_("Code"), _("Name"), _("Revenue"), _("Profit"), _("Protection")],
        rows=rows,
        extra=extra,
    )


# ------------------------------------------------------------------------------------------- trends


def top20_trend(run: AnalysisRun, company: dict, scope: Scope) -> Chart:
    trend = company.get("top20_trend") or {}
    counts = trend.get("counts") or {}
    if not sum(counts.values()):
        return empty_chart(_("The top-20% trend needs customers with orders. Import orders, then recompute."))
    groups = [
        ("growing", _("Growing (over +5%)"), GOOD),
        ("flat", _("Flat (±5%)"), NEUTRAL),
        ("declining", _("Declining (over −5%)"), BAD),
        ("new", _("New (no prior revenue)"), NEW),
    ]
    figure = go.Figure(
        go.Bar(
            x=chart_texts(label for _k, label, _c in groups),
            y=[counts.get(k, 0) for k, _l, _c in groups],
            marker_color=[c for _k, _l, c in groups],
            texttemplate="%{y:,}",
            hovertemplate="%{x}: %{y:,}<extra></extra>",
        )
    )
    figure.update_layout(
        **layout(height=300, yaxis={"title": {"text": _("Customers")}, "tickformat": ",d", "rangemode": "tozero"})
    )
    declining = trend.get("declining") or []
    listed = listed_customers(run, (pk for pk, _g in declining), "revenue")
    rows = [
        [*listed.get(pk, ("", ""))[:2], cents(listed.get(pk, ("", "", None))[2]), growth] for pk, growth in declining
    ]
    total = sum(counts.values())
    reading = [
        _(
            "Of the top 20%% by revenue (%(total)s customers), %(growing)s are growing, %(flat)s flat, "
            "%(declining)s declining and %(new)s new."
        )
        % {
            "total": f"{total:,}",
            "growing": f"{counts.get('growing', 0):,}",
            "flat": f"{counts.get('flat', 0):,}",
            "declining": f"{counts.get('declining', 0):,}",
            "new": f"{counts.get('new', 0):,}",
        }
    ]
    if declining:
        pk, growth = declining[0]
        reading.append(
            _("The steepest fall: %(customer)s, %(growth)s%% against the year before. Ask why.")
            % {"customer": " ".join(listed.get(pk, ("", ""))[:2]), "growth": number(Decimal(growth))}
        )
    return Chart(
        figure=figure_json(figure),
        reading=reading,
        columns=[_("Code"), _("Name"), _("Revenue"), _("Growth %")],
        rows=rows,
        extra={"counts": counts, "count": counts.get("declining", 0), "ids": [pk for pk, _g in declining[:25]]},
    )


def churn(run: AnalysisRun, company: dict, scope: Scope) -> Chart:
    by_month = company.get("churn_by_month") or []
    by_quarter = company.get("churn_by_quarter") or []
    if not by_month:
        return empty_chart(_("No churn figures in this run."))
    figure = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.68, 0.32],
        horizontal_spacing=0.08,
        subplot_titles=[_("By month"), _("By quarter")],
    )
    hover = (
        "%{x}: %{y:.2f}%<br>"
        + _("%{customdata[0]:,} churned of %{customdata[1]:,} active at the start")
        + "<extra></extra>"
    )
    for col, periods in ((1, by_month), (2, by_quarter)):
        figure.add_trace(
            go.Bar(
                x=[p["period"] for p in periods],
                y=[float(p["rate_pct"] or 0) for p in periods],
                marker_color=BAD,
                customdata=[[p["churned"], p["active_at_start"]] for p in periods],
                hovertemplate=hover,
                showlegend=False,
            ),
            row=1,
            col=col,
        )
    figure.update_layout(**layout(height=320, margin={"t": 40}))
    figure.update_xaxes(type="category")
    figure.update_yaxes(ticksuffix="%", gridcolor="#eef1f5", rangemode="tozero")
    churned = company.get("churned_in_window", 0)
    reading = []
    if churned:
        worst = max(by_month, key=lambda p: Decimal(p["rate_pct"] or 0))
        reading.append(
            _("%(count)s customers churned in the 12 months; the monthly rate peaked at %(rate)s%% in %(month)s.")
            % {"count": f"{churned:,}", "rate": number(Decimal(worst["rate_pct"] or 0), 2), "month": worst["period"]}
        )
        reading.append(
            _("They brought %(amount)s %(currency)s in their last 12 months before leaving.")
            % {"amount": shown(company.get("revenue_lost")), "currency": currency()}
        )
    else:
        reading.append(_("No customer churned in the 12 months."))
    reading.append(_("Lowering churn by 5 percent can raise profit by 25 to 85 percent."))
    rows = [[p["period"], p["churned"], p["active_at_start"], p["rate_pct"] or ""] for p in by_month + by_quarter]
    return Chart(
        figure=figure_json(figure),
        reading=reading,
        columns=[_("Period"), _("Churned"), _("Active at the start"), _("Churn rate %")],
        rows=rows,
        extra={"churned": churned, "revenue_lost": company.get("revenue_lost")},
    )


def churn_reasons(run: AnalysisRun, company: dict, scope: Scope) -> Chart:
    reasons = company.get("churn_reasons") or {}
    if not reasons:
        return empty_chart(_("No customer churned in the 12 months, so there are no reasons to study."))
    labels = dict(Customer.ChurnReason.choices)
    ordered = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    figure = go.Figure(
        go.Bar(
            x=[n for _r, n in ordered],
            y=chart_texts(labels.get(r, r) for r, _n in ordered),
            orientation="h",
            marker_color=BAD,
            texttemplate="%{x:,}",
            hovertemplate="%{y}: %{x:,}<extra></extra>",
        )
    )
    figure.update_layout(
        **layout(
            height=max(200, 34 * len(ordered) + 60),
            yaxis={"autorange": "reversed"},
            xaxis={"title": {"text": _("Customers")}, "tickformat": ",d"},
            margin={"l": 10},
        )
    )
    total = sum(reasons.values())
    top_reason, top_n = ordered[0]
    reading = [
        _("The main reason customers left: %(reason)s (%(count)s of %(total)s).")
        % {"reason": labels.get(top_reason, top_reason), "count": f"{top_n:,}", "total": f"{total:,}"}
    ]
    rows = [[r, str(labels.get(r, r)), n] for r, n in ordered]
    return Chart(
        figure=figure_json(figure), reading=reading, columns=[_("Reason"), _("Name"), _("Customers")], rows=rows
    )


def dormant(run: AnalysisRun, company: dict, scope: Scope) -> Chart:
    count = company.get("dormant_count", 0)
    listed = company.get("dormant") or []
    if not count:
        return empty_chart(_("No customer has gone 180 days without an order."))
    found = listed_customers(run, (pk for pk, _days in listed), "prior_revenue")
    rows = [[*found.get(pk, ("", ""))[:2], days, cents(found.get(pk, ("", "", None))[2])] for pk, days in listed]
    reading = [
        _("%(count)s customers have not ordered for 180 days or more. Call them before they are lost.")
        % {"count": f"{count:,}"}
    ]
    if len(listed) < count:
        reading.append(_("The %(shown)s longest silent are listed.") % {"shown": f"{len(listed):,}"})
    return Chart(
        figure=None,
        reading=reading,
        columns=[_("Code"), _("Name"), _("Days since the last order"), _("Revenue in the year before")],
        rows=rows,
        extra={"count": count, "ids": [pk for pk, _d in listed[:25]]},
    )


def arpu(run: AnalysisRun, company: dict, scope: Scope) -> Chart:
    months = company.get("arpu") or []
    if not any(m.get("arpu") for m in months):
        return empty_chart(_("ARPU needs active customers with orders. Import orders, then recompute."))
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    # The bars on the left axis and the ARPU line on the right one: Plotly draws the second axis on top.
    figure.add_trace(
        go.Bar(
            x=[m["month"] for m in months],
            y=[m["active"] for m in months],
            name=_("Active customers"),
            marker_color="#dde3ea",
            hovertemplate="%{x}: %{y:,}<extra></extra>",
        ),
        secondary_y=False,
    )
    figure.add_trace(
        go.Scatter(
            x=[m["month"] for m in months],
            y=[float(m["arpu"]) if m["arpu"] else None for m in months],
            hovertext=[shown(m["arpu"]) if m["arpu"] else "" for m in months],
            name=_("ARPU (%(currency)s)") % {"currency": currency()},
            mode="lines+markers",
            line={"color": "#2f6db5", "width": 2.5},
            hovertemplate="%{x}: %{hovertext}<extra></extra>",
        ),
        secondary_y=True,
    )
    figure.update_layout(**layout(height=320))
    figure.update_xaxes(type="category")
    figure.update_yaxes(
        title_text=_("Active customers"), secondary_y=False, tickformat=",d", rangemode="tozero", gridcolor="#eef1f5"
    )
    figure.update_yaxes(
        title_text=_("ARPU"), secondary_y=True, separatethousands=True, rangemode="tozero", showgrid=False
    )
    valued = [m for m in months if m.get("arpu")]
    first, last = valued[0], valued[-1]
    change = pct_of(Decimal(last["arpu"]) - Decimal(first["arpu"]), Decimal(first["arpu"]))
    reading = [
        _(
            "Average revenue per active customer was %(last)s %(currency)s in %(month)s, %(change)s%% against "
            "%(first_month)s."
        )
        % {
            "last": shown(last["arpu"]),
            "currency": currency(),
            "month": last["month"],
            "change": f"{change:+.1f}" if change is not None else "—",
            "first_month": first["month"],
        }
    ]
    rows = [[m["month"], m["revenue"], m["active"], m["arpu"] or ""] for m in months]
    return Chart(
        figure=figure_json(figure),
        reading=reading,
        columns=[_("Month"), _("Revenue"), _("Active customers"), _("ARPU")],
        rows=rows,
    )


# ------------------------------------------------------------------------------------------ service


def _window_bounds(run: AnalysisRun) -> tuple[datetime.datetime, datetime.datetime]:
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(run.window_start, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(run.window_end + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    return start, end


def service(run: AnalysisRun, company: dict, scope: Scope) -> Chart:
    """The complaint KPIs (complaints.selectors) for complaints received in the run's window."""
    from complaints.selectors import complaint_kpis

    start, end = _window_bounds(run)
    now = timezone.now()
    kpis = complaint_kpis(start=start, end=end, now=now)
    backlog = kpis["backlog_by_age"]
    buckets = [("d0_1", _("0–1 days")), ("d1_3", _("1–3 days")), ("d3_7", _("3–7 days")), ("d7_plus", _("7+ days"))]
    figure = go.Figure(
        go.Bar(
            x=chart_texts(label for _k, label in buckets),
            y=[backlog[k] for k, _l in buckets],
            marker_color=["#8a94a6", "#c9a227", "#e67e22", "#c0392b"],
            texttemplate="%{y:,}",
            hovertemplate="%{x}: %{y:,}<extra></extra>",
        )
    )
    figure.update_layout(
        **layout(height=280, yaxis={"title": {"text": _("Open complaints")}, "tickformat": ",d", "rangemode": "tozero"})
    )
    if kpis["complaints"]:
        reading = [
            _(
                "%(count)s complaints in the 12 months: SLA compliance %(sla)s%%, first response in %(first)s "
                "hours (median), %(ratio)s complaints per 100 orders."
            )
            % {
                "count": f"{kpis['complaints']:,}",
                "sla": kpis["sla_compliance_pct"] if kpis["sla_compliance_pct"] is not None else "—",
                "first": kpis["first_response_median_hours"]
                if kpis["first_response_median_hours"] is not None
                else "—",
                "ratio": kpis["complaints_per_100_orders"] if kpis["complaints_per_100_orders"] is not None else "—",
            }
        ]
    else:
        reading = [_("No complaints were received in the 12 months.")]
    reading.append(
        _(
            "A customer loses about one percent per day that a problem stays open: %(days)s unresolved "
            "customer-days now."
        )
        % {"days": kpis["unresolved_customer_days"]}
    )
    tiles = [
        (_("Complaints received"), kpis["complaints"]),
        (
            _("First response, median / 90th percentile (hours)"),
            f"{kpis['first_response_median_hours'] or '—'} / {kpis['first_response_p90_hours'] or '—'}",
        ),
        (
            _("Resolution, median / 90th percentile (hours)"),
            f"{kpis['resolution_median_hours'] or '—'} / {kpis['resolution_p90_hours'] or '—'}",
        ),
        (_("SLA compliance"), _pct_text(kpis["sla_compliance_pct"])),
        (_("Reopen rate"), _pct_text(kpis["reopen_rate_pct"])),
        (_("Recurrence rate (same problem within 90 days)"), _pct_text(kpis["recurrence_rate_pct"])),
        (_("Complaints per 100 orders"), kpis["complaints_per_100_orders"] or "—"),
        (_("Satisfaction after a complaint (1–5)"), kpis["post_complaint_satisfaction"] or "—"),
    ]
    rows = [[label, str(value)] for label, value in tiles] + [[label, backlog[k]] for k, label in buckets]
    return Chart(
        figure=figure_json(figure),
        reading=reading,
        columns=[_("Figure"), _("Value")],
        rows=rows,
        extra={"tiles": [[str(label), str(value)] for label, value in tiles], "computed_at": now.isoformat()},
    )


def _pct_text(value) -> str:
    return "—" if value is None else f"{value}%"


def satisfaction(run: AnalysisRun, company: dict, scope: Scope) -> Chart:
    """Surveys answered in the run's window: the 5-level distribution and the monthly mean score."""
    surveys = Survey.objects.filter(answered_on__gte=run.window_start, answered_on__lte=run.window_end)
    distribution = dict(surveys.order_by().values_list("score").annotate(n=Count("id")))
    total = sum(distribution.values())
    if not total:
        return empty_chart(
            _("No survey was answered in the 12 months. Import surveys (manage.py import_data surveys …).")
        )
    monthly = list(
        surveys.annotate(month=TruncMonth("answered_on"))
        .order_by("month")
        .values("month")
        .annotate(mean=Avg("score"), n=Count("id"))
        .values_list("month", "mean", "n")
    )
    levels = list(Survey.Score)
    figure = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.45, 0.55],
        horizontal_spacing=0.1,
        subplot_titles=[_("Answers by level"), _("Mean score by month (1–5)")],
    )
    figure.add_trace(
        go.Bar(
            x=chart_texts(level.label for level in levels),
            y=[distribution.get(level.value, 0) for level in levels],
            marker_color=[SATISFACTION_COLOURS[level.value] for level in levels],
            texttemplate="%{y:,}",
            hovertemplate="%{x}: %{y:,}<extra></extra>",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Scatter(
            x=[month_label(m) for m, _mean, _n in monthly],
            y=[round(float(mean), 2) for _m, mean, _n in monthly],
            customdata=[n for _m, _mean, n in monthly],
            mode="lines+markers",
            line={"color": "#1b7f5a", "width": 2.5},
            hovertemplate="%{x}: %{y:.2f}<br>" + _("%{customdata:,} answers") + "<extra></extra>",
            showlegend=False,
        ),
        row=1,
        col=2,
    )
    figure.update_layout(**layout(height=320, margin={"t": 40}))
    figure.update_xaxes(type="category")
    figure.update_yaxes(range=[1, 5], row=1, col=2, gridcolor="#eef1f5")
    satisfied = distribution.get(4, 0) + distribution.get(5, 0)
    unhappy = distribution.get(1, 0) + distribution.get(2, 0)
    reading = [
        _("Of %(total)s answers, %(satisfied)s%% were satisfied or highly satisfied and %(unhappy)s%% dissatisfied.")
        % {
            "total": f"{total:,}",
            "satisfied": number(pct_of(satisfied, total)),
            "unhappy": number(pct_of(unhappy, total)),
        }
    ]
    if len(monthly) > 1:
        reading.append(
            _("The mean score went from %(first)s in %(first_month)s to %(last)s in %(last_month)s.")
            % {
                "first": f"{monthly[0][1]:.2f}",
                "first_month": month_label(monthly[0][0]),
                "last": f"{monthly[-1][1]:.2f}",
                "last_month": month_label(monthly[-1][0]),
            }
        )
    rows = [[level.value, str(level.label), distribution.get(level.value, 0)] for level in levels]
    rows += [[m.strftime("%Y-%m"), _("mean %(score)s") % {"score": f"{mean:.2f}"}, n] for m, mean, n in monthly]
    return Chart(
        figure=figure_json(figure),
        reading=reading,
        columns=[_("Level or month"), _("Name"), _("Answers")],
        rows=rows,
        extra={"distribution": {str(k): v for k, v in distribution.items()}},
    )


def portfolio_figure(summary: dict) -> dict:
    """A sales rep's customers and profit per tier (built per request: five bars each)."""
    order = [tier for tier, entry in summary.items() if entry["customers"]]
    labels = chart_texts(tier_label(t) for t in order)
    colours = [TIER_COLOURS[t] for t in order]
    figure = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=[_("Customers"), _("Profit (%(currency)s)") % {"currency": currency()}],
        horizontal_spacing=0.12,
    )
    figure.add_trace(
        go.Bar(
            x=labels,
            y=[summary[t]["customers"] for t in order],
            marker_color=colours,
            texttemplate="%{y:,}",
            hovertemplate="%{x}: %{y:,}<extra></extra>",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Bar(
            x=labels,
            y=[float(summary[t]["profit"]) for t in order],
            marker_color=colours,
            hovertext=[shown(summary[t]["profit"]) for t in order],
            hovertemplate="%{x}: %{hovertext}<extra></extra>",
            showlegend=False,
        ),
        row=1,
        col=2,
    )
    figure.update_layout(**layout(height=280, margin={"t": 40}))
    figure.update_yaxes(gridcolor="#eef1f5", separatethousands=True)
    figure.update_yaxes(tickformat=",d", rangemode="tozero", row=1, col=1)  # whole customers
    return figure_json(figure)


# ---------------------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class ChartSpec:
    name: str
    title: str
    build: object
    filtered: bool  # region/industry/owner filters apply
    help: str = ""


def _specs() -> dict[str, ChartSpec]:
    from django.utils.translation import gettext_lazy

    specs = [
        ChartSpec(
            "profit_volume",
            gettext_lazy("Profit vs volume"),
            profit_volume,
            True,
            gettext_lazy("Every customer with orders: revenue across, profit up, coloured by tier."),
        ),
        ChartSpec(
            "whale",
            gettext_lazy("Whale curve"),
            whale,
            True,
            gettext_lazy("Cumulative profit, most profitable customers first: the hump is what the loss-makers eat."),
        ),
        ChartSpec("pareto", gettext_lazy("Pareto: the top 20%"), pareto, True),
        ChartSpec(
            "concentration",
            gettext_lazy("Revenue concentration"),
            concentration,
            True,
            gettext_lazy(
                "The ten largest customers' share of revenue; the alert is above 25 percent or an HHI of 2,500."
            ),
        ),
        ChartSpec("tiers", gettext_lazy("Tier distribution"), tiers, True),
        ChartSpec("quadrants", gettext_lazy("Quadrant map: current and future profit"), quadrants, True),
        ChartSpec("migration", gettext_lazy("Tier migration since the previous run"), migration, False),
        ChartSpec("protected", gettext_lazy("Protected loss-makers to review"), protected, True),
        ChartSpec(
            "top20_trend",
            gettext_lazy("Top-20% trend"),
            top20_trend,
            False,
            gettext_lazy("The top 20 percent of customers by revenue, against their revenue the year before."),
        ),
        ChartSpec(
            "churn",
            gettext_lazy("Churn rate"),
            churn,
            False,
            gettext_lazy("Customers who left in the period / active customers at its start."),
        ),
        ChartSpec("churn_reasons", gettext_lazy("Why customers left"), churn_reasons, False),
        ChartSpec(
            "dormant",
            gettext_lazy("Dormant customers"),
            dormant,
            False,
            gettext_lazy("No order for 180 days or more, not churned."),
        ),
        ChartSpec(
            "arpu",
            gettext_lazy("ARPU by month"),
            arpu,
            False,
            gettext_lazy("Revenue in the month / active customers at its end."),
        ),
        ChartSpec(
            "service",
            gettext_lazy("Service KPIs"),
            service,
            False,
            gettext_lazy("Complaints received in the run's 12 months; the backlog as of when this was computed."),
        ),
        ChartSpec(
            "satisfaction",
            gettext_lazy("Satisfaction"),
            satisfaction,
            False,
            gettext_lazy("Surveys on the 5-level scale answered in the run's 12 months."),
        ),
    ]
    return {spec.name: spec for spec in specs}


CHARTS = _specs()
