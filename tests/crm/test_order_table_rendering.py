"""The orders table's lean rows (crm.tables.LeanRowsMixin) write the cells django-tables2's own
template writes: with and without money, every kind of cell, in English and in Chinese."""

import datetime
from decimal import Decimal

import pytest

from crm.models import Order
from crm.tables import LEAN_TEMPLATE, OrderMoneyTable, OrderTable
from tests.crm.test_customer_list_rendering import stock_html, tbody
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders():
    customer = CustomerFactory()
    OrderFactory(
        customer=customer,
        ordered_on=datetime.date(2026, 3, 1),
        promised_on=datetime.date(2026, 3, 8),
        delivered_on=datetime.date(2026, 3, 9),
        revenue=Decimal("1234567.89"),
        entry_error=True,
    )
    OrderFactory(
        customer=customer,
        ordered_on=datetime.date(2026, 4, 2),
        status=Order.Status.CANCELLED,
        promised_on=None,
        delivered_on=None,
        revenue=Decimal("0.00"),
        quantity=3,
    )
    return customer.orders.all()


@pytest.mark.parametrize("table_class", [OrderTable, OrderMoneyTable])
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_lean_rows_equal_django_tables2(rf, orders, table_class, language):
    from django.utils import translation

    table = table_class(orders, orderable=False)
    assert table.template_name == LEAN_TEMPLATE
    with translation.override(language):
        lean = tbody(table.as_html(rf.get("/")))
    assert lean == tbody(stock_html(table, rf.get("/"), language))
    assert lean.count("<tr") == 2


def test_no_cell_falls_back_to_a_bound_row(orders):
    """Every column is written the fast way: none compiles a template or inspects a signature per cell."""
    table = OrderMoneyTable(orders, orderable=False)
    assert {table._lean_cell_writer(column).__name__ for column in table.columns} == {"write"}
