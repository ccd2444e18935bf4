"""Drill-down (issue 17): every bar, cell and month of the report charts that stands for customers
carries the customer list's query (customdata, layout.meta.click "list"), and the list filtered by it
counts exactly the chart's customers: tiers, quadrants, churn by month and quarter, protection."""

import datetime
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest
from django.urls import reverse

from analytics.customer_figures import churn_period
from analytics.models import AnalysisRun, CostModel, CustomerResult
from analytics.selectors import report_charts
from analytics.services.runs import run_compute, run_request
from crm.models import Customer
from tests.factories import CustomerFactory, OrderFactory, RegionFactory

D = Decimal
AS_OF = datetime.date(2026, 6, 30)
CHURNED = {  # code -> (churned on, ordered before it?, reason)
    "X1": (datetime.date(2026, 4, 3), True, "price"),
    "X2": (datetime.date(2026, 4, 28), True, "price"),
    "X3": (datetime.date(2026, 4, 15), False, "price"),  # never ordered: the churn rate does not count it
    "X4": (datetime.date(2026, 5, 9), True, "quality"),
    "X5": (datetime.date(2026, 2, 20), True, ""),  # no reason: "other" in the reasons chart
    "X6": (datetime.date(2025, 5, 20), True, "price"),  # before the window
}


def drilldown_book(owner=None) -> AnalysisRun:
    """30 customers with orders in two regions (profits from a loss to a large gain, so every tier and
    quadrant has some), five who churned (one without an order), two prospects; a published run."""
    CostModel.objects.create()
    east, north = RegionFactory(name="华东 East China"), RegionFactory(name="华北 North China")
    for n in range(30):
        revenue = D(5000 + 4100 * n)
        margin = D("-0.2") if n % 7 == 3 else D(n % 6) / 10
        customer = CustomerFactory(
            code=f"K{n:02d}",
            name=f"客户 {n}",
            region=east if n % 2 else north,
            owner=owner,
            growth_potential=1 + (n * 3) % 5,
        )
        OrderFactory(
            customer=customer,
            ordered_on=datetime.date(2026, 1, 5) + datetime.timedelta(days=3 * n),
            revenue=revenue,
            cost=(revenue * (1 - margin)).quantize(D("0.01")),
            service_cost=D("0.00"),
        )
    for code, (day, ordered, reason) in CHURNED.items():
        customer = CustomerFactory(
            code=code, region=east, status=Customer.Status.CHURNED, churned_on=day, churn_reason=reason
        )
        if ordered:
            OrderFactory(
                customer=customer,
                ordered_on=day - datetime.timedelta(days=100),
                revenue=D("3000.00"),
                cost=D("2000.00"),
            )
    CustomerFactory(code="P1", region=east)
    CustomerFactory(code="P2", region=north)
    run, _created = run_request(trigger=AnalysisRun.Trigger.COMMAND, as_of=AS_OF, enqueue=False)
    run_compute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    return run


@pytest.fixture
def run(db):
    return drilldown_book()


def listed(client, query: str) -> int:
    """How many customers the customer list says it holds for `query` (what the page shows)."""
    response = client.get(reverse("crm:customer_list") + "?" + query)
    assert response.status_code == 200
    assert not response.context["filter"].errors, response.context["filter"].errors
    count = response.context["table"].paginator.count
    assert f"{count:,} customer" in response.content.decode()
    return count


def test_every_tier_bar_lists_exactly_its_customers(client, executive_user, run):
    client.force_login(executive_user)
    figure = report_charts(run=run, names=["tiers"], scope=_scope())["tiers"]["figure"]
    assert figure["layout"]["meta"] == {"click": "list"}
    customers, profit = figure["data"]
    assert customers["customdata"] == profit["customdata"]
    counts = CustomerResult.objects.filter(run=run).values_list("tier", flat=True)
    assert len(customers["customdata"]) == len(set(counts)) >= 4
    for query, n in zip(customers["customdata"], customers["y"], strict=True):
        tier = dict(parse_qsl(query))["tier"]
        assert n == list(counts).count(tier) and listed(client, query) == n


def test_every_quadrant_cell_lists_exactly_its_customers(client, executive_user, run):
    client.force_login(executive_user)
    heatmap = report_charts(run=run, names=["quadrants"], scope=_scope())["quadrants"]["figure"]["data"][0]
    assert heatmap["hoverinfo"] == "none"  # not "skip": a skipped trace sends no clicks
    cells = [
        (q, z) for qs, zs in zip(heatmap["customdata"], heatmap["z"], strict=True) for q, z in zip(qs, zs, strict=True)
    ]
    assert sum(z for _q, z in cells) == CustomerResult.objects.filter(run=run).exclude(quadrant="").count()
    assert sum(1 for _q, z in cells if z) >= 3
    for query, n in cells:
        assert query.startswith("quadrant=") and listed(client, query) == n


