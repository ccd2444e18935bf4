"""Chart text: money to the cent from the Decimal, never through a float (issue 14.6), and text from
data shown as plain text, never as plotly.js markup (issue 15.7), in every chart that carries them."""

import array
import base64
import datetime
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from analytics import selectors
from analytics.models import AnalysisRun, CostModel, CustomerResult
from analytics.reports import CHARTS, SECTIONS, Scope
from analytics.reports.portfolio import portfolio_figures
from analytics.services.runs import run_compute, run_request
from core.charts import chart_money, chart_text
from crm.charts import monthly_revenue_figure
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

D = Decimal
AS_OF = datetime.date(2026, 6, 30)  # window 2025-07-01..2026-06-30
FLOAT32_EXACT_UP_TO = 2**24  # 16,777,216: above it a float32 no longer counts single units
HOSTILE = '<a href="https://evil.example/phish">Evil</a><b>Bold</b><br>Line & co'
HOSTILE_SHOWN = (
    '&lt;a href="https://evil.example/phish"&gt;Evil&lt;/a&gt;&lt;b&gt;Bold&lt;/b&gt;&lt;br&gt;Line &amp; co'
)
LANGUAGES = ("en", "zh-hans")


def order(customer, on, revenue, cost):
    return OrderFactory(
        customer=customer,
        ordered_on=datetime.date.fromisoformat(on),
        revenue=D(revenue),
        cost=D(cost),
        service_cost=D("0.00"),
    )


def compute() -> AnalysisRun:
    run, created = run_request(trigger=AnalysisRun.Trigger.COMMAND, as_of=AS_OF, enqueue=False)
    assert created
    run_compute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    return run


def decode(spec: dict) -> list:
    values = array.array({"u1": "B", "u2": "H", "u4": "I", "i4": "i"}[spec["dtype"]])
    values.frombytes(base64.b64decode(spec["bdata"]))
    values = values.tolist()
    for index, wide in spec.get("wide", []):  # money beyond int32 cents, apart (analytics.reports.value.money_cents)
        values[index] = wide
    return values


def ids_of(trace: dict) -> list[int]:
    ids = [trace["ids"]["first"]]
    for gap in decode(trace["ids"]["delta"]):
        ids.append(ids[-1] + gap)
    return ids[: trace["count"]]


@pytest.fixture
def big_book(sales_user):
    """Customers far above 16,777,216 (where float32 drops single units), cents that float32 loses, a
    loss-maker and two hostile names: one the largest customer, one a protected (strategic) loss-maker.
    Cost model 0, no service cost: profit = revenue - cost."""
    CostModel.objects.create()
    customers = {
        "H1": (HOSTILE, "27130141.25", "10352924.12"),  # profit 16,777,217.13
        "H2": (HOSTILE + " 2", "18000000.07", "19234567.96"),  # profit -1,234,567.89 (strategic: protected)
        "B1": ("华东精密机械", "16777217.01", "3.03"),  # profit 16,777,213.98
        "B2": ("Odd cents", "21474836.49", "1.01"),  # just above int32 cents
        "S1": ("Small", "40000.00", "38000.00"),
    }
    made = {}
    for code, (name, revenue, cost) in customers.items():
        made[code] = CustomerFactory(code=code, name=name, owner=sales_user, strategic=code == "H2")
        order(made[code], "2026-03-01", revenue, cost)
    return made


@pytest.fixture
def big_run(big_book):
    return compute()


def points_payload(client, **params) -> dict:
    response = client.get(reverse("analytics:report_profit_volume"), params)
    assert response.status_code == 200, response.content[:300]
    return response.json()


# ----------------------------------------------------------------------------- money to the cent


