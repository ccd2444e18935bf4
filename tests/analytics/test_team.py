"""The Team page: executives compare sales reps (customers, revenue, profit, tier mix, neglected core
and key accounts, overdue follow-ups) on a hand-built book whose figures are worked out below."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.models import AnalysisRun, ScoringModel
from analytics.reports.team import team_figure, team_reading, team_rows
from analytics.services.runs import run_compute, run_request
from crm.roles import Role
from tasks.models import State, Task
from tests.factories import CustomerFactory, InteractionFactory, OrderFactory

pytestmark = pytest.mark.django_db

D = Decimal
AS_OF = datetime.date(2026, 6, 30)
TODAY = datetime.date(2026, 11, 25)


def order(customer, revenue, cost):
    return OrderFactory(
        customer=customer,
        ordered_on=datetime.date(2026, 3, 1),
        revenue=D(revenue),
        cost=D(cost),
        service_cost=D("0.00"),
    )


def compute():
    run, _created = run_request(trigger=AnalysisRun.Trigger.COMMAND, as_of=AS_OF, enqueue=False)
    run_compute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    return run


def follow_up(customer, occurred_on, due):
    return InteractionFactory(
        customer=customer,
        occurred_on=datetime.date.fromisoformat(occurred_on),
        next_follow_up=datetime.date.fromisoformat(due) if due else None,
    )


@pytest.fixture
def team(make_user, sales_user, other_sales_user, executive_user):
    """Profit alone scores, so tiers follow profit. Among the 5 profitable customers: A is the top
    ceil(1) = S1; B the next up to ceil(2.5) = 3: S2, T2; C: T1, U1. S3 loses money (D), S4 and X1
    have no orders (P).

    sales1: S1 70,000.55 - 40,000.10 = 30,000.45 (A, no contact ever)
            S2 30,000.25 - 20,000.00 = 10,000.25 (B, a call 10 days before as_of)
            S3 10,000.00 - 12,000.40 = -2,000.40 (D)
            S4 prospect
            -> 4 customers, revenue 110,000.80, profit 38,000.30; A 1, B 1, C 0, D 1; neglected S1
    sales2: T1 20,000.10 - 15,000.05 = 5,000.05 (C)
            T2 15,000.00 -  9,000.00 = 6,000.00 (B, last call 2026-03-01: 121 days)
            -> 2 customers, revenue 35,000.10, profit 11,000.05; B 1, C 1; neglected T2
    sales3: no customers. exec1 (no sales rep): X1, a prospect. Nobody: U1 5,000.00 - 4,000.00 = 1,000.00 (C)
    """
    ScoringModel.objects.create(factors=[["profit", 1]])
    sales3 = make_user(Role.SALES, username="sales3")
    customers = {}
    for code, owner, revenue, cost in [
        ("S1", sales_user, "70000.55", "40000.10"),
        ("S2", sales_user, "30000.25", "20000.00"),
        ("S3", sales_user, "10000.00", "12000.40"),
        ("S4", sales_user, None, None),
        ("T1", other_sales_user, "20000.10", "15000.05"),
        ("T2", other_sales_user, "15000.00", "9000.00"),
        ("X1", executive_user, None, None),
        ("U1", None, "5000.00", "4000.00"),
    ]:
        customers[code] = CustomerFactory(code=code, name=f"Customer {code}", owner=owner)
        if revenue:
            order(customers[code], revenue, cost)
    follow_up(customers["S2"], "2026-06-20", None)
    follow_up(customers["T2"], "2026-03-01", None)
    customers["sales3"] = sales3
    return customers


@pytest.fixture
def run(team):
    return compute()


@pytest.fixture
def follow_ups(team, run):
    """Logged after the run (on customers that are not core or key, which would leave the neglected
    list), each follow-up date becoming a task: overdue on TODAY are S2's (sales1), T1's later one
    (sales2) and U1's (nobody's). S3's was done; T1's first, overdue since October, is snoozed until
    today (due, not overdue); S4's is not due yet."""
    follow_up(team["S2"], "2026-11-02", "2026-11-16")
    done = follow_up(team["S3"], "2026-11-01", "2026-11-24")
    Task.objects.filter(interaction=done).update(state=State.DONE, completed_at=timezone.now())
    follow_up(team["S4"], "2026-11-20", "2026-11-27")  # not due yet
    snoozed = follow_up(team["T1"], "2026-10-01", "2026-10-15")
    Task.objects.filter(interaction=snoozed).update(state=State.SNOOZED, snoozed_until=TODAY)
    follow_up(team["T1"], "2026-11-10", "2026-11-20")
    follow_up(team["U1"], "2026-11-01", "2026-11-10")
    return team


def by_name(rows):
    return {row.name: row for row in rows}


def test_per_rep_figures_to_the_cent(run, team, follow_ups, sales_user, other_sales_user, executive_user):
    rows = team_rows(run=run, today=TODAY)
    figures = [
        (row.name, row.customers, row.revenue, row.profit, row.tiers, row.neglected, row.overdue, row.linked)
        for row in rows
    ]
    assert figures == [
        ("sales1", 4, D("110000.80"), D("38000.30"), {"A": 1, "B": 1, "C": 0, "D": 1}, 1, 1, True),
        ("sales2", 2, D("35000.10"), D("11000.05"), {"A": 0, "B": 1, "C": 1, "D": 0}, 1, 1, True),
        ("exec1", 1, D("0.00"), D("0.00"), {"A": 0, "B": 0, "C": 0, "D": 0}, 0, 0, False),
        ("sales3", 0, D(0), D(0), {"A": 0, "B": 0, "C": 0, "D": 0}, 0, 0, True),
        ("No owner", 1, D("5000.00"), D("1000.00"), {"A": 0, "B": 0, "C": 1, "D": 0}, 0, 1, False),
    ]
    assert [row.owner for row in rows[:2]] == [sales_user, other_sales_user]


