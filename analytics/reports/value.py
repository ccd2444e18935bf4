"""The Value page: profit vs volume (a point per customer), the whale curve, the top 20% (Pareto) and
revenue concentration, for the whole company or a region, industry or owner.

The profit-vs-volume points are stored once per run and filter, language-neutral and compact
(`profit_volume_points`: revenue and profit in whole cents, customer ids as small deltas, base64 in
Plotly's typed-array form), apart from the card (the translated frame: traces without points, guide
lines, axis buttons, the reading), so the page stays small and the points come from their own
JSON endpoint after it.
"""

import array
import base64
import sys
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

import numpy as np
from django.db.models import Count, Min, Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.charts import chart_text

from ..models import AnalysisRun
from ..services import core
from .cards import TIER_COLOURS, TWO, VALUED_TIERS, Card, Scope, cents, chart, currency, number, pct_of, shown
from .cards import tier_label as label_of

INLINE_LABELS_UP_TO = 5000  # up to this many points, names travel with the points (hover shows them at once)
INT32 = range(-(2**31), 2**31)
MENU = {"type": "buttons", "direction": "right", "x": 0, "xanchor": "left", "y": 1.12, "yanchor": "top"}
GUIDE = {"type": "scatter", "mode": "lines+text", "hoverinfo": "skip", "meta": {"role": "guide"}, "cliponaxis": False}
LOSS_COLOUR = "#e0115f"  # the loss-makers' ring: none of the tier colours
LABELLED = 3  # the largest customers by revenue are named on the chart


def _valued(run: AnalysisRun, scope: Scope):
    return scope.results(run.pk).filter(tier__in=VALUED_TIERS)


# -------------------------------------------------------------------------------- profit vs volume


class ProfitVolume(NamedTuple):
    count: int
    by_tier: dict[str, int]
    mean_revenue: Decimal
    mean_profit: Decimal
    losers: int
    loss: Decimal | None
    x_range: list[float]  # the guide lines' ends: the smallest positive and the largest revenue
    y_range: list[float]  # lowest and highest profit, zero included
    largest: tuple  # (customer id, code, name, revenue, profit) of the largest customer by revenue
    top: list  # ... of the LABELLED largest, largest first
    best: tuple  # ... of the most profitable
    best_rank: int  # the most profitable customer's place by revenue


