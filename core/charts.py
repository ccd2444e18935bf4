"""What every Plotly chart shows as text: data as plain text, and money to the cent.

plotly.js renders a subset of HTML in every piece of chart text (labels, tick labels, legend and
trace names, hover labels, annotations, node labels): `<a href>` becomes a live link, `<b>`,
`<br>` and `<span style>` change the look. It also decodes the entities `&amp;`, `&lt;`, `&gt;`
(and a few others, and numeric ones), so escaping `&`, `<` and `>` shows any text literally. Every
string that comes from data (a customer's code or name, a label) goes through `chart_text`; only
our own templates (hovertemplate, texttemplate) carry markup.

Money reaches a chart's text from the Decimal, never through a float: `chart_money` is the pages'
money text (core.display.money: the active language's separators, grouped in thousands).
Coordinates may be floats (float64: exact to the cent below 2**45), but what a person reads is text.
"""

import functools

import plotly.io
from django.utils.formats import get_format

from .display import money


def chart_text(value) -> str:
    """A piece of data as plotly.js must show it: plain text, no markup (see the module docstring)."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def chart_texts(values) -> list[str]:
    return [chart_text(value) for value in values]


# A money figure as a chart shows it: the pages' money text (half-up to the cent, grouped), from the Decimal.
chart_money = money


def chart_separators() -> str:
    """Plotly's `separators` (the decimal mark, then the thousands separator) of the active language,
    so that what plotly.js and our JS format (axis ticks, hover figures) matches the pages."""
    return get_format("DECIMAL_SEPARATOR") + get_format("THOUSAND_SEPARATOR")


@functools.cache
def _plotly_white() -> dict:
    # Read from plotly's template registry once per process: go.Figure(template=...) validates and
    # deep-copies the whole template on every figure, a third of a customer page's CPU (bench/RESULTS.md).
    return plotly.io.templates["plotly_white"].to_plotly_json()


def figure(data: list[dict], layout: dict) -> dict:
    """A Plotly figure as the plain dict a page hands to plotly.js (`json_script`) or a run stores:
    the traces and layout as written (plain dicts, plotly.js attribute names), on the white template.
    No plotly.graph_objects: they validate every attribute on every request."""
    return {"data": data, "layout": {"template": _plotly_white(), **layout}}
