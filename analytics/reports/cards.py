"""What every report page is made of: the filters (`Scope`), the card (`Card`: one query, and the
figure, reading, CSV and list rows as separate functions of the rows it read), and the one look of
every chart.

Chart text follows core.charts: whatever comes from data goes through `chart_text` (plotly.js renders
HTML in chart text) and money a person reads is formatted from the Decimal (`chart_money`), never
from a float; coordinates are float64. Figures are plain dicts (`core.charts.figure`): no
plotly.graph_objects, which validate every attribute on every build.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.conf import settings

from core.charts import chart_money, chart_separators
from core.charts import figure as plain_figure

from ..models import AnalysisRun, CustomerResult, Tier

# The tier colours of static/css/app.css (--tier-a ... --tier-p): lists, badges and charts agree.
TIER_COLOURS = {"A": "#1b7f5a", "B": "#2f6db5", "C": "#8a94a6", "D": "#c0392b", "P": "#c9a227"}
VALUED_TIERS = ("A", "B", "C", "D")  # customers with orders in the window: the plotted population
TWO = Decimal("0.01")
shown = chart_money  # money as people read it in a reading, a list or a chart: half-up to the cent, grouped
NOTHING = {
    "figure": None,
    "reading": [],
    "columns": [],
    "rows": [],
    "table": [],
    "extra": {},
}  # an empty card, with its message


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


class Card:
    """One report card, as django-oscar splits a report into a generator and its formatters: `rows`
    reads the data once (None when there is nothing to show: the card then says `empty`), and the
    figure, the reading, the CSV ((columns, rows)), the list a person reads (display-ready cells,
    each row with its customer's id) and `extra` are separate functions of those rows. `export`
    streams the full CSV of a card that keeps only its first rows. A `live` card reads what changes
    between runs and is built on every request, never stored."""

    name: str
    title: str
    help = ""
    empty = ""
    filtered = False  # region/industry/owner filters apply
    live = False

    def rows(self, run: AnalysisRun, company: dict, scope: Scope):
        raise NotImplementedError

    def figure(self, rows) -> dict | None:
        return None

    def reading(self, rows) -> list[str]:
        return []

    def csv(self, rows) -> tuple[list, list]:
        raise NotImplementedError

    def table(self, rows) -> list[dict]:
        return []

    def extra(self, rows) -> dict:
        return {}

    def export(self, run: AnalysisRun, scope: Scope) -> Iterable[list] | None:
        return None

    def build(self, run: AnalysisRun, company: dict, scope: Scope) -> dict:
        """The card as stored and shown: figure, reading, columns, rows (CSV), table, extra, empty."""
        data = self.rows(run, company, scope)
        if not data:
            return NOTHING | {"empty": str(self.empty)}
        columns, rows = self.csv(data)
        return {
            "figure": self.figure(data),
            "reading": self.reading(data),
            "columns": [str(column) for column in columns],
            "rows": rows,
            "table": self.table(data),
            "extra": self.extra(data),
            "empty": "",
        }


@dataclass(frozen=True)
class Section:
    """A report page: its tab and its cards."""

    slug: str
    title: str
    cards: tuple[Card, ...]
    filtered: bool

    @property
    def charts(self) -> tuple[str, ...]:
        return tuple(card.name for card in self.cards)


# ------------------------------------------------------------------------------------------ formats


def tier_label(tier: str) -> str:
    return str(Tier(tier).label) if tier in Tier.values else tier


def cents(value) -> str:
    """Money for a CSV cell: two places, no grouping."""
    return "" if value is None else str(Decimal(value).quantize(TWO, rounding=ROUND_HALF_UP))


def number(value, places: int = 1) -> str:
    """A share or a rate in a reading or a CSV cell: half-up, grouped with commas."""
    if value is None:
        return "—"
    return f"{Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):,.{places}f}"


def pct_of(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def currency() -> str:
    return settings.CURRENCY


# ------------------------------------------------------------------------------------------- figures

FONT = 'system-ui, -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif'
GRID = {"gridcolor": "#eef1f5", "zerolinecolor": "#c5ced8", "automargin": True}


def chart(data: list[dict], **overrides) -> dict:
    """A report figure: its traces (plain dicts with their `type`) on the one look of every chart,
    `overrides` merged into it (a dict into the base's dict of the same name)."""
    layout = {
        "margin": {"l": 64, "r": 24, "t": 24, "b": 48},
        "height": 340,
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "font": {"family": FONT, "size": 12, "color": "#1d2733"},
        "xaxis": dict(GRID),
        "yaxis": dict(GRID),
        "legend": {"orientation": "h", "y": -0.18},
        "separators": chart_separators(),
        "hoverlabel": {"namelength": -1},
    }
    for key, value in overrides.items():
        layout[key] = (
            {**layout[key], **value} if isinstance(value, dict) and isinstance(layout.get(key), dict) else value
        )
    return plain_figure(data, layout)


def side_by_side(titles: list[str], *, widths=(0.5, 0.5), spacing: float = 0.12) -> dict:
    """Layout for two plots side by side, each titled (what plotly's make_subplots(1, 2) writes):
    the left plot on xaxis/yaxis, the right one on xaxis2/yaxis2 (its traces say so)."""
    split = round(widths[0] * (1 - spacing), 6)
    domains = [[0.0, split], [round(split + spacing, 6), 1.0]]
    title = {"font": {"size": 16}, "showarrow": False, "xref": "paper", "yref": "paper", "y": 1.0}
    return {
        "xaxis": {"anchor": "y", "domain": domains[0]},
        "yaxis": {"anchor": "x", "domain": [0.0, 1.0]},
        "xaxis2": {"anchor": "y2", "domain": domains[1]},
        "yaxis2": {"anchor": "x2", "domain": [0.0, 1.0], "gridcolor": "#eef1f5"},
        "annotations": [
            {**title, "text": text, "x": round(sum(domain) / 2, 6), "xanchor": "center", "yanchor": "bottom"}
            for text, domain in zip(titles, domains, strict=True)
        ],
    }


def count_bars(x: list[str], y: list[int], colours, **trace) -> dict:
    """Bars of customer (or complaint) counts, each bar's count written on it."""
    return {
        "type": "bar",
        "x": x,
        "y": y,
        "marker": {"color": colours},
        "texttemplate": "%{y:,}",
        "hovertemplate": "%{x}: %{y:,}<extra></extra>",
        **trace,
    }


COUNT_AXIS = {"tickformat": ",d", "rangemode": "tozero"}  # whole customers, from zero


def list_query(**filters) -> str:
    """The customer list's query for the customers a bar, cell or month stands for (its `customdata`
    in a figure whose layout.meta.click is "list": static/js/reports.js opens the list, adding the
    report's own region/industry/owner filters; analytics.customer_figures filters on these)."""
    return urlencode(filters)
