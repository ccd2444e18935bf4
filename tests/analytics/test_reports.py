"""Executive reports: every figure's data against the run's stored figures and hand-computed values,
who may read them, empty states, and query counts that do not grow with the customers."""

import array
import base64
import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from analytics.models import AnalysisRun, CostModel, CustomerResult, RunChart
from analytics.reports import CHARTS, Scope
from analytics.reports.cards import TIER_COLOURS
from analytics.reports.value import concentration_figures, sample_curve, whale_figures
from analytics.selectors import CHARTS_VERSION, chart_key, report_charts_warm
from analytics.services.runs import run_compute, run_request
from crm.models import Customer
from tests.factories import CustomerFactory, OrderFactory, RegionFactory, SurveyFactory, make_complaint

pytestmark = pytest.mark.django_db

D = Decimal
AS_OF = datetime.date(2026, 6, 30)  # window 2025-07-01..2026-06-30


def order(customer, on, revenue, cost):
    return OrderFactory(
        customer=customer,
        ordered_on=datetime.date.fromisoformat(on),
        revenue=D(revenue),
        cost=D(cost),
        service_cost=D("0.00"),
    )


def compute(as_of=AS_OF) -> AnalysisRun:
    run, created = run_request(trigger=AnalysisRun.Trigger.COMMAND, as_of=as_of, enqueue=False)
    assert created
    run_compute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    return run


@pytest.fixture
def book(sales_user, other_sales_user):
    """Five customers with orders and a prospect. Cost model 0, no service cost: profit = revenue - cost.

    K1 100,000 - 95,000 =  5,000  (the largest customer; prior year 150,000: declining)
    K2  60,000 - 30,000 = 30,000  (the most profitable)
    K3  40,000 - 38,000 =  2,000
    K4  30,000 - 10,000 = 20,000
    K5  20,000 - 24,000 = -4,000  (a drain)
    K6  no orders: a prospect, not plotted
    Total revenue 250,000, profit 53,000, average profit 10,600.
    """
    CostModel.objects.create()
    east, north = RegionFactory(name="East"), RegionFactory(name="North")
    k1 = CustomerFactory(code="K1", name="Alpha Trading", owner=sales_user, region=east)
    k2 = CustomerFactory(code="K2", name="北京贝塔", owner=sales_user, region=east)
    k3 = CustomerFactory(code="K3", name="Gamma", owner=other_sales_user, region=north)
    k4 = CustomerFactory(code="K4", name="Delta", owner=other_sales_user, region=north)
    k5 = CustomerFactory(code="K5", name="Epsilon", owner=None, region=north)
    k6 = CustomerFactory(code="K6", name="Zeta", owner=sales_user, region=east, status=Customer.Status.PROSPECT)
    order(k1, "2025-03-01", "150000.00", "140000.00")  # prior window
    order(k1, "2025-09-01", "100000.00", "95000.00")
    order(k2, "2025-02-01", "60000.00", "30000.00")  # prior window: flat
    order(k2, "2026-02-01", "60000.00", "30000.00")
    order(k3, "2026-03-01", "40000.00", "38000.00")
    order(k4, "2026-04-01", "30000.00", "10000.00")
    order(k5, "2026-05-01", "20000.00", "24000.00")
    return {c.code: c for c in (k1, k2, k3, k4, k5, k6)}


@pytest.fixture
def run(book):
    return compute()


def decode(spec: dict) -> list:
    codes = {"u1": "B", "u2": "H", "u4": "I", "i4": "i"}
    values = array.array(codes[spec["dtype"]])
    values.frombytes(base64.b64decode(spec["bdata"]))
    values = values.tolist()
    for index, wide in spec.get("wide", []):  # money beyond int32 cents (analytics.reports.value.money_cents)
        values[index] = wide
    return values


def points_payload(client, **params) -> dict:
    response = client.get(reverse("analytics:report_profit_volume"), params)
    assert response.status_code == 200, response.content[:300]
    return response.json()


def ids_of(trace: dict) -> list[int]:
    ids = [trace["ids"]["first"]]
    for gap in decode(trace["ids"]["delta"]):
        ids.append(ids[-1] + gap)
    return ids[: trace["count"]]


