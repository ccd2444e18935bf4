"""Plotly figures for customer pages, built in Python and drawn by plotly.js from our static files."""

from decimal import Decimal

from django.utils.translation import gettext as _

from core.charts import chart_money, chart_separators, chart_texts, figure
from core.display import month as month_label


def monthly_revenue_figure(monthly: list[tuple[str, Decimal]], *, currency: str) -> dict:
    """A bar per month; returns the figure as a plain dict for `json_script`. The hover figure is the
    Decimal as text (core.charts), so no float rounds it; the bar heights are float64."""
    months = chart_texts(month_label(month) for month, _amount in monthly)  # "Dec 2024", "2024年12月"
    amounts = [float(amount) for _month, amount in monthly]
    trace = {
        "type": "bar",
        "x": months,
        "y": amounts,
        "hovertext": [chart_money(amount) for _month, amount in monthly],
        "marker": {"color": "#2f6db5"},
        "hovertemplate": "%{x}<br>%{hovertext} " + currency + "<extra></extra>",
    }
    return figure(
        [trace],
        {
            "title": {"text": _("Monthly revenue (%(currency)s)") % {"currency": currency}},
            "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
            "height": 320,
            "xaxis": {"type": "category"},
            "yaxis": {"rangemode": "tozero", "separatethousands": True},
            "separators": chart_separators(),
        },
    )
