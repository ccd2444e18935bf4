"""The unfiltered customer list on PostgreSQL shows the planner's estimate of the customers' number
("about 100,000 customers") instead of counting every customer on every page (STYLE: large tables).
A filtered list, a small table and SQLite count exactly (tests/crm/test_customer_views.py)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm import selectors
from crm.models import Customer
from tests.factories import CustomerFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgres,  # PostgreSQL's statistics (deselected on SQLite, never skipped)
]


def analyze():
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Customer._meta.db_table}")


def listed(client, user, params):
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("crm:customer_list"), params)
    # the customers counted: a COUNT over them, or the estimate's query falling back to one
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper() and "crm_customer" in q["sql"]]
    estimated = response.context["table"].paginator.estimated
    return response, [] if estimated and all("pg_class" in sql for sql in counts) else counts


def test_all_customers_are_estimated_not_counted(client, sales_user, monkeypatch):
    monkeypatch.setattr(selectors, "ESTIMATE_FROM", 5)
    CustomerFactory.create_batch(24, name="客户")
    analyze()
    assert selectors.customer_count_estimate() == (24, True)
    for params in ({}, {"sort": "name"}, {"sort": "-code", "page": 1}):
        response, counts = listed(client, sales_user, params)
        assert counts == []
        paginator = response.context["table"].paginator
        assert paginator.estimated and paginator.count == 24
        assert "about 24 customers" in response.content.decode()


def test_a_filtered_list_is_counted_exactly(client, sales_user, monkeypatch):
    monkeypatch.setattr(selectors, "ESTIMATE_FROM", 5)
    CustomerFactory.create_batch(20, name="客户")
    CustomerFactory.create_batch(3, name="嘉禾")
    analyze()
    response, counts = listed(client, sales_user, {"q": "嘉禾"})
    assert len(counts) == 1
    paginator = response.context["table"].paginator
    assert not paginator.estimated and paginator.count == 3
    assert "3 customers" in response.content.decode() and "about" not in response.content.decode()


def test_under_the_threshold_the_list_counts(client, sales_user):
    CustomerFactory.create_batch(12)
    analyze()
    assert selectors.customer_count_estimate() == (12, False)  # 12 < ESTIMATE_FROM: counted
    response, counts = listed(client, sales_user, {"sort": "name"})
    paginator = response.context["table"].paginator
    assert len(counts) == 1 and paginator.count == 12 and not paginator.estimated
    assert "12 customers" in response.content.decode()


def test_never_analyzed_the_list_counts(client, sales_user, monkeypatch):
    monkeypatch.setattr(selectors, "ESTIMATE_FROM", 5)
    CustomerFactory.create_batch(7)
    with connection.cursor() as cursor:  # as a table never analyzed: reltuples -1
        cursor.execute("UPDATE pg_class SET reltuples = -1 WHERE oid = 'crm_customer'::regclass")
    assert selectors.customer_count_estimate() == (7, False)


def test_rows_past_a_low_estimate_can_still_be_paged_to(client, sales_user, monkeypatch, settings):
    """The estimate was taken at 20 customers; 30 more came since within the same table pages."""
    monkeypatch.setattr(selectors, "ESTIMATE_FROM", 5)
    settings.CUSTOMER_LIST_PAGE_SIZE = 10
    CustomerFactory.create_batch(20)
    analyze()
    CustomerFactory.create_batch(30)
    estimate, estimated = selectors.customer_count_estimate()
    assert estimated
    response, _counts = listed(client, sales_user, {"sort": "code", "page": 5})
    assert response.status_code == 200
    codes = [row.record.code for row in response.context["table"].paginated_rows]
    assert codes == list(Customer.objects.order_by("code").values_list("code", flat=True)[40:50])
    assert response.context["table"].paginator.count == estimate


def test_sqlite_and_others_count(monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    assert selectors.customer_count_estimate() is None