def page_charts(client, section="value", **params) -> dict:
    response = client.get(reverse("analytics:report_section", args=[section]), params)
    assert response.status_code == 200
    return {chart["name"]: chart for chart in response.context["charts"]}


# ------------------------------------------------------------------------------------ profit vs volume


def test_profit_vs_volume_has_one_point_per_customer_with_orders_by_tier(client, executive_user, run, book):
    client.force_login(executive_user)
    payload = points_payload(client)
    results = {r.customer_id: r for r in CustomerResult.objects.filter(run=run)}
    # then: K6 (no orders) is not plotted; every other customer once, in its tier's trace, ids ascending
    assert payload["points"]["count"] == 5
    seen = {}
    for trace in payload["points"]["traces"]:
        ids = ids_of(trace)
        assert ids == sorted(ids)
        xs, ys = decode(trace["revenue_cents"]), decode(trace["profit_cents"])
        assert len(xs) == len(ys) == len(ids) == trace["count"]
        for pk, x, y, label in zip(ids, xs, ys, trace["labels"], strict=False):
            result = results[pk]
            assert result.tier == trace["tier"]
            assert (x, y) == (result.revenue * 100, result.profit * 100)  # whole cents, exactly
            assert label == f"{result.customer.code} {result.customer.name}"
            seen[pk] = (x, y)
    assert seen == {
        book["K1"].pk: (10000000, 500000),
        book["K2"].pk: (6000000, 3000000),
        book["K3"].pk: (4000000, 200000),
        book["K4"].pk: (3000000, 2000000),
        book["K5"].pk: (2000000, -400000),
    }
    assert [t["tier"] for t in payload["points"]["traces"]] == sorted(
        {r.tier for r in results.values() if r.tier != "P"}
    )
    assert results[book["K5"].pk].tier == "D"
    # the frame: one trace per tier in the same order, then the guides; clicking opens /customers/<id>/
    frame = payload["frame"]["figure"]
    point_traces = [t for t in frame["data"] if t["meta"]["role"] == "points"]
    assert [t["meta"]["tier"] for t in point_traces] == [t["tier"] for t in payload["points"]["traces"]]
    assert all(t["type"] == "scattergl" for t in point_traces)
    average = next(t for t in frame["data"] if t["name"].startswith("Average profit"))
    assert average["y"] == [10600.0, 10600.0] and average["name"] == "Average profit (10,600.00)"
    assert payload["customer_url"] == "/customers/0/"
    # the scales: readable (asinh on both axes, ticks in real money; the browser fills the buttons in)
    # first and as drawn, linear axes one click away (the log modes hid the loss-makers: gone)
    buttons = frame["layout"]["updatemenus"][0]["buttons"]
    assert [b["name"] for b in buttons] == ["scaled", "linear"] and frame["layout"]["meta"] == {"scale": "scaled"}
    # the largest customers by revenue are named on the chart; the one loss-maker gets its own legend entry
    labels = next(t for t in frame["data"] if t["meta"]["role"] == "labels")
    assert labels["text"] == ["K1 Alpha Trading", "K2 北京贝塔", "K3 " + book["K3"].name][: len(labels["text"])]
    assert labels["x"] == [100000.0, 60000.0, 40000.0]
    losses = next(t for t in frame["data"] if t["meta"]["role"] == "losses")
    assert losses["name"] == "Loses money (1)" and losses["hoverinfo"] == "skip"


def test_profit_vs_volume_reading_says_what_the_points_mean(client, executive_user, run):
    client.force_login(executive_user)
    chart = page_charts(client)["profit_volume"]
    assert chart["reading"][:3] == [
        "Your largest customer by revenue, K1 Alpha Trading, earns less profit than the average customer: "
        "5,000.00 against 10,600.00.",
        "The most profitable customer, K2 北京贝塔 (30,000.00), is only number 2 by revenue.",
        "1 of 5 customers lose money; together they cost 4,000.00 CNY.",
    ]


