"""Plotly figures for customer pages, built in Python and drawn by plotly.js from our static files."""
import json
from decimal import Decimal

import plotly.graph_objects as go
from django.utils.translation import gettext as _


def monthly_revenue_figure(monthly: list[tuple[str, Decimal]], *, currency: str) -> dict:
    """A bar per month; returns the figure as a plain dict for `json_script`."""
    months = [month for month, _amount in monthly]
    amounts = [float(amount) for _month, amount in monthly]
    figure = go.Figure(
        go.Bar(
            x=months,
            y=amounts,
            marker_color="#2f6db5",
            hovertemplate="%{x}<br>%{y:,.2f} " + currency + "<extra></extra>",
        )
    )
    figure.update_layout(
        title=_("Monthly revenue (%(currency)s)") % {"currency": currency},
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
        height=320,
        xaxis={"type": "category"},
        yaxis={"rangemode": "tozero", "separatethousands": True},
        template="plotly_white",
    )
    return json.loads(figure.to_json())
