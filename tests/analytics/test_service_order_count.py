"""The complaint KPIs' order count (complaints per 100 orders) from the monthly totals kept with the orders.

The service report card passes analytics.totals.orders_in_months to the KPIs: whole months
from the totals (the company's months on PostgreSQL, customer-months elsewhere), the days at the edges
counted from the orders. On hand-built orders around month ends, every period gives the count of the
orders themselves, by hand and by the old query (counted_orders without totals).
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.reports.service import ServiceCard
from analytics.totals import monthly_totals_rebuild_pairs, orders_in_months
from complaints.selectors import complaint_kpis, counted_orders
from crm.models import Order
from tests.factories import CustomerFactory, OrderFactory, make_complaint

pytestmark = pytest.mark.django_db

D = datetime.date

# (day, status) of each order; two customers, so the totals sum over customers.
ORDERS = [
    (D(2025, 11, 30), "delivered"),
    (D(2025, 12, 1), "delivered"),
    (D(2025, 12, 1), "cancelled"),  # never counted
    (D(2025, 12, 15), "open"),
    (D(2025, 12, 31), "delivered"),
    (D(2026, 1, 1), "delivered"),
    (D(2026, 1, 2), "returned"),  # never counted
    (D(2026, 2, 14), "delivered"),
    (D(2026, 2, 28), "open"),
    (D(2026, 3, 1), "delivered"),
    (D(2026, 6, 10), "delivered"),
    (D(2026, 6, 30), "delivered"),
    (D(2026, 11, 24), "delivered"),
    (D(2026, 11, 25), "delivered"),
    (D(2026, 11, 30), "open"),
    (D(2026, 12, 1), "delivered"),
    (D(2027, 1, 31), "delivered"),
]

PERIODS = [
    (D(2025, 12, 1), D(2026, 12, 1)),  # whole months only
    (D(2025, 11, 25), D(2026, 11, 25)),  # a run as of the 24th: both edges partial
    (D(2025, 11, 30), D(2026, 11, 30)),  # first edge one day, last edge all but one day
    (D(2025, 12, 2), D(2026, 11, 2)),  # first edge all but one day, last edge one day
    (D(2025, 12, 31), D(2026, 1, 2)),  # two days across a year's end, no whole month
    (D(2025, 12, 15), D(2026, 2, 15)),  # one whole month between two halves
    (D(2026, 2, 28), D(2026, 3, 2)),  # across February's end
    (D(2026, 6, 10), D(2026, 6, 30)),  # inside one month
    (D(2025, 1, 1), D(2028, 1, 1)),  # past every order and past the totals' last month
    (D(2026, 11, 1), D(2027, 2, 1)),  # months after today's
    (D(2026, 3, 1), D(2026, 3, 1)),  # empty
]


def by_hand(first, stop):
    return sum(1 for day, status in ORDERS if first <= day < stop and status in Order.COUNTED_STATUSES)


@pytest.fixture
def orders():
    customers = [CustomerFactory(), CustomerFactory()]
    for i, (day, status) in enumerate(ORDERS):
        OrderFactory(customer=customers[i % 2], ordered_on=day, status=status)
    return customers


@pytest.mark.parametrize(("first", "stop"), PERIODS)
def test_the_count_from_the_monthly_totals_is_the_count_of_the_orders(orders, first, stop):
    expected = by_hand(first, stop)
    assert counted_orders(first, stop) == expected  # the query the KPIs ran before
    assert counted_orders(first, stop, months_orders=orders_in_months) == expected


def test_the_hand_counts(orders):
    assert by_hand(D(2025, 11, 25), D(2026, 11, 25)) == 11
    assert by_hand(D(2025, 12, 1), D(2026, 12, 1)) == 12
    assert by_hand(D(2025, 12, 31), D(2026, 1, 2)) == 2


def test_orders_loaded_in_bulk_without_signals_are_counted(orders):
    """Imports write orders with bulk statements and rebuild the totals of what they touched; the count
    follows at once (a cache keyed on time would not)."""
    first, stop = D(2025, 11, 25), D(2026, 11, 25)
    before = counted_orders(first, stop, months_orders=orders_in_months)
    days = [D(2025, 11, 25), D(2025, 11, 24), D(2026, 4, 9), D(2026, 11, 24), D(2026, 11, 25)]
    Order.objects.bulk_create(
        Order(
            number=f"BULK{i}",
            customer=orders[0],
            ordered_on=day,
            revenue=Decimal("10.00"),
            cost=Decimal("5.00"),
            service_cost=Decimal("0.00"),
            status="delivered",
        )
        for i, day in enumerate(days)
    )
    monthly_totals_rebuild_pairs(pairs=[(orders[0].pk, day) for day in days])
    assert counted_orders(first, stop, months_orders=orders_in_months) == before + 3 == counted_orders(first, stop)


def test_whole_months_and_edges_take_one_query_whatever_the_length(orders, django_assert_num_queries):
    with django_assert_num_queries(1):  # the totals and both edges in one statement
        assert counted_orders(D(2025, 11, 25), D(2026, 11, 25), months_orders=orders_in_months) == 11
    with django_assert_num_queries(1):  # whole months
        assert counted_orders(D(2025, 12, 1), D(2026, 12, 1), months_orders=orders_in_months) == 12
    with django_assert_num_queries(1):
        assert counted_orders(D(2023, 11, 25), D(2027, 11, 25), months_orders=orders_in_months) == 15


def test_the_kpis_with_the_totals_equal_the_kpis_without(orders):
    start = datetime.datetime(2025, 11, 25, tzinfo=datetime.UTC)
    end = datetime.datetime(2026, 11, 25, tzinfo=datetime.UTC)
    now = datetime.datetime(2026, 11, 26, tzinfo=datetime.UTC)
    for day in (1, 2, 3):
        make_complaint(customer=orders[0], received_at=start + datetime.timedelta(days=day))
    kpis = complaint_kpis(start=start, end=end, now=now, months_orders=orders_in_months)
    assert kpis == complaint_kpis(start=start, end=end, now=now)
    assert kpis["complaints_per_100_orders"] == Decimal("27.27")  # 3 complaints / 11 orders


def test_the_service_card_counts_through_the_totals(orders):
    """A run as of 2026-11-24: its window's whole months come from the totals; the orders are read
    for the edge days only (2025-11-25..30 added, 2026-11-25..30 taken off)."""

    class Run:
        window_start, window_end = D(2025, 11, 25), D(2026, 11, 24)

    for day in (1, 2, 3):
        make_complaint(customer=orders[0], received_at=datetime.datetime(2026, 1, day, 12, tzinfo=datetime.UTC))
    with CaptureQueriesContext(connection) as read:
        kpis = ServiceCard().rows(Run, {}, None)
    assert kpis["complaints"] == 3
    assert kpis["complaints_per_100_orders"] == Decimal("27.27")  # 3 / 11 orders
    reads_of_orders = [q["sql"] for q in read.captured_queries if '"crm_order"' in q["sql"]]
    # the whole months from the company's months on PostgreSQL (12 rows), the customer-months elsewhere
    totals = "_companymonth" if connection.vendor == "postgresql" else "_customermonth"
    assert totals in reads_of_orders[0]
    assert len(reads_of_orders) == 1 and "2025-11-25" in reads_of_orders[0] and "2026-11-25" in reads_of_orders[0]
