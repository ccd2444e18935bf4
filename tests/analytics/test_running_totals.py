"""Running totals (CustomerRunningTotal) and company months (CompanyMonth) stay equal to what the orders
say, whichever way the orders change: one order saved, moved or deleted (signals), a rebuild of some
customers or months, the import's pairs, a whole rebuild. PostgreSQL only: the SQL engine reads them.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection

from analytics.models import CompanyMonth, CustomerRunningTotal
from analytics.totals import monthly_totals_rebuild, monthly_totals_rebuild_pairs, running_extend, running_horizon
from crm.models import Order
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
D = Decimal


def expected_running(through: datetime.date) -> dict:
    """From the orders themselves: {(customer, month): (revenue, cost, service, orders, errors, dated, on time,
    first order, last order)} for every month from the customer's first order month to `through`."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH o AS (SELECT * FROM crm_order WHERE status = ANY(%s)),
            span AS (SELECT customer_id, date_trunc('month', min(ordered_on))::date AS m0 FROM o GROUP BY 1)
            SELECT s.customer_id, g::date,
                   (SELECT coalesce(sum(revenue), 0) FROM o WHERE o.customer_id = s.customer_id AND o.ordered_on < g + interval '1 month'),
                   (SELECT coalesce(sum(cost), 0) FROM o WHERE o.customer_id = s.customer_id AND o.ordered_on < g + interval '1 month'),
                   (SELECT coalesce(sum(service_cost), 0) FROM o WHERE o.customer_id = s.customer_id AND o.ordered_on < g + interval '1 month'),
                   (SELECT count(*) FROM o WHERE o.customer_id = s.customer_id AND o.ordered_on < g + interval '1 month'),
                   (SELECT count(*) FROM o WHERE o.customer_id = s.customer_id AND o.ordered_on < g + interval '1 month' AND entry_error),
                   (SELECT count(*) FROM o WHERE o.customer_id = s.customer_id AND o.ordered_on < g + interval '1 month'
                       AND promised_on IS NOT NULL AND delivered_on IS NOT NULL),
                   (SELECT count(*) FROM o WHERE o.customer_id = s.customer_id AND o.ordered_on < g + interval '1 month'
                       AND delivered_on <= promised_on),
                   (SELECT min(ordered_on) FROM o WHERE o.customer_id = s.customer_id),
                   (SELECT max(ordered_on) FROM o WHERE o.customer_id = s.customer_id AND o.ordered_on < g + interval '1 month')
            FROM span s, generate_series(s.m0, %s::date, interval '1 month') g
            """,
            [[s.value for s in Order.COUNTED_STATUSES], through],
        )
        return {(row[0], row[1]): tuple(row[2:]) for row in cursor.fetchall()}


def stored_running() -> dict:
    return {
        (r.customer_id, r.month): (
            r.revenue,
            r.cost,
            r.service_cost,
            r.orders,
            r.error_orders,
            r.dated_deliveries,
            r.on_time_deliveries,
            r.first_order_on,
            r.last_order_on,
        )
        for r in CustomerRunningTotal.objects.all()
    }


def expected_company_months() -> dict:
    """Each month's (revenue, number) of counted orders, summed from the orders themselves."""
    totals: dict = {}
    for order in Order.objects.filter(status__in=Order.COUNTED_STATUSES):
        month = order.ordered_on.replace(day=1)
        revenue, orders = totals.get(month, (D("0"), 0))
        totals[month] = (revenue + order.revenue, orders + 1)
    return totals


def assert_in_step():
    horizon = running_horizon()
    assert stored_running() == expected_running(horizon)
    assert {m.month: (m.revenue, m.orders) for m in CompanyMonth.objects.all()} == expected_company_months()


def order(customer, day, revenue="10.00", **extra):
    values = {
        "number": f"T-{customer.pk}-{day.isoformat()}-{revenue}",
        "customer": customer,
        "ordered_on": day,
        "revenue": D(revenue),
        "cost": D("4.00"),
        "service_cost": D("1.50"),
        "quantity": 1,
        "promised_on": day + datetime.timedelta(days=5),
        "delivered_on": day + datetime.timedelta(days=3),
        "status": Order.Status.DELIVERED,
        **extra,
    }
    return Order.objects.create(**values)


