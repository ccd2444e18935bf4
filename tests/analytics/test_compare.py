"""The Compare page: two published runs side by side (tier migration, the top 20%'s share,
concentration, churn), on a hand-built book whose figures are worked out below."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from analytics.models import AnalysisRun, CostModel, CustomerResult, ScoringModel
from analytics.reports.compare import CARDS, compare_pair, compare_runs, migration_counts
from analytics.services.runs import run_compute, run_request
from crm.models import Customer
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

D = Decimal


def order(customer, on, revenue, cost):
    return OrderFactory(
        customer=customer,
        ordered_on=datetime.date.fromisoformat(on),
        revenue=D(revenue),
        cost=D(cost),
        service_cost=D("0.00"),
    )


def compute(as_of):
    run, _created = run_request(trigger=AnalysisRun.Trigger.COMMAND, as_of=as_of, enqueue=False)
    run_compute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    return run


def scoring(factor):
    return ScoringModel.objects.create(factors=[[factor, 1]])


@pytest.fixture
def book():
    """Six customers with orders in 2026 (in every window below), O1 with its one order in August
    2025, a prospect, and three churned customers whose one order (March 2024) is in no window.

    revenue - cost = profit:  K1 100,000 - 90,000 = 10,000   K2 80,000 - 50,000 = 30,000
                              K3  60,000 - 35,000 = 25,000   K4 40,000 - 20,000 = 20,000
                              K5  20,000 - 15,000 =  5,000   L1 50,000 - 60,000 = -10,000
                              O1  10,000 -  4,000 =  6,000 (2025-08-10)
    """
    customers = {}
    for code, on, revenue, cost in [
        ("K1", "2026-01-15", "100000.00", "90000.00"),
        ("K2", "2026-02-15", "80000.00", "50000.00"),
        ("K3", "2026-03-15", "60000.00", "35000.00"),
        ("K4", "2026-04-15", "40000.00", "20000.00"),
        ("K5", "2026-05-15", "20000.00", "15000.00"),
        ("L1", "2026-06-15", "50000.00", "60000.00"),
        ("O1", "2025-08-10", "10000.00", "4000.00"),
    ]:
        customers[code] = CustomerFactory(code=code)
        order(customers[code], on, revenue, cost)
    customers["P1"] = CustomerFactory(code="P1", status=Customer.Status.PROSPECT)
    for code, churned_on in [("CH1", "2025-09-10"), ("CH2", "2026-09-15"), ("CH3", "2026-11-01")]:
        customers[code] = CustomerFactory(
            code=code,
            status=Customer.Status.CHURNED,
            churned_on=datetime.date.fromisoformat(churned_on),
            churn_reason=Customer.ChurnReason.choices[0][0],
        )
        order(customers[code], "2024-03-01", "1000.00", "500.00")  # before every window: they were active
    return customers


@pytest.fixture
def runs(book):
    """A: as of 2026-06-30, revenue alone scores. B: the same date, profit alone scores and each order
    costs 1,000 to handle. N1, a prospect, came after A: it holds only a stand-in prospect row in A
    (as a new customer joins the published run), so for the migration it is new in B. C: as of 2026-12-31, B's settings."""
    scoring("revenue")
    a = compute(datetime.date(2026, 6, 30))
    scoring("profit")
    CostModel.objects.create(order_handling_cost=D("1000.00"))
    CustomerFactory(code="N1", status=Customer.Status.PROSPECT)
    b = compute(datetime.date(2026, 6, 30))
    c = compute(datetime.date(2026, 12, 31))
    return a, b, c


