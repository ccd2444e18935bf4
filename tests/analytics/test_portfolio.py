"""The sales portfolio: my customers by tier with their actions, neglected accounts, my declining top
accounts, follow-ups due this week; a sales rep sees only their own."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.models import AnalysisRun, CustomerResult
from analytics.reports.portfolio import portfolio_follow_ups, top20_last_place, week_bounds
from analytics.services.runs import run_compute, run_request
from tasks.models import Task
from tasks.services import COMPLETE, SNOOZE, tasks_bulk
from tests.factories import CustomerFactory, InteractionFactory, OrderFactory

pytestmark = pytest.mark.django_db

D = Decimal
AS_OF = datetime.date(2026, 6, 30)


def order(customer, on, revenue, cost):
    return OrderFactory(
        customer=customer,
        ordered_on=datetime.date.fromisoformat(on),
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


@pytest.fixture
def book(sales_user, other_sales_user):
    """sales1 owns S1 (the largest, down 30% on the year before, no contact), S2 (contacted 10 days
    before as_of), S3 (loses money) and S4 (a prospect); sales2 owns T1 and T2."""
    s1 = CustomerFactory(code="S1", name="Sunrise Foods", owner=sales_user)
    s2 = CustomerFactory(code="S2", name="上海星辰", owner=sales_user)
    s3 = CustomerFactory(code="S3", name="Slow Payer", owner=sales_user)
    s4 = CustomerFactory(code="S4", name="Someday", owner=sales_user)
    t1 = CustomerFactory(code="T1", name="Their Customer One", owner=other_sales_user)
    t2 = CustomerFactory(code="T2", name="Their Customer Two", owner=other_sales_user)
    order(s1, "2025-02-01", "100000.00", "60000.00")  # prior window
    order(s1, "2026-02-01", "70000.00", "40000.00")  # -30%
    order(s2, "2026-03-01", "30000.00", "20000.00")
    order(s3, "2026-04-01", "10000.00", "12000.00")
    order(t1, "2026-03-01", "20000.00", "15000.00")
    order(t2, "2026-03-01", "15000.00", "9000.00")
    InteractionFactory(customer=s2, occurred_on=datetime.date(2026, 6, 20))
    return {c.code: c for c in (s1, s2, s3, s4, t1, t2)}


@pytest.fixture
def run(book):
    return compute()


def test_my_customers_by_tier_are_the_runs_results(client, sales_user, run, book):
    client.force_login(sales_user)
    response = client.get(reverse("analytics:portfolio"))
    assert response.status_code == 200
    context = response.context
    mine = CustomerResult.objects.filter(run=run, customer__owner=sales_user)
    expected = {}
    for result in mine:
        entry = expected.setdefault(result.tier, {"customers": 0, "profit": D(0), "actions": {}})
        entry["customers"] += 1
        entry["profit"] += result.profit
        if result.action:
            entry["actions"][result.action] = entry["actions"].get(result.action, 0) + 1
    shown = {
        e["tier"]: {"customers": e["customers"], "profit": e["profit"], "actions": e["actions"]}
        for e in context["tiers"]
        if e["customers"]
    }
    assert shown == expected
    assert context["customers_total"] == 4  # S1..S4, never T1 or T2
    listed = {r.customer.code for results in context["top_by_tier"].values() for r in results}
    assert listed == {"S1", "S2", "S3", "S4"}
    assert context["top_by_tier"]["P"][0].customer.code == "S4"
    assert context["top_by_tier"]["D"][0].customer.code == "S3"
    # the tier figure uses the tier colours of app.css
    colours = dict(
        zip(context["tier_figure"]["data"][0]["x"], context["tier_figure"]["data"][0]["marker"]["color"], strict=False)
    )
    assert colours["D · drain"] == "#c0392b"


def test_neglected_and_declining_top_accounts(client, sales_user, other_sales_user, run, book):
    s1 = CustomerResult.objects.get(run=run, customer=book["S1"])
    assert s1.tier in ("A", "B") and s1.days_since_last_interaction is None
    assert CustomerResult.objects.get(run=run, customer=book["S2"]).days_since_last_interaction == 10
    client.force_login(sales_user)
    context = client.get(reverse("analytics:portfolio")).context
    # S1 is core or key and nobody has been in touch; S2 was contacted 10 days before as_of
    assert (context["neglected_count"], [r.customer.code for r in context["neglected"]]) == (1, ["S1"])
    # the top 20% of the 5 customers with orders is S1 alone: 70,000 against 100,000 is -30%
    assert (context["declining_count"], [r.customer.code for r in context["declining"]]) == (1, ["S1"])
    assert context["declining"][0].growth_pct == D("-30.0000")
    # a visit logged since the run takes S1 off the neglected list at once
    InteractionFactory(customer=book["S1"], occurred_on=timezone.localdate())
    assert client.get(reverse("analytics:portfolio")).context["neglected_count"] == 0
    client.force_login(other_sales_user)
    context = client.get(reverse("analytics:portfolio")).context
    assert context["declining_count"] == 0 and context["customers_total"] == 2


def test_follow_ups_due_this_week(sales_user, other_sales_user, book):
    today = datetime.date(2026, 11, 25)  # a Wednesday: the week is 2026-11-23 .. 2026-11-29
    assert week_bounds(today) == (datetime.date(2026, 11, 23), datetime.date(2026, 11, 29))
    due = InteractionFactory(
        customer=book["S2"], occurred_on=datetime.date(2026, 11, 20), next_follow_up=datetime.date(2026, 11, 27)
    )
    overdue = InteractionFactory(
        customer=book["S3"], occurred_on=datetime.date(2026, 11, 2), next_follow_up=datetime.date(2026, 11, 16)
    )
    answered = InteractionFactory(
        customer=book["S1"], occurred_on=datetime.date(2026, 11, 1), next_follow_up=datetime.date(2026, 11, 24)
    )
    InteractionFactory(customer=book["S1"], occurred_on=datetime.date(2026, 11, 3))  # the follow-up happened
    InteractionFactory(
        customer=book["S4"], occurred_on=datetime.date(2026, 11, 21), next_follow_up=datetime.date(2026, 11, 30)
    )  # next week
    InteractionFactory(
        customer=book["T1"], occurred_on=datetime.date(2026, 11, 21), next_follow_up=datetime.date(2026, 11, 24)
    )  # not mine
    back = InteractionFactory(
        customer=book["S2"], occurred_on=datetime.date(2026, 11, 10), next_follow_up=datetime.date(2026, 11, 18)
    )  # snoozed until today: due again
    later = InteractionFactory(
        customer=book["S3"], occurred_on=datetime.date(2026, 11, 10), next_follow_up=datetime.date(2026, 11, 19)
    )  # snoozed until tomorrow: not yet
    # Follow-ups are tasks now (made from each interaction's date); the answered one was completed.
    task = {t.interaction_id: t for t in Task.objects.all()}
    on_monday = timezone.make_aware(datetime.datetime(2026, 11, 24, 9, 0))
    mine = Task.objects.all()
    tasks_bulk(tasks=mine, ids=[task[answered.pk].pk], user=sales_user, action=COMPLETE, now=on_monday)
    for interaction, until in ((back, datetime.date(2026, 11, 25)), (later, datetime.date(2026, 11, 26))):
        tasks_bulk(
            tasks=mine, ids=[task[interaction.pk].pk], user=sales_user, action=SNOOZE, until=until, now=on_monday
        )
    count, listed = portfolio_follow_ups(owner=sales_user, today=today)
    # overdue first (16th), then the snoozed one back today (25th), then the one due on the 27th
    assert (count, listed) == (3, [task[overdue.pk], task[back.pk], task[due.pk]])
    assert [t.next_due_on for t in listed] == [datetime.date(2026, 11, d) for d in (16, 25, 27)]
    assert task[answered.pk] not in listed and task[later.pk] not in listed
    assert portfolio_follow_ups(owner=other_sales_user, today=today)[0] == 1


def test_sales_see_only_their_own_portfolio(client, sales_user, other_sales_user, run):
    client.force_login(sales_user)
    for params in ({}, {"owner": other_sales_user.pk}):
        response = client.get(reverse("analytics:portfolio"), params)
        page = response.content.decode()
        assert response.context["owner"] == sales_user
        assert "Sunrise Foods" in page and "Their Customer" not in page
        assert 'name="owner"' not in page  # no picker for a sales rep


def test_executives_pick_a_portfolio(client, executive_user, other_sales_user, run):
    client.force_login(executive_user)
    page = client.get(reverse("analytics:portfolio")).content.decode()
    assert "Pick a sales rep above to read their portfolio." in page
    response = client.get(reverse("analytics:portfolio"), {"owner": other_sales_user.pk})
    page = response.content.decode()
    assert response.context["customers_total"] == 2
    assert "Their Customer One" in page and "Sunrise Foods" not in page


def test_service_gets_403_on_the_portfolio(client, service_user, run):
    client.force_login(service_user)
    response = client.get(reverse("analytics:portfolio"))
    assert response.status_code == 403
    assert b"Sunrise" not in response.content


def test_an_empty_portfolio_says_what_to_do(client, make_user, run):
    from crm.roles import Role

    client.force_login(make_user(Role.SALES, username="newrep"))
    page = client.get(reverse("analytics:portfolio")).content.decode()
    assert "No customers are assigned to this portfolio yet." in page
    assert "No follow-ups due this week." in page


def test_portfolio_queries_do_not_grow_with_customers(client, sales_user, book):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(sales_user)

    def queries():
        compute()
        with CaptureQueriesContext(connection) as read:
            assert client.get(reverse("analytics:portfolio")).status_code == 200
        return [query["sql"] for query in read]

    InteractionFactory(customer=book["S2"], occurred_on=datetime.date(2026, 6, 25), next_follow_up=timezone.localdate())
    client.get(reverse("crm:customer_list"))  # the top bar's unread count is read once, then cached
    few = queries()
    for n in range(30):
        customer = CustomerFactory(code=f"S9{n:02d}", owner=sales_user)
        order(customer, "2026-01-10", str(2000 + n), "1000.00")
        InteractionFactory(
            customer=customer, occurred_on=datetime.date(2026, 5, 1), next_follow_up=timezone.localdate()
        )
    many = queries()
    # the first view of a run: the 13 queries of every view, and 7 reading the run's figures for the cache
    assert len(many) == len(few) <= 20, "\n".join(many)


def test_the_top20_last_place_is_read_once_per_published_run(run, django_assert_num_queries):
    """It is the same for every portfolio and reads the whole run (0.2-0.8 s at 100,000 customers)."""
    first = top20_last_place(run=run)
    assert first == (D("70000.00"), "S1")  # the top 20% of 5 valued customers is S1 alone
    with django_assert_num_queries(0):
        assert top20_last_place(run=run) == first


def test_a_portfolio_view_reads_the_runs_figures_once_and_the_live_ones_each_time(
    client, sales_user, run, book, django_assert_num_queries
):
    """What the run says of a portfolio (one aggregate with a FILTER per figure, the top customers per
    tier, the declining accounts, the neglected candidates) is read on the first view and then kept per
    run, owner and language; each view reads only what changes: follow-ups, and interactions since the run."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(sales_user)
    InteractionFactory(customer=book["S2"], occurred_on=datetime.date(2026, 6, 25), next_follow_up=timezone.localdate())
    with CaptureQueriesContext(connection) as first:
        assert client.get(reverse("analytics:portfolio")).status_code == 200
    results = [q["sql"] for q in first if 'FROM "analytics_customerresult"' in q["sql"]]
    aggregates = [sql for sql in results if "FILTER" in sql or "CASE WHEN" in sql]
    assert len(aggregates) == 1, results  # every tier figure and the declining count in one aggregate
    # session, user, permissions (2), groups (2), published and running run: 8; follow-ups (tasks): 2;
    # interactions since the run, and the neglected accounts listed: 2; the listed alerts' follow-ups: 1
    with django_assert_num_queries(13) as counted:
        again = client.get(reverse("analytics:portfolio"))
    assert sum('FROM "tasks_task"' in q["sql"] for q in counted.captured_queries) == 3
    assert len(first) > 13 and again.context["customers_total"] == 4
    assert (again.context["neglected_count"], again.context["follow_ups_count"]) == (1, 1)
    # read in Chinese: the figure's labels are that language's, read from the run again once
    with CaptureQueriesContext(connection) as chinese:
        page = client.get(reverse("analytics:portfolio"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert len(chinese) > 12 and "核心" in page.context["tier_figure"]["data"][0]["x"][0]