def test_profit_vs_volume_csv_lists_every_plotted_customer_by_revenue(client, executive_user, run):
    client.force_login(executive_user)
    response = client.get(reverse("analytics:report_csv", args=["profit_volume"]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["Code", "Name", "Tier", "Revenue", "Profit", "Quadrant", "Action"]
    assert [(r[0], r[3], r[4]) for r in rows[1:]] == [
        ("K1", "100000.00", "5000.00"),
        ("K2", "60000.00", "30000.00"),
        ("K3", "40000.00", "2000.00"),
        ("K4", "30000.00", "20000.00"),
        ("K5", "20000.00", "-4000.00"),
    ]
    tiers = dict(CustomerResult.objects.filter(run=run).values_list("customer__code", "tier"))
    assert [r[2] for r in rows[1:]] == [tiers[r[0]] for r in rows[1:]]


def test_owner_filter_plots_only_that_owners_customers(client, executive_user, sales_user, run, book):
    client.force_login(executive_user)
    payload = points_payload(client, owner=sales_user.pk)
    assert payload["points"]["count"] == 2
    assert sorted(pk for t in payload["points"]["traces"] for pk in ids_of(t)) == sorted([book["K1"].pk, book["K2"].pk])


def test_a_bad_filter_is_refused_with_its_error(client, executive_user, run):
    client.force_login(executive_user)
    response = client.get(reverse("analytics:report_profit_volume"), {"region": "nope"})
    assert response.status_code == 400
    assert response.json() == {
        "errors": {"region": ["Select a valid choice. That choice is not one of the available choices."]}
    }
    assert client.get(reverse("analytics:reports"), {"owner": "999999"}).status_code == 400


# --------------------------------------------------------------------------- whale, Pareto, concentration


def test_whale_pareto_and_concentration_are_the_runs_figures(client, executive_user, run, book):
    client.force_login(executive_user)
    charts = page_charts(client)
    company = run.company
    whale = charts["whale"]
    assert whale["rows"] == company["whale"]["curve"]
    # profits by rank: 30,000 20,000 5,000 2,000 -4,000 of 53,000: 56.6038, 94.3396, 103.7736, 107.5472, 100
    assert [y for _x, y in whale["rows"]] == ["56.6038", "94.3396", "103.7736", "107.5472", "100.0000"]
    assert (whale["extra"]["peak_pct"], whale["extra"]["peak_customers"]) == ("107.5472", 4)
    assert whale["reading"][0] == "The 4 most profitable customers earn 107.5% of total profit."
    assert whale["figure"]["data"][0]["y"] == [56.6038, 94.3396, 103.7736, 107.5472, 100.0]

    pareto = charts["pareto"]
    # the top 20% of 5 is 1 customer (K1): 100,000 / 250,000 = 40% of revenue, 5,000 / 53,000 = 9.4340% of profit
    assert (pareto["extra"]["revenue_pct"], pareto["extra"]["profit_pct"]) == ("40.0000", "9.4340")
    assert (company["top20_revenue_share_pct"], company["top20_profit_share_pct"]) == ("40.0000", "9.4340")
    assert pareto["figure"]["data"][0]["y"] == [40.0, 9.434]

    concentration = charts["concentration"]
    # HHI: (0.4² + 0.24² + 0.16² + 0.12² + 0.08²) x 10,000 = 2,640; top-1 40% > 25%: the alert
    assert concentration["extra"] == {
        "top1_share_pct": "40.0000",
        "top5_share_pct": "100.0000",
        "hhi": "2640.0000",
        "alert": True,
    }
    assert concentration["extra"]["hhi"] == company["hhi"]
    assert [(r[0], r[3]) for r in concentration["rows"]] == [
        ("K1", "40.0000"),
        ("K2", "24.0000"),
        ("K3", "16.0000"),
        ("K4", "12.0000"),
        ("K5", "8.0000"),
    ]
    assert concentration["figure"]["data"][0]["customdata"] == [book[c].pk for c in ("K1", "K2", "K3", "K4", "K5")]
    assert concentration["reading"][0].startswith("Revenue is concentrated: the largest customer brings 40.0%")


def test_filtered_figures_follow_the_same_definitions_as_the_run(run, sales_user):
    population = list(
        CustomerResult.objects.filter(run=run)
        .exclude(tier="P")
        .values_list("customer__code", "revenue", "profit", "customer_id")
    )
    # then: on the whole company the report's own computation gives the run's stored figures exactly
    assert whale_figures(population) == run.company["whale"]
    mine = concentration_figures(population)
    for key in (
        "top1_share_pct",
        "top5_share_pct",
        "hhi",
        "concentration_alert",
        "top20_count",
        "top20_revenue_share_pct",
        "top20_profit_share_pct",
    ):
        assert mine[key] == run.company[key], key


def test_filtered_whale_and_concentration(client, executive_user, sales_user, run):
    client.force_login(executive_user)
    charts = page_charts(client, owner=sales_user.pk)
    # K2 30,000 then K1 5,000 of 35,000: 85.7143%, then 100%
    assert charts["whale"]["rows"] == [["50.0000", "85.7143"], ["100.0000", "100.0000"]]
    # K1 100,000 of 160,000 = 62.5%; HHI (0.625² + 0.375²) x 10,000 = 5,312.5
    assert charts["concentration"]["extra"] == {
        "top1_share_pct": "62.5000",
        "top5_share_pct": "100.0000",
        "hhi": "5312.5000",
        "alert": True,
    }
    assert RunChart.objects.filter(
        run=run, name=chart_key("whale", scope=Scope(owner=sales_user.pk), language="en")
    ).exists()


# ------------------------------------------------------------------------------------------- tiers


def test_tier_distribution_quadrants_and_protected_are_the_results(client, executive_user, run):
    client.force_login(executive_user)
    charts = page_charts(client, "tiers")
    counts = run.company["tiers"]
    assert charts["tiers"]["extra"]["counts"] == {t: n for t, n in counts.items() if n}
    profit_by_tier = {}
    for tier, profit in CustomerResult.objects.filter(run=run).values_list("tier", "profit"):
        profit_by_tier[tier] = profit_by_tier.get(tier, D(0)) + profit
    assert {row[0]: D(row[4]) for row in charts["tiers"]["rows"]} == profit_by_tier
    assert charts["tiers"]["figure"]["data"][0]["marker"]["color"][0] == "#1b7f5a"  # tier A's colour, as in app.css
    quadrants = dict(
        CustomerResult.objects.filter(run=run)
        .exclude(quadrant="")
        .values_list("quadrant")
        .annotate(n=__import__("django.db.models", fromlist=["Count"]).Count("id"))
    )
    assert {q: n for q, n in charts["quadrants"]["extra"]["counts"].items() if n} == quadrants
    # the protected loss-makers are the run's D customers sent to review, worst loss first
    review = list(
        CustomerResult.objects.filter(run=run, tier="D", action="review")
        .order_by("profit")
        .values_list("customer__code", "customer__name", "revenue", "profit", "protection")
    )
    assert charts["protected"]["rows"] == [[c, n, str(r), str(p), reasons] for c, n, r, p, reasons in review]
    assert charts["migration"]["empty"].startswith("Tier migration compares two runs")


def test_protected_loss_makers_are_listed_worst_first(client, executive_user, book):
    book["K5"].strategic = True
    book["K5"].save()
    run = compute()
    client.force_login(executive_user)
    protected = page_charts(client, "tiers")["protected"]
    assert protected["rows"][0][:4] == ["K5", "Epsilon", "20000.00", "-4000.00"]
    assert "strategic" in protected["rows"][0][4].split(";")
    assert protected["reading"][0].startswith("1 loss-making customers are protected")
    assert CustomerResult.objects.get(run=run, customer=book["K5"]).action == "review"


def test_tier_migration_sankey_is_the_runs_migration(client, executive_user, book):
    compute()
    order(book["K6"], "2026-06-01", "5000.00", "1000.00")  # the prospect buys: it moves from P
    second = compute()
    client.force_login(executive_user)
    migration = page_charts(client, "tiers")["migration"]
    moves = second.company["tier_migration"]
    assert {f"{s}>{t}": n for s, t, n in migration["rows"]} == moves
    link = migration["figure"]["data"][0]["link"]
    assert sum(link["value"]) == sum(moves.values()) == 6
    assert any(s == "P" and n == 1 for s, _t, n in migration["rows"])


# ------------------------------------------------------------------------------------------ trends


def test_top20_trend_churn_arpu_and_dormant_are_the_runs_figures(client, executive_user, run, book):
    client.force_login(executive_user)
    charts = page_charts(client, "trends")
    trend = run.company["top20_trend"]
    assert (
        charts["top20_trend"]["extra"]["counts"]
        == trend["counts"]
        == {"growing": 0, "flat": 0, "declining": 1, "new": 0}
    )
    # K1: 100,000 against 150,000 the year before: -33.3333%
    assert charts["top20_trend"]["rows"] == [["K1", "Alpha Trading", "100000.00", "-33.3333"]]
    assert (
        charts["top20_trend"]["reading"][1]
        == "The steepest fall: K1 Alpha Trading, -33.3% against the year before. Ask why."
    )
    churn = charts["churn"]
    expected = [
        [p["period"], p["churned"], p["active_at_start"], p["rate_pct"] or ""]
        for p in run.company["churn_by_month"] + run.company["churn_by_quarter"]
    ]
    assert churn["rows"] == expected and len(churn["rows"]) == 12 + 4  # months, then 2025-Q3 .. 2026-Q2
    assert charts["churn_reasons"]["empty"]  # nobody churned in this book
    assert charts["arpu"]["rows"] == [
        [m["month"], m["revenue"], m["active"], m["arpu"] or ""] for m in run.company["arpu"]
    ]
    assert charts["dormant"]["extra"]["count"] == run.company["dormant_count"] > 0


def test_churn_reasons_and_dormant_customers(client, executive_user, book):
    for code, reason in (("K3", "price"), ("K4", "price"), ("K5", "service")):
        Customer.objects.filter(pk=book[code].pk).update(
            status="churned", churned_on=datetime.date(2026, 6, 1), churn_reason=reason
        )
    run = compute()
    client.force_login(executive_user)
    charts = page_charts(client, "trends")
    assert charts["churn_reasons"]["rows"] == [["price", "Price", 2], ["service", "Service quality", 1]]
    assert charts["churn_reasons"]["reading"] == ["The main reason customers left: Price (2 of 3)."]
    assert charts["churn"]["extra"] == {"churned": 3, "revenue_lost": run.company["revenue_lost"]}
    # K1 last ordered on 2025-09-01: 302 days before as_of, not churned: dormant
    assert charts["dormant"]["rows"] == [["K1", "Alpha Trading", 302, "150000.00"]]
    page = client.get(reverse("analytics:report_section", args=["trends"])).content.decode()
    assert f'href="/customers/{book["K1"].pk}/"' in page


# ----------------------------------------------------------------------------------------- service


def test_satisfaction_distribution_and_trend(client, executive_user, book):
    for on, score in (("2026-01-10", 5), ("2026-01-20", 4), ("2026-02-05", 2), ("2026-02-06", 5), ("2025-05-01", 1)):
        SurveyFactory(customer=book["K1"], answered_on=datetime.date.fromisoformat(on), score=score)
    compute()
    client.force_login(executive_user)
    charts = page_charts(client, "service")
    satisfaction = charts["satisfaction"]
    # 2025-05-01 is before the window; 4 answers: one 2, one 4, two 5
    assert satisfaction["extra"]["distribution"] == {"2": 1, "4": 1, "5": 2}
    assert satisfaction["figure"]["data"][0]["y"] == [0, 1, 0, 1, 2]
    assert satisfaction["figure"]["data"][1]["x"] == ["Jan 2026", "Feb 2026"]  # the one month format (core.display)
    assert satisfaction["figure"]["data"][1]["y"] == [4.5, 3.5]
    assert (
        satisfaction["reading"][0] == "Of 4 answers, 75.0% were satisfied or highly satisfied and 25.0% dissatisfied."
    )
    service = charts["service"]
    assert service["extra"]["tiles"][0] == ["Complaints received", "0"]


def report_csv(client, name: str) -> list[list[str]]:
    response = client.get(reverse("analytics:report_csv", args=[name]))
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_the_service_kpis_are_the_runs_and_the_open_complaints_are_now(client, executive_user, run, book):
    """The KPIs of the run's 12 months are kept with the run, as its other figures: a complaint
    received in the window after the run was computed counts on the next run, not on this run's
    page. The open complaints are about now: they count it at once, on the page and in their CSV."""
    client.force_login(executive_user)
    charts = page_charts(client, "service")
    assert charts["service"]["extra"]["tiles"][0] == ["Complaints received", "0"]
    assert charts["backlog"]["figure"]["data"][0]["y"] == [0, 0, 0, 0]
    make_complaint(customer=book["K1"], received_at=datetime.datetime(2026, 6, 1, 10, 0, tzinfo=datetime.UTC))

    charts = page_charts(client, "service")
    assert charts["service"]["extra"]["tiles"][0] == ["Complaints received", "0"]  # as of the run
    assert charts["backlog"]["figure"]["data"][0]["y"] == [0, 0, 0, 1]  # open since June: 7+ days now
    assert charts["backlog"]["reading"][0].startswith("Open now: 1. ")
    assert ["7+ days", "1"] in report_csv(client, "backlog")
    assert ["Complaints received", "0"] in report_csv(client, "service")
    # the service card is stored with the run in each language; the open complaints never are
    names = set(RunChart.objects.filter(run=run).values_list("name", flat=True))
    assert chart_key("service", scope=Scope(), language="en") in names
    assert not any(".backlog." in name for name in names)
    # the page points to the live figures
    assert (
        f'href="{reverse("complaints:kpis")}"'
        in client.get(reverse("analytics:report_section", args=["service"])).content.decode()
    )

    later = compute(as_of=AS_OF + datetime.timedelta(days=1))
    assert later.company["service"]["complaints"] == 1
    assert page_charts(client, "service")["service"]["extra"]["tiles"][0] == ["Complaints received", "1"]


def test_service_figures_write_their_thousands_as_the_page_does():
    from analytics.reports.service import BacklogCard, ServiceCard

    kpis = dict.fromkeys(
        (
            "first_response_median_hours",
            "first_response_p90_hours",
            "resolution_median_hours",
            "resolution_p90_hours",
            "sla_compliance_pct",
            "reopen_rate_pct",
            "recurrence_rate_pct",
            "complaints_per_100_orders",
            "post_complaint_satisfaction",
        )
    ) | {"complaints": 112339}
    assert ServiceCard.tiles(kpis)[0] == ["Complaints received", "112,339"]
    backlog = {"backlog_by_age": {"d0_1": 3312, "d1_3": 6934, "d3_7": 13814, "d7_plus": 10380}}
    reading = BacklogCard().reading(backlog | {"unresolved_customer_days": Decimal("193993.07")})
    assert reading == [
        "Open now: 34,440. A customer loses about one percent per day that a problem stays open: "
        "193,993.07 unresolved customer-days now."
    ]


def test_a_run_kept_without_its_service_kpis_has_them_read_once(client, executive_user, run, book):
    """A run published before the KPIs were kept with it reads them when its page is first built."""
    company = dict(run.company)
    del company["service"]
    AnalysisRun.objects.filter(pk=run.pk).update(company=company)
    make_complaint(customer=book["K1"], received_at=datetime.datetime(2026, 6, 1, 10, 0, tzinfo=datetime.UTC))
    client.force_login(executive_user)
    assert page_charts(client, "service")["service"]["extra"]["tiles"][0] == ["Complaints received", "1"]
    assert RunChart.objects.filter(run=run, name=chart_key("service", scope=Scope(), language="en")).exists()


# ------------------------------------------------------------------------------ stored, empty, roles


def test_charts_are_built_once_and_then_only_read(client, executive_user, run, django_assert_max_num_queries):
    client.force_login(executive_user)
    client.get(reverse("analytics:reports"))
    stored = set(RunChart.objects.filter(run=run).values_list("name", flat=True))
    assert {
        chart_key(name, scope=Scope(), language="en") for name in ("profit_volume", "whale", "pareto", "concentration")
    } <= stored
    points_payload(client)
    assert chart_key("profit_volume_points", scope=Scope(), language=None) in set(
        RunChart.objects.filter(run=run).values_list("name", flat=True)
    )
    with django_assert_max_num_queries(12):
        client.get(reverse("analytics:reports"))
    with django_assert_max_num_queries(8):
        points_payload(client)


@pytest.mark.parametrize("section", ["value", "tiers", "trends", "service"])
def test_report_queries_do_not_grow_with_customers(
    client, executive_user, book, section, django_assert_max_num_queries
):
    client.force_login(executive_user)

    def queries_for_a_fresh_run():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        compute(as_of=AS_OF + datetime.timedelta(days=queries_for_a_fresh_run.day))
        queries_for_a_fresh_run.day += 1
        client.get(reverse("analytics:report_section", args=[section]))  # builds and stores
        with CaptureQueriesContext(connection) as read:
            assert client.get(reverse("analytics:report_section", args=[section])).status_code == 200
        return len(read)

    queries_for_a_fresh_run.day = 0
    few = queries_for_a_fresh_run()
    for n in range(30):
        customer = CustomerFactory(code=f"M{n:03d}")
        order(customer, "2026-01-15", str(1000 + n), "500.00")
    many = queries_for_a_fresh_run()
    assert many == few <= 12 + live_queries(section)


def live_queries(section: str) -> int:
    """What the section's live cards read on every request: the open complaints and the surveys after
    complaints on the service page, one query each."""
    return 2 if section == "service" else 0


def test_no_run_yet_says_what_to_do(client, executive_user, sales_user):
    client.force_login(executive_user)
    page = client.get(reverse("analytics:reports")).content.decode()
    assert "Nothing published yet. Press “Recompute now”" in page
    assert 'action="/analytics/runs/start/"' in page
    assert client.get(reverse("analytics:report_profit_volume")).status_code == 404
    client.force_login(sales_user)
    page = client.get(reverse("analytics:portfolio")).content.decode()
    assert "No analysis has been published yet. An executive can start one" in page


def test_a_run_without_orders_says_so_on_each_chart(client, executive_user):
    CustomerFactory(code="Q1")
    compute()
    client.force_login(executive_user)
    charts = page_charts(client)
    assert charts["profit_volume"]["empty"] == "No customer has orders in this window. Import orders, then recompute."
    assert charts["whale"]["empty"] and charts["pareto"]["empty"] and charts["concentration"]["empty"]


def test_the_recompute_button_returns_to_the_report(client, executive_user, run):
    client.force_login(executive_user)
    page = client.get(reverse("analytics:reports")).content.decode()
    assert 'name="next" value="/analytics/reports/"' in page
    response = client.post(reverse("analytics:run_start"), {"next": "/analytics/reports/"})
    assert response.status_code == 302 and response["Location"] == "/analytics/reports/"
    response = client.post(reverse("analytics:run_start"), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("analytics:runs")


REPORT_URLS = [
    ("analytics:reports", []),
    ("analytics:report_section", ["tiers"]),
    ("analytics:report_section", ["service"]),
    ("analytics:report_profit_volume", []),
    ("analytics:report_csv", ["whale"]),
    ("analytics:report_customer", [1]),
]


@pytest.mark.parametrize("role", ["service_user", "sales_user"])
def test_service_and_sales_get_403_on_executive_reports(client, request, role, run):
    client.force_login(request.getfixturevalue(role))
    for name, args in REPORT_URLS:
        response = client.get(reverse(name, args=args))
        assert response.status_code == 403, name
        assert b"Alpha" not in response.content


def test_anonymous_goes_to_login(client, run):
    for name, args in REPORT_URLS + [("analytics:portfolio", [])]:
        response = client.get(reverse(name, args=args))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), name


@pytest.mark.parametrize("role", ["executive_user", "admin_user_"])
def test_executive_and_admin_read_every_report(client, request, role, run, book):
    client.force_login(request.getfixturevalue(role))
    for section in ("value", "tiers", "trends", "service"):
        assert client.get(reverse("analytics:report_section", args=[section])).status_code == 200
    whale_csv = b"".join(client.get(reverse("analytics:report_csv", args=["whale"])).streaming_content).decode(
        "utf-8-sig"
    )
    rows = list(csv.reader(io.StringIO(whale_csv)))
    assert rows[1:] == run.company["whale"]["curve"] and len(rows) > 2  # the stored curve, point for point
    details = client.get(reverse("analytics:report_customer", args=[book["K2"].pk])).json()
    assert (details["code"], details["revenue"], details["profit"], details["url"]) == (
        "K2",
        "60000.00",
        "30000.00",
        f"/customers/{book['K2'].pk}/",
    )
    nav = client.get(reverse("analytics:reports")).content.decode()
    assert 'href="/analytics/reports/"' in nav and 'href="/analytics/portfolio/"' in nav


def test_reports_read_in_chinese(client, executive_user, run):
    client.force_login(executive_user)
    client.cookies.load({"django_language": "zh-hans"})
    response = client.get(reverse("analytics:reports"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert RunChart.objects.filter(run=run, name=chart_key("profit_volume", scope=Scope(), language="zh-hans")).exists()
    charts = {chart["name"]: chart for chart in response.context["charts"]}
    with translation.override("zh-hans"):
        assert str(charts["profit_volume"]["spec"].title) == "利润与销量"
    assert "每个点代表一个客户" in " ".join(charts["profit_volume"]["reading"])  # the reading was built in Chinese


def test_a_long_whale_curve_is_sampled_but_keeps_its_peak_and_ends():
    # a run may store a point per customer: 10,000 points, the peak (103.5) at the 8,000th
    curve = [[f"{i / 100:.4f}", f"{min(i, 8000) / 80 + (3.5 if i == 8000 else 0):.4f}"] for i in range(1, 10001)]
    sampled = sample_curve(curve, peak_pct="103.5000")
    assert 500 <= len(sampled) <= 503
    assert sampled[0] == curve[0] and sampled[-1] == curve[-1]
    assert ["80.0000", "103.5000"] in sampled
    assert sample_curve(curve[:400], peak_pct="x") == curve[:400]


def test_protected_csv_lists_every_one_worst_first(client, executive_user, book):
    for code in ("K5",):
        Customer.objects.filter(pk=book[code].pk).update(strategic=True)
    compute()
    client.force_login(executive_user)
    response = client.get(reverse("analytics:report_csv", args=["protected"]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["Code", "Name", "Revenue", "Profit", "Protection"]
    assert [r[:4] for r in rows[1:]] == [["K5", "Epsilon", "20000.00", "-4000.00"]]


def test_the_page_asks_for_its_runs_points_in_its_language(client, executive_user, sales_user, run):
    client.force_login(executive_user)
    response = client.get(reverse("analytics:reports"), {"owner": sales_user.pk})
    url = f"/analytics/reports/profit-volume.json?run={run.pk}&amp;lang=en&amp;owner={sales_user.pk}"
    page = response.content.decode()
    assert f'data-points-url="{url}"' in page and f'<link rel="preload" href="{url}"' in page
    payload = points_payload(client, run=run.pk, lang="en", owner=sales_user.pk)
    assert payload["run"] == run.pk and payload["points"]["count"] == 2


def test_warming_builds_every_chart_in_every_language_once(run):
    built = report_charts_warm(run=run)
    names = set(RunChart.objects.filter(run=run).values_list("name", flat=True))
    stored = [name for name, card in CHARTS.items() if not card.live]
    assert "service" in stored and "backlog" not in stored  # the open complaints are read live, never stored
    assert names == {
        chart_key(name, scope=Scope(), language=language) for name in stored for language in ("en", "zh-hans")
    } | {chart_key("profit_volume_points", scope=Scope(), language=None)}
    assert all(name.startswith(f"v{CHARTS_VERSION}.") for name in names)
    assert built == len(names) and report_charts_warm(run=run) == 0


def test_tier_colours_are_the_stylesheets():
    import re
    from pathlib import Path

    css = (Path(__file__).resolve().parents[2] / "static" / "css" / "app.css").read_text()
    found = dict(re.findall(r"--tier-([a-p]):\s*(#[0-9a-f]{6})", css))
    assert {tier.lower(): colour for tier, colour in TIER_COLOURS.items()} == found