class ProfitVolumeCard(Card):
    """The frame of the chart and its reading; the points come from profit_volume_points."""

    name = "profit_volume"
    title = gettext_lazy("Profit vs volume")
    help = gettext_lazy(
        "Every customer with orders: revenue across, profit up, coloured by tier. Both axes stretch small figures "
        "and squeeze big ones, so small customers, big ones and loss-makers show at once; the ticks are real money. "
        '"Linear axes" draws them to scale.'
    )
    empty = gettext_lazy("No customer has orders in this window. Import orders, then recompute.")
    filtered = True

    def rows(self, run: AnalysisRun, company: dict, scope: Scope) -> ProfitVolume | None:
        """Totals, counts per tier, the largest and the most profitable customers (five queries)."""
        results = _valued(run, scope)
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
            return None
        fields = ("customer_id", "customer__code", "customer__name", "revenue", "profit")
        top = list(results.order_by("-revenue", "customer__code").values_list(*fields)[:LABELLED])
        largest = top[0]
        best = results.order_by("-profit", "customer__code").values_list(*fields).first()
        above_best = Q(revenue__gt=best[3]) | Q(revenue=best[3], customer__code__lt=best[1])
        return ProfitVolume(
            count=n,
            by_tier=dict(results.order_by().values_list("tier").annotate(n=Count("id"))),
            mean_revenue=totals["total_revenue"] / n,
            mean_profit=totals["total_profit"] / n,
            losers=totals["losers"],
            loss=totals["loss"],
            x_range=[float(totals["positive"] or 1), float(max(largest[3], Decimal(1)))],
            y_range=[float(min(totals["low_profit"], Decimal(0))), float(max(best[4], Decimal(0)))],
            largest=largest,
            top=top,
            best=best,
            best_rank=results.filter(above_best).count() + 1,
        )

    def figure(self, pv: ProfitVolume) -> dict:
        money, revenue, profit = currency(), _("Revenue"), _("Profit")
        # customdata: a point's revenue and profit (money, from the exact cents), written as text by
        # plotly.js only when the point is hovered, with the page's separators (layout.separators):
        # float64 money to two decimals is exact to the cent below 2**45 (35 trillion)
        hover = f"%{{text}}<br>{revenue}: %{{customdata[0]:,.2f}} {money}<br>{profit}: %{{customdata[1]:,.2f}} {money}"
        traces = [
            {
                "type": "scattergl",
                "x": [],
                "y": [],
                "mode": "markers",
                "name": chart_text(f"{label_of(tier)} ({pv.by_tier[tier]:,})"),
                "marker": {"color": TIER_COLOURS[tier], "size": 6, "opacity": 0.75, "line": {"width": 0}},
                "meta": {"tier": tier, "role": "points"},
                "hovertemplate": f"{hover}<extra>{chart_text(label_of(tier))}</extra>",
            }
            for tier in VALUED_TIERS
            if pv.by_tier.get(tier)
        ]
        if pv.losers:
            # The loss-makers again, as rings over their points (the browser fills them in): one
            # colour and one legend entry for them whatever their tier. Not hoverable: the hover and
            # the click stay with the point under the ring.
            traces.append(
                {
                    "type": "scattergl",
                    "x": [],
                    "y": [],
                    "mode": "markers",
                    "name": _("Loses money (%(count)s)") % {"count": f"{pv.losers:,}"},
                    "marker": {"color": LOSS_COLOUR, "size": 12, "symbol": "circle-open", "line": {"width": 2}},
                    "meta": {"role": "losses"},
                    "hoverinfo": "skip",
                }
            )
        average_profit = _("Average profit (%(amount)s)") % {"amount": shown(pv.mean_profit)}
        average_revenue = _("Average revenue (%(amount)s)") % {"amount": shown(pv.mean_revenue)}
        break_even = _("Break-even")
        # Raw money coordinates: the browser draws them on the page's scale (static/js/reports.js), the
        # horizontal lines across the whole plot. Each line is named at its left end.
        traces += [
            GUIDE
            | {"x": pv.x_range, "y": [float(pv.mean_profit)] * 2, "name": average_profit}
            | {"text": [chart_text(average_profit), ""], "textposition": "top right"}
            | {"textfont": {"color": "#b26a00"}, "line": {"color": "#b26a00", "dash": "dash", "width": 2}},
            GUIDE
            | {"x": [float(pv.mean_revenue)] * 2, "y": pv.y_range, "name": average_revenue, "mode": "lines"}
            | {"line": {"color": "#6b7785", "dash": "dot", "width": 1.5}},
            GUIDE
            | {"x": pv.x_range, "y": [0, 0], "name": break_even, "line": {"color": "#1d2733", "width": 1}}
            | {"text": [chart_text(break_even), ""], "textposition": "bottom right"},
            {
                "type": "scatter",
                "mode": "text",
                "x": [float(revenue) for *_r, revenue, _p in pv.top],
                "y": [float(profit) for *_r, profit in pv.top],
                "text": [chart_text(_short(f"{code} {name}")) for _pk, code, name, *_r in pv.top],
                "textposition": "top left",
                "textfont": {"size": 11, "color": "#1d2733"},
                "hoverinfo": "skip",
                "showlegend": False,
                "cliponaxis": False,
                "meta": {"role": "labels"},
            },
        ]
        # The scales: "scaled" (asinh(value / a typical value) on both axes, ticks in real money at
        # round figures) first and as drawn; "linear" to scale. The browser fills in each button's
        # coordinates and ticks, which it computes from the points.
        buttons = [("scaled", _("Readable scale")), ("linear", _("Linear axes"))]
        buttons = [{"name": key, "label": label, "method": "update", "args": [{}, {}]} for key, label in buttons]
        x_title = _("Revenue, 12 months (%(currency)s)") % {"currency": money}
        y_title = _("Profit, 12 months (%(currency)s)") % {"currency": money}
        return chart(
            traces,
            height=560,
            margin={"t": 64},
            xaxis={"title": {"text": x_title}, "separatethousands": True, "zeroline": False},
            yaxis={"title": {"text": y_title}, "separatethousands": True, "zeroline": False},
            updatemenus=[MENU | {"buttons": buttons, "showactive": True, "active": 0, "pad": {"r": 4, "t": 0}}],
            hovermode="closest",
            dragmode="zoom",
            meta={"scale": "scaled"},
        )

    def reading(self, pv: ProfitVolume) -> list[str]:
        _pk, code, name, _revenue, profit = pv.largest
        figures = {"customer": f"{code} {name}", "profit": shown(profit), "average": shown(pv.mean_profit)}
        if profit < pv.mean_profit:
            text = _(
                "Your largest customer by revenue, %(customer)s, earns less profit than the average "
                "customer: %(profit)s against %(average)s."
            )
        else:
            text = _(
                "Your largest customer by revenue, %(customer)s, earns %(profit)s, more than the average "
                "customer's %(average)s."
            )
        reading = [text % figures]
        if pv.best[0] != pv.largest[0]:
            reading.append(
                _("The most profitable customer, %(customer)s (%(profit)s), is only number %(rank)s by revenue.")
                % {"customer": f"{pv.best[1]} {pv.best[2]}", "profit": shown(pv.best[4]), "rank": f"{pv.best_rank:,}"}
            )
        if pv.losers:
            reading.append(
                _("%(count)s of %(total)s customers lose money; together they cost %(loss)s %(currency)s.")
                % {"count": f"{pv.losers:,}", "total": f"{pv.count:,}", "loss": shown(-pv.loss), "currency": currency()}
            )
        else:
            reading.append(_("No customer loses money in this window."))
        return [*reading, _("Each point is a customer: hover to see it, click to open it.")]

    def csv(self, pv: ProfitVolume) -> tuple[list, list]:
        return [_("Code"), _("Name"), _("Tier"), _("Revenue"), _("Profit"), _("Quadrant"), _("Action")], []

    def extra(self, pv: ProfitVolume) -> dict:
        means = {"mean_profit": str(pv.mean_profit), "mean_revenue": str(pv.mean_revenue)}
        return {"count": pv.count, **means, "largest": pv.largest[0], "most_profitable": pv.best[0]}

    def export(self, run: AnalysisRun, scope: Scope):
        """One row per plotted customer, largest first (streamed, not stored)."""
        fields = ("customer__code", "customer__name", "tier", "revenue", "profit", "quadrant", "action")
        results = _valued(run, scope).order_by("-revenue", "customer__code").values_list(*fields)
        for code, name, tier, revenue, profit, quadrant, action in results.iterator(chunk_size=5000):
            yield [code, name, tier, cents(revenue), cents(profit), quadrant, action]