def test_single_order_changes_keep_running_totals_and_company_months_in_step():
    alpha, beta = CustomerFactory(), CustomerFactory()
    first = order(alpha, datetime.date(2024, 3, 10))
    assert_in_step()
    # Dense from the first order month to at least this month, with the sums carried forward.
    rows = CustomerRunningTotal.objects.filter(customer=alpha).order_by("month")
    assert rows[0].month == datetime.date(2024, 3, 1)
    assert rows.last().month >= datetime.date.today().replace(day=1)
    assert {r.revenue for r in rows} == {D("10.00")}

    order(alpha, datetime.date(2024, 1, 5), revenue="7.00", entry_error=True)  # before the first month
    order(beta, datetime.date(2024, 6, 1), revenue="3.00", status=Order.Status.CANCELLED)  # not counted
    late = order(beta, datetime.date(2024, 6, 2), revenue="5.00", delivered_on=datetime.date(2024, 6, 30))
    assert_in_step()
    assert CustomerRunningTotal.objects.get(customer=alpha, month=datetime.date(2024, 2, 1)).revenue == D("7.00")
    assert CustomerRunningTotal.objects.get(customer=alpha, month=datetime.date(2024, 3, 1)).revenue == D("17.00")

    first.ordered_on = datetime.date(2024, 5, 20)  # moved to a later month
    first.save()
    late.revenue = D("8.25")
    late.save()
    assert_in_step()
    assert CustomerRunningTotal.objects.get(customer=alpha, month=datetime.date(2024, 4, 1)).revenue == D("7.00")

    Order.objects.get(pk=late.pk).delete()  # beta's only counted order: beta's rows go
    assert_in_step()
    assert not CustomerRunningTotal.objects.filter(customer=beta).exists()


def test_bulk_rebuilds_keep_them_in_step():
    customers = [CustomerFactory() for _ in range(3)]
    Order.objects.bulk_create(
        Order(
            number=f"B-{i}",
            customer=customers[i % 3],
            ordered_on=datetime.date(2023, 1 + i % 12, 1 + i % 28),
            revenue=D(i) + D("0.25"),
            cost=D("1.00"),
            service_cost=D("0.10"),
            quantity=1,
            status=Order.Status.DELIVERED,
        )
        for i in range(40)
    )
    monthly_totals_rebuild()  # the whole table (seed_demo)
    assert_in_step()

    Order.objects.filter(number__in=["B-4", "B-5"]).update(revenue=D("99.99"))
    Order.objects.bulk_create(
        [
            Order(
                number="B-new",
                customer=customers[0],
                ordered_on=datetime.date(2023, 2, 3),
                revenue=D("1.11"),
                cost=D("0"),
                service_cost=D("0"),
                quantity=1,
                status=Order.Status.OPEN,
            )
        ]
    )
    monthly_totals_rebuild(months=[datetime.date(2023, 2, 1), datetime.date(2023, 5, 1), datetime.date(2023, 6, 1)])
    assert_in_step()

    Order.objects.filter(customer=customers[1], ordered_on__month=8).delete()
    monthly_totals_rebuild(customer_ids=[customers[1].pk], months=[datetime.date(2023, 8, 1)])
    assert_in_step()

    Order.objects.filter(customer=customers[2]).update(ordered_on=datetime.date(2022, 12, 31))
    monthly_totals_rebuild_pairs(
        pairs_sql=(
            "SELECT customer_id, month FROM (VALUES (%s::bigint, '2022-12-01'::date), (%s, '2023-03-01'), (%s, '2023-06-01'),"
            " (%s, '2023-09-01'), (%s, '2023-12-01')) AS p (customer_id, month)",
            [customers[2].pk] * 5,
        )
    )
    assert_in_step()


def test_running_totals_are_carried_forward_to_a_later_month():
    customer = CustomerFactory()
    order(customer, datetime.date(2024, 3, 10))
    horizon = running_horizon()
    later = (horizon + datetime.timedelta(days=70)).replace(day=1)
    assert running_extend(later) == 2  # two more months for the one customer
    assert running_extend(later) == 0  # already there
    assert running_horizon() == later
    assert CustomerRunningTotal.objects.get(customer=customer, month=later).revenue == D("10.00")
    assert_in_step()
