"""The PostgreSQL road for orders (COPY staging, set-based checks and writes) and the bulk
monthly-totals rebuild it calls."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection

from analytics import totals
from analytics.models import CustomerMonth
from crm.models import Order
from exchange.services import import_file
from tests.factories import CustomerFactory, OrderFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def month_rows():
    return sorted(
        CustomerMonth.objects.values_list(
            "customer_id",
            "month",
            "revenue",
            "cost",
            "service_cost",
            "orders",
            "error_orders",
            "dated_deliveries",
            "on_time_deliveries",
            "first_order_on",
            "last_order_on",
        )
    )


@pytest.mark.parametrize("hash_join_from", [1, 10**9])
def test_pairs_rebuild_matches_a_full_rebuild_on_both_plans(monkeypatch, hash_join_from):
    monkeypatch.setattr(totals, "PAIRS_HASH_JOIN_FROM", hash_join_from)
    first, second = CustomerFactory(), CustomerFactory()
    days = [
        datetime.date(2024, 2, 29),
        datetime.date(2024, 2, 1),
        datetime.date(2026, 12, 31),
        datetime.date(2026, 1, 1),
    ]
    for n, day in enumerate(days):
        OrderFactory(
            customer=first,
            ordered_on=day,
            revenue=Decimal(100 + n),
            cost=Decimal(10),
            service_cost=Decimal("1.50"),
            promised_on=day,
            delivered_on=day + datetime.timedelta(days=n - 1),
            entry_error=n == 2,
        )
    OrderFactory(customer=second, ordered_on=datetime.date(2024, 2, 10), revenue=Decimal(7), cost=Decimal(1))
    OrderFactory(
        customer=second,
        ordered_on=datetime.date(2024, 2, 11),
        revenue=Decimal(9),
        cost=Decimal(1),
        status=Order.Status.CANCELLED,
    )
    expected = month_rows()
    CustomerMonth.objects.all().delete()

    count = totals.monthly_totals_rebuild_pairs(
        pairs_sql=(f"SELECT DISTINCT customer_id, {totals.month_of_sql('ordered_on')} AS month FROM crm_order", [])
    )

    assert count == 4  # (first: 2024-02, 2026-12, 2026-01), (second: 2024-02)
    assert month_rows() == expected
    feb = CustomerMonth.objects.get(customer=first, month=datetime.date(2024, 2, 1))
    # by hand: February 2024 holds 29 Feb (100, delivered a day early) and 1 Feb (101, delivered that day)
    assert (feb.revenue, feb.orders, feb.dated_deliveries, feb.on_time_deliveries, feb.first_order_on) == (
        Decimal("201.00"),
        2,
        2,
        2,
        datetime.date(2024, 2, 1),
    )
    assert CustomerMonth.objects.get(customer=second).revenue == Decimal("7.00")


def test_reimporting_an_unchanged_file_writes_no_row(csv_file):
    CustomerFactory(code="K1")
    path = csv_file(
        "number,customer,ordered_on,revenue,cost", "SO-1,K1,2026-01-05,10.00,5", "SO-2,K1,2026-01-06,1.10,0"
    )
    import_file(kind="orders", path=path)

    def versions():
        with connection.cursor() as cursor:
            cursor.execute("SELECT number, xmin::text FROM crm_order ORDER BY number")
            return cursor.fetchall()

    before = versions()
    report = import_file(kind="orders", path=path)

    assert report.ok and (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert versions() == before
    assert report.notes == [("monthly_totals", {"pairs": 0})]


def test_columns_absent_from_the_file_keep_their_values(csv_file):
    customer = CustomerFactory(code="K1")
    OrderFactory(
        number="SO-1",
        customer=customer,
        ordered_on=datetime.date(2026, 1, 5),
        revenue=Decimal(10),
        cost=Decimal(5),
        service_cost=Decimal("3.00"),
        quantity=7,
        entry_error=True,
        status=Order.Status.OPEN,
    )

    report = import_file(
        kind="orders", path=csv_file("number,customer,ordered_on,revenue,cost", "SO-1,K1,2026-01-05,12.00,5")
    )

    assert report.ok and report.updated == 1
    order = Order.objects.get()
    assert (order.revenue, order.service_cost, order.quantity, order.entry_error, order.status) == (
        Decimal("12.00"),
        Decimal("3.00"),
        7,
        True,
        Order.Status.OPEN,
    )
    assert CustomerMonth.objects.get().revenue == Decimal("12.00")


def test_many_problems_are_counted_beyond_the_listed_ones(csv_file, settings):
    settings.IMPORT_REPORT_MAX_PROBLEMS = 3
    CustomerFactory(code="K1")
    rows = [f"SO-{n},NOPE,2026-01-05,1,1" for n in range(5)] + ["SO-1,K1,2026-01-05,1,1"] * 2

    report = import_file(kind="orders", path=csv_file("number,customer,ordered_on,revenue,cost", *rows))

    assert report.problem_count == 5 + 2  # five unknown customers; SO-1 on lines 7 and 8 repeats line 3
    assert [(p.line, p.reason) for p in report.problems] == [
        (2, "unknown_customer"),
        (3, "unknown_customer"),
        (4, "unknown_customer"),
    ]