def text(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8-sig")


def tiers(run):
    return dict(CustomerResult.objects.filter(run=run).values_list("customer__code", "tier"))


# Worked out by hand. A, revenue scoring, m = 6 profitable customers: A for the top ceil(1.2) = 2
# (K1, K2), B up to ceil(3) = 3 (K3), C the rest; L1 loses money (D); no orders: P.
# B, profit scoring, profits less 1,000: K2 29,000 > K3 24,000 > K4 19,000 > K1 9,000 > O1 5,000 > K5 4,000.
# C, window 2026: O1 has no order in it (P), m = 5: A ceil(1) = K2; B ceil(2.5) = 3: K3, K4; C K1, K5.
TIERS_A = {"K1": "A", "K2": "A", "K3": "B", "K4": "C", "K5": "C", "O1": "C", "L1": "D"}
TIERS_B = {"K1": "C", "K2": "A", "K3": "A", "K4": "B", "K5": "C", "O1": "C", "L1": "D"}
TIERS_C = {"K1": "C", "K2": "A", "K3": "B", "K4": "B", "K5": "C", "O1": "P", "L1": "D"}
PROSPECTS = {"P1": "P", "CH1": "P", "CH2": "P", "CH3": "P"}
MOVES_A_B = [("none", "P", 1), ("A", "A", 1), ("A", "C", 1), ("B", "A", 1), ("C", "B", 1), ("C", "C", 2)]
MOVES_A_B += [("D", "D", 1), ("P", "P", 4)]


def test_the_book_is_as_worked_out(runs):
    a, b, c = runs
    assert tiers(a) == TIERS_A | PROSPECTS | {"N1": "P"}  # N1's stand-in row, added when it was created
    assert tiers(b) == TIERS_B | PROSPECTS | {"N1": "P"}
    assert tiers(c) == TIERS_C | PROSPECTS | {"N1": "P"}


def test_migration_counts_customers_from_tier_to_tier_in_one_query(runs, django_assert_num_queries):
    a, b, c = runs
    pair = compare_pair(a=a, b=b)
    with django_assert_num_queries(1):
        moves = CARDS["migration"].rows(pair)
    assert moves == MOVES_A_B
    # up: K3 B->A, K4 C->B; down: K1 A->C; same: K2, K5, O1, L1 and the four prospects; new: N1
    assert migration_counts(moves) == {"up": 2, "down": 1, "same": 8, "new": 1}
    later = CARDS["migration"].rows(compare_pair(a=b, b=c))
    assert ("A", "B", 1) in later and ("C", "P", 1) in later  # K3 down a tier; O1 has no order in 2026
    assert migration_counts(later) == {"same": 10, "down": 1, "to_prospect": 1}
    # backwards, N1 is in run B but not in run A
    assert ("P", "none", 1) in CARDS["migration"].rows(compare_pair(a=b, b=a))
    assert migration_counts(CARDS["migration"].rows(compare_pair(a=b, b=a)))["gone"] == 1


def test_migration_between_consecutive_runs_agrees_with_the_runs_own(runs):
    """The run stores its migration from the run before it (services/core.py): the same counts."""
    _a, b, c = runs
    c = AnalysisRun.objects.get(pk=c.pk)
    stored = {tuple(key.split(">")): n for key, n in c.company["tier_migration"].items()}
    assert {(s, t): n for s, t, n in CARDS["migration"].rows(compare_pair(a=b, b=c))} == stored


def test_the_sankey_says_so_when_both_runs_share_an_as_of_date(runs):
    a, b, c = runs
    card = CARDS["migration"].build(compare_pair(a=a, b=b))
    assert card["note"] == (
        "Both runs are as of 30 Jun 2026: the same 12 months of orders. Every move here comes from the settings "
        "that changed between them (the scoring model, the cost model), not from what customers did."
    )
    assert card["extra"]["same_as_of"] is True
    assert card["reading"][0] == (
        f"From run #{a.pk} to run #{b.pk}, 2 customers moved up a tier, 1 moved down and 8 kept their tier; "
        f"1 are new in run #{b.pk}."
    )
    assert "1 core (A) customers left tier A: find out why." in card["reading"]
    sankey = card["figure"]["data"][0]
    assert sankey["type"] == "sankey"
    assert sankey["link"]["value"] == [n for _s, _t, n in MOVES_A_B]
    assert sankey["node"]["label"][:5] == [
        f"Not in run #{a.pk} (1)",
        "A · core (2)",
        "B · key (1)",
        "C · general (3)",
        "D · drain (1)",
    ]
    # different dates: no note
    assert CARDS["migration"].build(compare_pair(a=b, b=c))["note"] == ""


def test_top20_share_of_profit(runs):
    """The top 20% by revenue of 7 customers with orders is ceil(1.4) = 2: K1 and K2, 180,000 of
    360,000 revenue. A: their profit 40,000 of 86,000 = 46.5116%; B (each order 1,000 less):
    38,000 of 79,000 = 48.1013%."""
    a, b, _c = runs
    card = CARDS["top20"].build(compare_pair(a=a, b=b))
    assert card["rows"][:2] == [
        ["Share of revenue", "50.0000", "50.0000", "0.0000"],
        ["Share of profit", "46.5116", "48.1013", "1.5897"],
    ]
    assert card["rows"][2][1:3] == [2, 2]
    assert card["reading"][0] == (
        f"The top 20% of customers brought 46.5% of profit in run #{a.pk} and 48.1% in run #{b.pk}: "
        "+1.6 percentage points."
    )
    assert [trace["y"] for trace in card["figure"]["data"]] == [[50.0, 46.5116], [50.0, 48.1013]]


def test_concentration(runs):
    """A and B: 360,000 of revenue; the largest (K1) 27.7778%, the five largest (K1 K2 K3 L1 K4,
    330,000) 91.6667%, HHI (100² + 80² + 60² + 50² + 40² + 20² + 10²) / 360² x 10,000 = 1,898.1481.
    C: 350,000 without O1: 28.5714%, 94.2857%, HHI 24,500 / 122,500 x 10,000 = 2,000."""
    _a, b, c = runs
    card = CARDS["concentration"].build(compare_pair(a=b, b=c))
    assert card["rows"] == [
        ["Largest customer's share", "27.7778", "28.5714", "0.7936"],
        ["Five largest customers' share", "91.6667", "94.2857", "2.6190"],
        ["HHI", "1898.1481", "2000.0000", "101.8519"],
        ["Concentration alert", "Yes", "Yes", ""],
    ]
    assert card["reading"][:2] == [
        "The largest customer's share of revenue went from 27.8% to 28.6% (+0.8 points), the five largest's "
        "from 91.7% to 94.3% (+2.6 points).",
        "The HHI went from 1,898 to 2,000 (+102).",
    ]


def test_churn_in_each_window(runs):
    """CH1 left on 2025-09-10 (in A's and B's window), CH2 and CH3 in the autumn of 2026 (C's)."""
    a, b, c = runs
    card = CARDS["churn"].build(compare_pair(a=b, b=c))
    assert card["reading"][0].startswith(f"Run #{b.pk} (1 Jul 2025 to 30 Jun 2026): 1 customers churned")
    assert card["reading"][1].startswith(f"Run #{c.pk} (1 Jan 2026 to 31 Dec 2026): 2 customers churned")
    assert card["reading"][2] == "Churn changed by +1 customers between the two windows."
    churned = {(run, period): n for run, period, n, *_rest in card["rows"]}
    assert churned[(b.pk, "2025-09")] == 1 and churned[(c.pk, "2026-09")] == 1 and churned[(c.pk, "2026-11")] == 1
    assert sum(n for (run, _p), n in churned.items() if run == c.pk) == 2
    same = CARDS["churn"].build(compare_pair(a=a, b=b))
    assert (
        same["reading"][-1]
        == "Both runs cover the same 12 months, so churn differs only if churn dates were corrected."
    )


# ------------------------------------------------------------------------------------------ the page


def test_the_page_defaults_to_the_latest_and_the_one_before(client, executive_user, runs):
    a, b, c = runs
    assert compare_runs() == [c, b, a]  # latest first
    client.force_login(executive_user)
    response = client.get(reverse("analytics:compare"))
    assert response.status_code == 200
    assert (response.context["run_a"], response.context["run_b"]) == (b, c)
    page = response.content.decode()
    for name in CARDS:
        assert f'id="card-{name}"' in page
        assert reverse("analytics:compare_csv", args=[name]) + f"?a={b.pk}&amp;b={c.pk}" in page
    assert 'class="compare-note"' not in page  # different as-of dates


def test_the_page_compares_the_picked_runs_and_shows_the_note(client, executive_user, runs):
    a, b, _c = runs
    client.force_login(executive_user)
    page = client.get(reverse("analytics:compare"), {"a": a.pk, "b": b.pk}).content.decode()
    assert '<li class="compare-note">Both runs are as of 30 Jun 2026: the same 12 months of orders.' in page
    assert f'<option value="{a.pk}" selected>' in page


def test_a_run_that_is_not_published_is_refused(client, executive_user, runs):
    a, _b, _c = runs
    client.force_login(executive_user)
    response = client.get(reverse("analytics:compare"), {"a": a.pk, "b": 999999})
    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()


def test_fewer_than_two_runs_say_what_to_do(client, executive_user, book):
    client.force_login(executive_user)
    page = client.get(reverse("analytics:compare")).content.decode()
    assert "Comparing needs two published runs, and none is published yet." in page
    compute(datetime.date(2026, 6, 30))
    page = client.get(reverse("analytics:compare")).content.decode()
    assert "Comparing needs two published runs, and there is one so far (as of 30 Jun 2026)." in page
    assert reverse("analytics:runs") in page
    response = client.get(reverse("analytics:compare_csv", args=["migration"]))
    assert text(response).splitlines() == ["Note", "Compare needs two published runs."]


def test_csv_of_the_migration(client, executive_user, runs):
    a, b, _c = runs
    client.force_login(executive_user)
    response = client.get(reverse("analytics:compare_csv", args=["migration"]), {"a": a.pk, "b": b.pk})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(text(response))))
    assert rows[0] == [f"Tier in run #{a.pk}", f"Tier in run #{b.pk}", "Customers"]
    assert [(s, t, int(n)) for s, t, n in rows[1:]] == MOVES_A_B
    assert client.get(reverse("analytics:compare_csv", args=["nothing"])).status_code == 404