def _short(text: str, width: int = 28) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def typed(values, typecode: str) -> dict:
    """Plotly's typed-array form: {"dtype", "bdata"} with little-endian bytes in base64."""
    packed = array.array(typecode, values)
    if sys.byteorder != "little":
        packed.byteswap()
    dtype = {"B": "u1", "H": "u2", "I": "u4", "i": "i4"}[typecode]
    return {"dtype": dtype, "bdata": base64.b64encode(packed.tobytes()).decode("ascii")}


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
    return {"first": ids[0], "delta": typed(gaps, "B" if widest < 2**8 else "H" if widest < 2**16 else "I")}


def profit_volume_points(run: AnalysisRun, scope: Scope) -> dict:
    """Every customer with orders, grouped by tier: revenue (x) and profit (y) in whole cents
    (`money_cents`), customer ids (ascending within a tier) as deltas; names inline (as chart text)
    for small books."""
    results = _valued(run, scope).order_by("tier", "customer_id")
    count = results.count()
    with_labels = count <= INLINE_LABELS_UP_TO
    labels = ["customer__code", "customer__name"] if with_labels else []
    by_tier: dict[str, dict[str, list]] = {}
    for row in results.values_list("customer_id", "tier", "revenue", "profit", *labels).iterator(chunk_size=20000):
        points = by_tier.setdefault(row[1], {"ids": [], "revenue": [], "profit": [], "labels": []})
        points["ids"].append(row[0])
        points["revenue"].append(row[2])
        points["profit"].append(row[3])
        if with_labels:
            points["labels"].append(chart_text(f"{row[4]} {row[5]}"))
    traces = [
        {
            "tier": tier,
            "count": len(points["ids"]),
            "ids": id_deltas(points["ids"]),
            "revenue_cents": money_cents(points["revenue"]),
            "profit_cents": money_cents(points["profit"]),
        }
        | ({"labels": points["labels"]} if with_labels else {})
        for tier, points in sorted(by_tier.items(), key=lambda item: VALUED_TIERS.index(item[0]))
    ]
    return {"count": count, "traces": traces}