@pytest.mark.parametrize("language", LANGUAGES)
def test_profit_vs_volume_payload_holds_every_figure_to_the_cent(client, executive_user, big_run, language):
    client.force_login(executive_user)
    with translation.override(language):
        payload = points_payload(client, run=big_run.pk, lang=language)
    results = {r.customer_id: r for r in CustomerResult.objects.filter(run=big_run)}
    assert max(r.revenue for r in results.values()) > FLOAT32_EXACT_UP_TO
    seen = set()
    for trace in payload["points"]["traces"]:
        ids = ids_of(trace)
        revenue, profit = decode(trace["revenue_cents"]), decode(trace["profit_cents"])
        for pk, revenue_cents, profit_cents in zip(ids, revenue, profit, strict=True):
            result = results[pk]
            # the payload: whole cents, exactly the stored figures
            assert revenue_cents == result.revenue * 100 and profit_cents == result.profit * 100
            # the coordinates the browser draws (cents / 100 in float64) still read as the stored figure
            assert f"{revenue_cents / 100:.2f}" == str(result.revenue) and f"{profit_cents / 100:.2f}" == str(
                result.profit
            )
            seen.add(pk)
    assert seen == {pk for pk, r in results.items() if r.tier != "P"} and len(seen) == 5
    # int32 cents, and the figures beyond it (21,474,836.47) apart, as JSON numbers: B2 and H1's revenue
    wide = sorted(
        cents
        for trace in payload["points"]["traces"]
        for key in ("revenue_cents", "profit_cents")
        for _index, cents in trace[key]["wide"]
    )
    assert wide == [2147483649, 2713014125]
    assert {
        trace[key]["dtype"] for trace in payload["points"]["traces"] for key in ("revenue_cents", "profit_cents")
    } == {"i4"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_profit_vs_volume_hover_reads_the_money_from_customdata_to_the_cent(client, executive_user, big_run, language):
    client.force_login(executive_user)
    with translation.override(language):
        payload = points_payload(client, run=big_run.pk, lang=language)
    frame = payload["frame"]["figure"]
    point_traces = [t for t in frame["data"] if t["meta"]["role"] == "points"]
    assert point_traces
    for trace in point_traces:
        # the revenue and profit in the hover come from customdata (the money from the exact cents,
        # which the browser puts there), written when hovered with two decimals, grouped in thousands
        # (issue 17.6: not 2 strings per point made up front); never from the drawn coordinates, which
        # are on the chart's scale (tests/e2e/test_chart_safety.py reads every point's hover text)
        template = trace["hovertemplate"]
        assert "%{customdata[0]:,.2f}" in template and "%{customdata[1]:,.2f}" in template
        assert "%{x" not in template and "%{y" not in template
    # the browser formats with the page's separators: grouped in thousands in both languages
    assert frame["layout"]["separators"] == ".,"
    # the guide lines' labels are the Decimal as text
    mean = sum(r.profit for r in CustomerResult.objects.filter(run=big_run).exclude(tier="P")) / 5
    average = next(t for t in frame["data"] if t["meta"]["role"] == "guide")
    assert chart_money(mean) in average["name"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_chart_money_groups_thousands_to_the_cent_in_both_languages(language):
    with translation.override(language):
        assert chart_money(D("27130141.25")) == "27,130,141.25"
        assert chart_money(D("-16777217.13")) == "-16,777,217.13"
        assert chart_money(D("21474836.485")) == "21,474,836.49"  # half-up to the cent
        assert chart_money(D("0")) == "0.00"
        assert chart_money(None) == "—"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_money_hover_text_is_the_stored_figure_to_the_cent(client, executive_user, sales_user, big_run, language):
    """Tiers, the sales portfolio, ARPU, protected loss-makers and a customer's monthly revenue: the
    hover figure is the Decimal as text, whatever the float behind the bar."""
    results = CustomerResult.objects.filter(run=big_run)
    with translation.override(language):
        charts = selectors.report_charts(run=big_run, names=["tiers", "protected", "arpu"], scope=Scope())
        # tiers: the profit bars
        profit_bars = charts["tiers"]["figure"]["data"][1]
        expected = {}
        for result in results:
            expected[result.tier] = expected.get(result.tier, D(0)) + result.profit
        tiers_shown = [t for t in ("A", "B", "C", "D", "P") if t in expected]
        assert profit_bars["hovertext"] == [chart_money(expected[t]) for t in tiers_shown]
        assert "%{hovertext}" in profit_bars["hovertemplate"] and "%{y" not in profit_bars["hovertemplate"]
        # protected loss-makers: the loss of H2
        protected = charts["protected"]["figure"]["data"][0]
        assert protected["hovertext"][0].endswith(chart_money(D("1234567.89")))
        # ARPU by month: the run's ARPU figures as text
        arpu = next(t for t in charts["arpu"]["figure"]["data"] if "hovertext" in t)
        months = big_run.company["arpu"]
        assert arpu["hovertext"] == [chart_money(m["arpu"]) if m["arpu"] else "" for m in months]
        # the sales portfolio's profit bars
        portfolio = portfolio_figures(run=big_run, owner=sales_user)
        assert portfolio["tier_figure"]["data"][1]["hovertext"] == [
            chart_money(entry["profit"]) for entry in portfolio["tiers"] if entry["customers"]
        ]
        # a customer's monthly revenue
        revenue = monthly_revenue_figure([("2026-03", D("27130141.25")), ("2026-04", D("0.05"))], currency="CNY")
        assert revenue["data"][0]["hovertext"] == ["27,130,141.25", "0.05"]
        assert "%{hovertext}" in revenue["data"][0]["hovertemplate"] and revenue["layout"]["separators"] == ".,"


@pytest.mark.parametrize(
    ("language", "shown"), [("en", ["Mar 2026", "Dec 2026"]), ("zh-hans", ["2026年3月", "2026年12月"])]
)
def test_a_customers_months_are_shown_in_the_one_month_format(language, shown):
    with translation.override(language):
        revenue = monthly_revenue_figure([("2026-03", D("1.00")), ("2026-12", D("2.00"))], currency="CNY")
    assert revenue["data"][0]["x"] == shown  # never "2026-03"


def test_the_customer_hover_panel_gets_the_figures_as_decimal_text(client, executive_user, big_run, big_book):
    client.force_login(executive_user)
    customer = client.get(reverse("analytics:report_customer", args=[big_book["H1"].pk])).json()
    assert (customer["revenue"], customer["profit"]) == ("27130141.25", "16777217.13")  # reports.js groups the digits


# ------------------------------------------------------------------------------ plain-text labels


def test_chart_text_escapes_what_plotly_reads_as_markup():
    assert chart_text(HOSTILE) == HOSTILE_SHOWN
    assert chart_text("北京贝塔 A&B") == "北京贝塔 A&amp;B"
    assert chart_text("&lt;") == "&amp;lt;"  # plotly.js decodes &amp; once: the text shows as "&lt;"


def strings(node, key=""):
    """Every (key, string) in a figure, at any depth."""
    if isinstance(node, str):
        yield key, node
    elif isinstance(node, dict):
        for name, value in node.items():
            yield from strings(value, name)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value, key)


def assert_plain(figure, where):
    text = json.dumps(figure, ensure_ascii=False)
    for raw in ("<a", "</a", "<b>Bold", "<br>Line", 'evil.example/phish">'):
        assert raw not in text, f"{where}: raw {raw!r} in the chart"
    for key, value in strings(figure):
        if "evil.example" in value:
            assert "<" not in value and ">" not in value, f"{where}: {key} = {value!r}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_hostile_customer_name_is_plain_text_in_every_chart(client, executive_user, sales_user, big_book, language):
    run = compute()
    client.force_login(executive_user)
    with translation.override(language):
        charts = selectors.report_charts(run=run, names=list(CHARTS), scope=Scope())
        payload = points_payload(client, run=run.pk, lang=language)
        portfolio = portfolio_figures(run=run, owner=sales_user)["tier_figure"]
    for name, chart in charts.items():
        assert_plain(chart["figure"], name)
    assert_plain(payload["points"], "profit_volume points")
    assert_plain(payload["frame"]["figure"], "profit_volume frame")
    assert_plain(portfolio, "portfolio")
    # where the names are shown, they are there, escaped
    labels = [label for trace in payload["points"]["traces"] for label in trace["labels"]]
    assert f"H1 {HOSTILE_SHOWN}" in labels
    assert f"H1 {HOSTILE_SHOWN}" in charts["concentration"]["figure"]["data"][0]["y"]
    assert f"H2 {HOSTILE_SHOWN} 2" in charts["protected"]["figure"]["data"][0]["y"]
    # and the readings and tables (HTML, escaped by the template) keep the name as it is
    assert any("H1 " + HOSTILE in line for line in charts["profit_volume"]["reading"])


def test_report_pages_carry_no_live_markup_from_a_customer_name(client, executive_user, big_book):
    compute()
    client.force_login(executive_user)
    for section in SECTIONS:
        page = client.get(reverse("analytics:report_section", args=[section])).content.decode()
        assert 'href="https://evil.example' not in page and "<b>Bold" not in page, section