@pytest.mark.parametrize("role, status", [("executive", 200), ("admin", 200), ("sales", 403), ("service", 403)])
def test_who_may_compare(client, make_user, runs, role, status):
    from crm.roles import Role

    user = (
        make_user(None, username="root9", is_staff=True, is_superuser=True)
        if role == "admin"
        else make_user(Role(role.capitalize()), username=f"{role}9")
    )
    client.force_login(user)
    assert client.get(reverse("analytics:compare")).status_code == status
    assert client.get(reverse("analytics:compare_csv", args=["top20"])).status_code == status


def test_anonymous_is_sent_to_log_in(client, runs):
    for url in (reverse("analytics:compare"), reverse("analytics:compare_csv", args=["churn"])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_page_reads_in_chinese(client, executive_user, runs):
    a, b, _c = runs
    client.force_login(executive_user)
    response = client.get(reverse("analytics:compare"), {"a": a.pk, "b": b.pk}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = response.content.decode()
    assert response.status_code == 200 and '<html lang="zh-hans"' in page
    assert "对比分析" in page and "等级迁移" in page
    assert response.context["cards"][0]["note"].startswith("两次分析的截止日期都是")


def test_queries_do_not_grow_with_customers(client, executive_user, book):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(executive_user)

    def queries():
        compute(datetime.date(2026, 6, 30))
        compute(datetime.date(2026, 6, 30))
        with CaptureQueriesContext(connection) as read:
            assert client.get(reverse("analytics:compare")).status_code == 200
        return [query["sql"] for query in read]

    client.get(reverse("analytics:compare"))  # what the site keeps per user (the unread notifications) is read once
    few = queries()
    for n in range(30):
        order(CustomerFactory(code=f"M{n:02d}"), "2026-02-01", str(1000 + n), "500.00")
    many = queries()
    # session, user, permissions; the published runs, the pair's company figures, the migration
    assert len(many) == len(few) <= 9, "\n".join(many)
    # the pair's cards are kept: a second view reads the published runs only
    with CaptureQueriesContext(connection) as again:
        assert client.get(reverse("analytics:compare")).status_code == 200
    assert len(again) == len(many) - 2