def test_neglected_accounts_are_the_portfolios(client, run, team, executive_user, sales_user, other_sales_user):
    """Counted as the portfolio page counts them, and a contact logged since the run counts at once."""
    client.force_login(executive_user)
    rows = by_name(team_rows(run=run, today=TODAY))
    for rep in (sales_user, other_sales_user):
        portfolio = client.get(reverse("analytics:portfolio"), {"owner": rep.pk}).context
        assert rows[rep.get_username()].neglected == portfolio["neglected_count"] == 1
    follow_up(team["T2"], "2026-07-05", None)
    assert by_name(team_rows(run=run, today=TODAY))["sales2"].neglected == 0


def test_the_chart_and_the_reading(run, follow_ups):
    rows = team_rows(run=run, today=TODAY)
    figure = team_figure(rows)
    profit, revenue = figure["data"]
    assert profit["y"] == ["sales1", "sales2", "exec1"]  # reps with customers, most profitable first
    assert profit["x"] == [38000.3, 11000.05, 0.0] and revenue["x"] == [110000.8, 35000.1, 0.0]
    assert profit["hovertext"] == ["38,000.30", "11,000.05", "0.00"]
    # 38,000.30 of the company's 50,000.35 is 75.99957...%
    assert team_reading(rows) == [
        "sales1's customers earn the most: 38,000.30 CNY of profit on 110,000.80 of revenue. That is 76.0% of "
        "the company's profit.",
        "2 core and key accounts (A, B) have had no contact in 60 days; sales1 has the most (1).",
        "3 follow-ups are overdue.",
    ]


def test_the_page_is_sorted_by_profit_and_opens_each_portfolio(
    client, run, team, executive_user, sales_user, other_sales_user
):
    follow_up(team["S2"], "2026-06-25", str(timezone.localdate() - datetime.timedelta(days=3)))
    client.force_login(executive_user)
    response = client.get(reverse("analytics:team"))
    assert response.status_code == 200
    assert [row.name for row in response.context["reps"]] == ["sales1", "sales2", "exec1", "sales3", "No owner"]
    page = response.content.decode()
    portfolio = reverse("analytics:portfolio")
    for rep in (sales_user, other_sales_user, team["sales3"]):
        assert f'<a href="{portfolio}?owner={rep.pk}">{rep.get_username()}</a>' in page
    assert f"{portfolio}?owner={executive_user.pk}" not in page  # not a sales rep: no portfolio to open
    assert "110,000.80" in page and "38,000.30" in page and "-2,000.40" not in page
    assert response.context["reps"][0].overdue == 1  # S2's follow-up, 3 days late
    assert 'data-report-figure="team-figure"' in page


def test_csv(client, run, follow_ups, executive_user):
    client.force_login(executive_user)
    response = client.get(reverse("analytics:team_csv"))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == [
        "Sales rep",
        "Customers",
        "Revenue",
        "Profit",
        "Tier A",
        "Tier B",
        "Tier C",
        "Tier D",
        "Neglected A/B accounts",
        "Overdue follow-ups",
    ]
    assert rows[1][:8] == ["sales1", "4", "110000.80", "38000.30", "1", "1", "0", "1"]
    assert rows[-1][:4] == ["", "1", "5000.00", "1000.00"]


def test_without_a_run_the_page_says_so(client, executive_user, team):
    client.force_login(executive_user)
    response = client.get(reverse("analytics:team"))
    assert response.status_code == 200 and "reps" not in response.context
    assert client.get(reverse("analytics:team_csv")).status_code == 404


@pytest.mark.parametrize("role, status", [("executive", 200), ("admin", 200), ("sales", 403), ("service", 403)])
def test_who_may_read_it(client, make_user, run, role, status):
    user = (
        make_user(None, username="root9", is_staff=True, is_superuser=True)
        if role == "admin"
        else make_user(Role(role.capitalize()), username=f"{role}9")
    )
    client.force_login(user)
    for url in (reverse("analytics:team"), reverse("analytics:team_csv")):
        response = client.get(url)
        assert response.status_code == status
        if status == 403:
            assert b"110000.80" not in response.content and b"110,000.80" not in response.content


def test_anonymous_is_sent_to_log_in(client, run):
    for url in (reverse("analytics:team"), reverse("analytics:team_csv")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_page_reads_in_chinese(client, run, executive_user):
    client.force_login(executive_user)
    response = client.get(reverse("analytics:team"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = response.content.decode()
    assert response.status_code == 200 and '<html lang="zh-hans"' in page
    assert "销售团队" in page and "无负责人" in page
    assert response.context["reading"][0].startswith("sales1 的客户利润最高")


def test_queries_do_not_grow_with_customers_or_reps(client, executive_user, team, make_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(executive_user)

    def queries():
        compute()
        with CaptureQueriesContext(connection) as read:
            assert client.get(reverse("analytics:team")).status_code == 200
        return [query["sql"] for query in read]

    client.get(reverse("analytics:team"))  # what the site keeps per user (the unread notifications) is read once
    few = queries()
    for n in range(10):
        rep = make_user(Role.SALES, username=f"rep{n}")
        for m in range(3):
            customer = CustomerFactory(code=f"R{n}{m}", owner=rep)
            order(customer, str(1000 + n), "500.00")
            follow_up(customer, "2026-05-01", "2026-05-10")
    many = queries()
    # session, user, permissions; the published and the running run; the reps, the results by owner,
    # the follow-ups by owner, the owners who are not sales reps
    assert len(many) == len(few) <= 13, "\n".join(many)