def test_every_churn_month_and_quarter_lists_exactly_its_customers(client, executive_user, run):
    client.force_login(executive_user)
    figure = report_charts(run=run, names=["churn"], scope=_scope())["churn"]["figure"]
    by_month = {p["period"]: p["churned"] for p in run.company["churn_by_month"]}
    by_quarter = {p["period"]: p["churned"] for p in run.company["churn_by_quarter"]}
    assert by_month["2026-04"] == 2 and by_month["2026-05"] == 1 and by_quarter["2026-Q2"] == 3  # X3 never ordered
    for trace, periods in zip(figure["data"], (by_month, by_quarter), strict=True):
        assert trace["customdata"] == [f"churned={period}" for period in periods]
        for query, period in zip(trace["customdata"], periods, strict=True):
            assert listed(client, query) == periods[period], period
    assert "2 churned of" in figure["data"][0]["hovertext"][list(by_month).index("2026-04")]


def test_the_report_scope_narrows_the_list_as_it_narrows_the_chart(client, executive_user, run):
    client.force_login(executive_user)
    east = Customer.objects.get(code="K01").region
    scope = _scope(region=east.pk)
    customers = report_charts(run=run, names=["tiers"], scope=scope)["tiers"]["figure"]["data"][0]
    for query, n in zip(customers["customdata"], customers["y"], strict=True):
        assert listed(client, f"{query}&region={east.pk}") == n  # what reports.js adds: the page's own filters


def test_protection_and_action_filters_count_the_run(client, executive_user, run):
    client.force_login(executive_user)
    results = CustomerResult.objects.filter(run=run)
    assert listed(client, "protection=any") == results.exclude(protection="").count()
    for reason in ("loyal", "big", "potential", "strategic"):
        expected = sum(1 for p in results.values_list("protection", flat=True) if reason in p.split(";"))
        assert listed(client, f"protection={reason}") == expected
    review = results.filter(tier="D", action="review").count()
    assert listed(client, "tier=D&action=review") == review


def test_churn_periods():
    assert churn_period("2026-02") == (datetime.date(2026, 2, 1), datetime.date(2026, 2, 28))
    assert churn_period("2025-Q4") == (datetime.date(2025, 10, 1), datetime.date(2025, 12, 31))
    assert churn_period("2026-12") == (datetime.date(2026, 12, 1), datetime.date(2026, 12, 31))
    assert churn_period("2026-13") is None and churn_period("2026-Q5") is None and churn_period("x") is None


def test_an_unreadable_churn_period_lists_no_one(client, executive_user, run):
    client.force_login(executive_user)
    assert listed(client, "churned=2026-13") == 0


def _scope(**filters):
    from analytics.reports import Scope

    return Scope(**filters)


def test_every_tier_migration_link_lists_exactly_its_customers(client, executive_user, run):
    # given: a second run after two small customers grew large, a large one shrank and a customer arrived
    for code, revenue, cost in (("K00", "400000.00", "100000.00"), ("K02", "300000.00", "90000.00")):
        OrderFactory(
            customer=Customer.objects.get(code=code),
            ordered_on=datetime.date(2026, 6, 1),
            revenue=D(revenue),
            cost=D(cost),
        )
    OrderFactory(
        customer=Customer.objects.get(code="K29"),
        ordered_on=datetime.date(2026, 6, 2),
        revenue=D("1000.00"),
        cost=D("90000.00"),
    )
    OrderFactory(
        customer=CustomerFactory(code="N1"),
        ordered_on=datetime.date(2026, 6, 3),
        revenue=D("9000.00"),
        cost=D("100.00"),
    )
    second, _created = run_request(trigger=AnalysisRun.Trigger.COMMAND, as_of=AS_OF, enqueue=False)
    run_compute(run_id=second.pk)
    second.refresh_from_db()
    client.force_login(executive_user)

    # when: each link of the migration chart is followed
    figure = report_charts(run=second, names=["migration"], scope=_scope())["migration"]["figure"]
    assert figure["layout"]["meta"] == {"click": "list"}
    link = figure["data"][0]["link"]
    moves = dict(zip(link["customdata"], link["value"], strict=True))
    # then: the list counts exactly the link's customers, moves and new customers alike
    assert sum(moves.values()) == CustomerResult.objects.filter(run=second).count()
    pairs = [dict(parse_qsl(q))["moved"].split(">") for q in moves]
    assert ["new", "C"] in pairs or ["new", "B"] in pairs or ["new", "A"] in pairs or ["new", "D"] in pairs
    assert any(before != now for before, now in pairs if before != "new")  # someone moved tier
    for query, n in moves.items():
        assert listed(client, query) == n, query
    assert listed(client, "moved=A>Z") == 0 and listed(client, "moved=nonsense") == 0


def test_every_churn_reason_lists_exactly_those_who_left_for_it_in_the_window(client, executive_user, run):
    client.force_login(executive_user)
    bars = report_charts(run=run, names=["churn_reasons"], scope=_scope())["churn_reasons"]["figure"]["data"][0]
    reasons = dict(zip(bars["customdata"], bars["x"], strict=True))
    assert sorted(reasons.values()) == [1, 1, 3]  # price (X3 too: it left, orders or not), quality, other (X5)
    for query, n in reasons.items():
        assert listed(client, query) == n, query
    assert listed(client, "left=2026-13-01..2026-06-30") == 0
