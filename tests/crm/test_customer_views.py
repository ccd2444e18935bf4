"""Customer list and detail: filters, search, sorting, pagination, query counts, the monthly chart."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from crm.models import Customer, Order
from crm.selectors import customer_monthly_revenue
from crm.tables import CustomerTable
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    IndustryFactory,
    InteractionFactory,
    InvoiceFactory,
    OrderFactory,
    RegionFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db


def listed_codes(response):
    return [row.record.code for row in response.context["table"].paginated_rows]


@pytest.fixture
def catalogue(sales_user, other_sales_user):
    east, north = RegionFactory(name="华东 East China"), RegionFactory(name="华北 North China")
    retail, logistics = IndustryFactory(name="Retail"), IndustryFactory(name="Logistics")
    CustomerFactory(code="A1", name="杭州西湖茶业有限公司", region=east, industry=retail, owner=sales_user)
    CustomerFactory(code="B2", name="Harbor Logistics Ltd", region=north, industry=logistics, owner=other_sales_user)
    CustomerFactory(
        code="C3",
        name="杭州滨江物流",
        region=north,
        industry=logistics,
        owner=sales_user,
        status=Customer.Status.PROSPECT,
    )
    CustomerFactory(
        code="D4",
        name="Apex Retail",
        region=east,
        industry=retail,
        owner=None,
        status=Customer.Status.CHURNED,
        churned_on=datetime.date(2026, 1, 1),
        churn_reason="price",
    )
    return {"east": east, "north": north, "retail": retail, "logistics": logistics}


class TestFilters:
    @pytest.mark.parametrize(
        "params, expected",
        [
            ({}, ["A1", "B2", "C3", "D4"]),
            ({"q": "杭州"}, ["A1", "C3"]),
            ({"q": "harbor"}, ["B2"]),
            ({"q": "d4"}, ["D4"]),
            ({"q": "  物流 "}, ["C3"]),
            ({"status": "churned"}, ["D4"]),
            ({"q": "nothing-like-this"}, []),
        ],
    )
    def test_text_and_status(self, client, sales_user, catalogue, params, expected):
        client.force_login(sales_user)
        response = client.get(reverse("crm:customer_list"), {**params, "sort": "code"})
        assert listed_codes(response) == expected

    def test_region_industry_owner_combined(self, client, sales_user, catalogue):
        client.force_login(sales_user)
        url = reverse("crm:customer_list")
        assert listed_codes(client.get(url, {"region": catalogue["north"].pk, "sort": "code"})) == ["B2", "C3"]
        assert listed_codes(client.get(url, {"industry": catalogue["retail"].pk, "sort": "code"})) == ["A1", "D4"]
        assert listed_codes(client.get(url, {"owner": sales_user.pk, "sort": "code"})) == ["A1", "C3"]
        both = {"owner": sales_user.pk, "region": catalogue["north"].pk}
        assert listed_codes(client.get(url, both)) == ["C3"]

    def test_empty_result_says_what_to_do(self, client, sales_user, catalogue):
        client.force_login(sales_user)
        page = client.get(reverse("crm:customer_list"), {"q": "zzz"}).content.decode()
        assert "No customer matches these filters." in page


class TestSorting:
    @pytest.mark.parametrize("column", [c.name for c in CustomerTable(Customer.objects.none()).columns])
    def test_every_column_sorts_both_ways_in_the_database(self, client, sales_user, catalogue, column):
        client.force_login(sales_user)
        up = listed_codes(client.get(reverse("crm:customer_list"), {"sort": column}))
        down = listed_codes(client.get(reverse("crm:customer_list"), {"sort": f"-{column}"}))
        assert sorted(up) == sorted(down) == ["A1", "B2", "C3", "D4"]

    def test_name_order(self, client, sales_user, catalogue):
        client.force_login(sales_user)
        response = client.get(reverse("crm:customer_list"), {"sort": "name", "q": "l"})
        assert listed_codes(response) == ["D4", "B2"]  # Apex Retail, Harbor Logistics Ltd

    def test_region_sorts_by_region_name(self, client, sales_user, catalogue):
        client.force_login(sales_user)
        response = client.get(reverse("crm:customer_list"), {"sort": "-region"})
        regions = [row.record.region.name for row in response.context["table"].paginated_rows]
        assert regions == sorted(regions, reverse=True)


class TestPagination:
    def test_pages_hold_fifty_and_the_count_is_total(self, client, sales_user, settings):
        CustomerFactory.create_batch(120)
        client.force_login(sales_user)
        response = client.get(reverse("crm:customer_list"), {"page": 3, "sort": "code"})
        table = response.context["table"]
        assert table.paginator.count == 120
        assert len(listed_codes(response)) == 20

    def test_query_count_does_not_grow_with_rows(self, client, sales_user, django_assert_max_num_queries):
        client.force_login(sales_user)
        CustomerFactory.create_batch(3)
        client.get(reverse("crm:customer_list"))  # the top bar's unread count is read once, then cached
        with django_assert_max_num_queries(13) as few:  # 12, and the saved views' picker (core.saved_views)
            client.get(reverse("crm:customer_list"))
        CustomerFactory.create_batch(150)
        with django_assert_max_num_queries(len(few.captured_queries)):
            response = client.get(reverse("crm:customer_list"))
        assert len(listed_codes(response)) == 50


class TestDetail:
    def test_shows_every_section(self, client, sales_user, owned_customer):
        ContactFactory(customer=owned_customer, name="王经理", decision_maker=True)
        InteractionFactory(customer=owned_customer, summary="季度拜访", by=sales_user)
        OrderFactory(customer=owned_customer, number="SO-DETAIL-1")
        InvoiceFactory(customer=owned_customer, number="INV-DETAIL-1")
        SurveyFactory(customer=owned_customer, comment="交货及时")
        client.force_login(sales_user)
        page = client.get(owned_customer.get_absolute_url()).content.decode()
        for text in (
            "王经理",
            "季度拜访",
            "SO-DETAIL-1",
            "INV-DETAIL-1",
            "交货及时",
            'data-plotly-figure="revenue-chart"',
        ):
            assert text in page

    def test_query_count_does_not_grow_with_records(
        self, client, sales_user, owned_customer, django_assert_max_num_queries
    ):
        client.force_login(sales_user)

        def add_records(n):
            for _ in range(n):
                ContactFactory(customer=owned_customer)
                InteractionFactory(customer=owned_customer, by=sales_user)
                OrderFactory(customer=owned_customer)
                InvoiceFactory(customer=owned_customer)
                SurveyFactory(customer=owned_customer)

        add_records(1)
        with django_assert_max_num_queries(30) as few:
            client.get(owned_customer.get_absolute_url())
        add_records(30)
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert client.get(owned_customer.get_absolute_url()).status_code == 200

    def test_orders_page_paginates(self, client, sales_user, owned_customer):
        OrderFactory.create_batch(60, customer=owned_customer)
        client.force_login(sales_user)
        response = client.get(reverse("crm:customer_orders", args=[owned_customer.pk]), {"page": 2})
        assert len(response.context["table"].paginated_rows) == 10

    def test_unknown_customer_is_404(self, client, sales_user):
        client.force_login(sales_user)
        assert client.get(reverse("crm:customer_detail", args=[999999])).status_code == 404


class TestMonthlyRevenue:
    def test_sums_counted_orders_per_month_with_zero_months(self, owned_customer):
        make = lambda day, revenue, status=Order.Status.DELIVERED: OrderFactory(  # noqa: E731
            customer=owned_customer, ordered_on=day, revenue=Decimal(revenue), status=status
        )
        make(datetime.date(2026, 3, 1), "100.10")
        make(datetime.date(2026, 3, 31), "0.05")
        make(datetime.date(2026, 3, 15), "999.00", Order.Status.CANCELLED)
        make(datetime.date(2026, 3, 16), "888.00", Order.Status.RETURNED)
        make(datetime.date(2026, 5, 2), "20.00", Order.Status.OPEN)
        make(datetime.date(2025, 12, 31), "7.00")  # before the window
        OrderFactory(ordered_on=datetime.date(2026, 3, 2), revenue=Decimal("5.00"))  # another customer

        series = customer_monthly_revenue(customer=owned_customer, months=3, today=datetime.date(2026, 5, 20))

        assert series == [("2026-03", Decimal("100.15")), ("2026-04", Decimal("0.00")), ("2026-05", Decimal("20.00"))]