# ------------------------------------------------------------------- whale curve, Pareto, concentration


def _population(run: AnalysisRun, scope: Scope) -> list[tuple]:
    """(code, revenue, profit) of the customers with orders in scope, for the filtered figures (the run
    stores the company's)."""
    return list(_valued(run, scope).values_list("customer__code", "revenue", "profit"))


def _columns(population: list[tuple]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(code, revenue, profit, ...) rows as the analytics core reads them: revenue and profit in whole
    cents, and each customer's place by code (ties go by code)."""
    revenue = np.array([int(row[1] * 100) for row in population], dtype=np.int64)
    profit = np.array([int(row[2] * 100) for row in population], dtype=np.int64)
    code_rank = np.empty(len(population), dtype=np.int64)
    code_rank[np.argsort(np.array([row[0] for row in population], dtype=str), kind="stable")] = np.arange(
        len(population)
    )
    return revenue, profit, code_rank


def whale_figures(population: list[tuple], points: int = 400) -> dict:
    """The whale curve of the customers in scope, by the run's own definition (services/core.py)."""
    _revenue, profit, code_rank = _columns(population)
    return core.to_json(core.whale_curve(profit, code_rank, points))


def concentration_figures(population: list[tuple]) -> dict:
    """Top-1 and top-5 shares, HHI, the alert and the top 20%'s shares, by the run's own definition."""
    return core.to_json(core.concentration(*_columns(population)))


def sample_curve(curve: list, *, peak_pct: str, points: int = 500) -> list:
    """At most about `points` points of a whale curve, always with its first, peak and last points.
    (A run may store a point per customer: 100,000 points would not make a better line.)"""
    if len(curve) <= points:
        return curve
    step = len(curve) / points
    keep = {int(i * step) for i in range(points)} | {0, len(curve) - 1}
    keep |= {i for i, (_x, y) in enumerate(curve) if y == peak_pct}
    return [curve[i] for i in sorted(keep)]


class WhaleCard(Card):
    name = "whale"
    title = gettext_lazy("Whale curve")
    help = gettext_lazy("Cumulative profit, most profitable customers first: the hump is what the loss-makers eat.")
    empty = gettext_lazy("The whale curve needs customers with orders and a total profit other than zero.")
    filtered = True

    def rows(self, run: AnalysisRun, company: dict, scope: Scope) -> dict | None:
        """The curve (sampled), its peak and the customers up to it: the run's, or computed for the scope."""
        whale = company.get("whale") if scope.is_all else whale_figures(_population(run, scope))
        if not whale or not whale.get("curve"):
            return None
        return whale | {"curve": sample_curve(whale["curve"], peak_pct=whale["peak_pct"])}

    def figure(self, whale: dict) -> dict:
        peak = Decimal(whale["peak_pct"])
        xs, ys = [float(x) for x, _y in whale["curve"]], [float(y) for _x, y in whale["curve"]]
        peak_x = next((float(x) for x, y in whale["curve"] if Decimal(y) == peak), xs[ys.index(max(ys))])
        hover = _("Top %(share)s of customers by profit") % {"share": "%{x:.1f}%"}
        hover += "<br>" + _("%(share)s of total profit") % {"share": "%{y:.1f}%"} + "<extra></extra>"
        line = {"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": _("Cumulative profit")}
        line |= {"line": {"color": "#2f6db5", "width": 2.5}, "hovertemplate": hover}
        marker = {"type": "scatter", "x": [peak_x], "y": [float(peak)], "mode": "markers+text", "name": _("Peak")}
        marker |= {
            "marker": {"color": "#c0392b", "size": 11},
            "text": [_("Peak %(pct)s%%") % {"pct": number(peak)}],
            "textposition": "top left" if peak_x > 80 else "top center",
            "hoverinfo": "skip",
            "cliponaxis": False,
        }
        hundred = {"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": 100, "y1": 100}
        return chart(
            [line, marker],
            xaxis={"title": {"text": _("Customers, most profitable first (percent)")}, "range": [0, 100]}
            | {"ticksuffix": "%", "dtick": 20},
            yaxis={"title": {"text": _("Cumulative profit (percent of the total)")}, "ticksuffix": "%"},
            showlegend=False,
            shapes=[hundred | {"line": {"color": "#6b7785", "dash": "dot", "width": 1}}],
        )

    def reading(self, whale: dict) -> list[str]:
        peak = Decimal(whale["peak_pct"])
        reading = [
            _("The %(count)s most profitable customers earn %(peak)s%% of total profit.")
            % {"count": f"{whale['peak_customers']:,}", "peak": number(peak)}
        ]
        if peak > 100:
            back = _(
                "The customers after them give %(back)s percentage points of it back: that is what the loss-makers cost."
            )
            return [*reading, back % {"back": number(peak - 100)}]
        return [*reading, _("No customer's losses eat into the total: the curve ends at its peak.")]

    def csv(self, whale: dict) -> tuple[list, list]:
        columns = [_("Customers, % (most profitable first)"), _("Cumulative profit, percent of the total")]
        return columns, [list(point) for point in whale["curve"]]

    def extra(self, whale: dict) -> dict:
        return {"peak_pct": whale["peak_pct"], "peak_customers": whale["peak_customers"]}


CONCENTRATION_KEYS = ("revenue", "top1_share_pct", "top5_share_pct", "hhi", "concentration_alert", "top20_count")


def concentration_data(run: AnalysisRun, company: dict, scope: Scope) -> dict:
    """The concentration figures: the run's, or computed for the scope by the same definitions."""
    if scope.is_all:
        keys = (*CONCENTRATION_KEYS, "top20_revenue_share_pct", "top20_profit_share_pct")
        return {key: company.get(key) for key in keys}
    return concentration_figures(_population(run, scope))


class Pareto(NamedTuple):
    count: int
    revenue: Decimal  # the top 20%'s share of revenue, percent
    profit: Decimal | None  # ... of profit

    @property
    def names(self) -> tuple[str, str]:
        return _("Top 20%% of customers (%(count)s)") % {"count": f"{self.count:,}"}, _("The other 80%")


class ParetoCard(Card):
    name = "pareto"
    title = gettext_lazy("Pareto: the top 20%")
    empty = gettext_lazy("Pareto shares need customers with orders. Import orders, then recompute.")
    filtered = True

    def rows(self, run: AnalysisRun, company: dict, scope: Scope) -> Pareto | None:
        data = concentration_data(run, company, scope)
        if not data.get("top20_count") or data.get("top20_revenue_share_pct") is None:
            return None
        profit = data["top20_profit_share_pct"]
        return Pareto(data["top20_count"], Decimal(data["top20_revenue_share_pct"]), profit and Decimal(profit))

    def figure(self, pareto: Pareto) -> dict:
        labels = [_("Share of revenue"), _("Share of profit")]
        top = [pareto.revenue, pareto.profit or 0]
        shares = (top, [100 - top[0], 100 - top[1]])
        bars = [
            {"type": "bar", "x": labels, "y": [float(v) for v in values], "name": name, "marker": {"color": colour}}
            | {"texttemplate": "%{y:.1f}%", "hovertemplate": "%{x}: %{y:.1f}%<extra>" + name + "</extra>"}
            for name, values, colour in zip(pareto.names, shares, ("#1b7f5a", "#c5ced8"), strict=True)
        ]
        return chart(bars, barmode="relative", yaxis={"title": {"text": "%"}, "ticksuffix": "%"})

    def reading(self, pareto: Pareto) -> list[str]:
        reading = [
            _("The top 20%% of customers (%(count)s) bring %(revenue)s%% of revenue and %(profit)s%% of profit.")
            % {"count": f"{pareto.count:,}", "revenue": number(pareto.revenue), "profit": number(pareto.profit)}
        ]
        if pareto.profit is not None and pareto.profit > 100:
            reading.append(_("That is more than all the profit: the other customers lose money together."))
        elif pareto.profit is not None and pareto.profit < 60:
            reading.append(_("Profit is spread more evenly than the 80/20 rule suggests."))
        return reading

    def csv(self, pareto: Pareto) -> tuple[list, list]:
        rest_of_profit = "" if pareto.profit is None else number(100 - pareto.profit, 4)
        return [_("Figure"), *pareto.names], [
            [_("Share of revenue"), number(pareto.revenue, 4), number(100 - pareto.revenue, 4)],
            [_("Share of profit"), number(pareto.profit, 4), rest_of_profit],
        ]

    def extra(self, pareto: Pareto) -> dict:
        profit = None if pareto.profit is None else str(pareto.profit)
        return {"top20_count": pareto.count, "revenue_pct": str(pareto.revenue), "profit_pct": profit}


class ConcentrationCard(Card):
    name = "concentration"
    title = gettext_lazy("Revenue concentration")
    help = gettext_lazy(
        "The ten largest customers' share of revenue; the alert is above 25 percent or an HHI of 2,500."
    )
    empty = gettext_lazy("Concentration needs revenue in the window. Import orders, then recompute.")
    filtered = True

    def rows(self, run: AnalysisRun, company: dict, scope: Scope) -> dict | None:
        """The concentration figures and the ten largest customers with their share of revenue."""
        data = concentration_data(run, company, scope)
        total = Decimal(data.get("revenue") or 0)
        if not total:
            return None
        top = _valued(run, scope).order_by("-revenue", "customer__code")
        top = top.values_list("customer_id", "customer__code", "customer__name", "revenue")[:10]
        return data | {"top": [(pk, code, name, revenue, pct_of(revenue, total)) for pk, code, name, revenue in top]}

    def figure(self, data: dict) -> dict:
        top = data["top"]
        hover = "%{y}<br>" + _("%(share)s of revenue") % {"share": "%{x:.2f}%"} + "<extra></extra>"
        bars = {"type": "bar", "orientation": "h", "marker": {"color": "#2f6db5"}, "texttemplate": "%{x:.1f}%"}
        bars |= {
            "x": [float(share) for *_r, share in top],
            "y": [chart_text(f"{code} {name}") for _pk, code, name, *_r in top],
            "customdata": [pk for pk, *_r in top],
            "hovertemplate": hover,
        }
        alert = {"type": "line", "xref": "x", "x0": 25, "x1": 25, "yref": "y domain", "y0": 0, "y1": 1}
        widest = max(30.0, float(max(share for *_r, share in top)) * 1.1)
        return chart(
            [bars],
            height=360,
            yaxis={"autorange": "reversed", "automargin": True},
            meta={"click": "customer"},
            xaxis={"title": {"text": _("Share of revenue (%)")}, "ticksuffix": "%", "range": [0, widest]},
            showlegend=False,
            margin={"l": 10},
            shapes=[alert | {"line": {"color": "#c0392b", "dash": "dash", "width": 1.5}}],
        )

    def reading(self, data: dict) -> list[str]:
        top1, top5, hhi = (None if data[k] is None else Decimal(data[k]) for k in CONCENTRATION_KEYS[1:4])
        if data["concentration_alert"]:
            text = _(
                "Revenue is concentrated: the largest customer brings %(top1)s%% and the HHI is %(hhi)s "
                "(the alert is above 25%% or 2,500). Losing one buyer would hurt."
            )
        else:
            text = _(
                "Revenue is spread: the largest customer brings %(top1)s%%, the five largest %(top5)s%%, "
                "HHI %(hhi)s (the alert is above 25%% or 2,500)."
            )
        return [text % {"top1": number(top1), "top5": number(top5), "hhi": number(hhi, 0)}]

    def csv(self, data: dict) -> tuple[list, list]:
        rows = [[code, name, cents(revenue), number(share, 4)] for _pk, code, name, revenue, share in data["top"]]
        return [_("Code"), _("Name"), _("Revenue"), _("Share of revenue (%)")], rows

    def extra(self, data: dict) -> dict:
        shares = {key: data[key] for key in ("top1_share_pct", "top5_share_pct", "hhi")}
        return shares | {"alert": data["concentration_alert"]}


CARDS = (ProfitVolumeCard(), WhaleCard(), ParetoCard(), ConcentrationCard())
