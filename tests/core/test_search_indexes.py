"""On PostgreSQL every test the top bar's search makes of contacts and complaints is one an index
serves (crm 0013, complaints 0004): with sequential scans and plain index scans off, the plan is
bitmap scans of the named indexes, never a sequential scan of the table."""

import pytest
from django.db import connection, transaction

from complaints.search import complaint_search
from crm.search import contact_search
from tests.factories import ContactFactory, CustomerFactory, make_complaint

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]  # PostgreSQL's indexes (deselected on SQLite)


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:  # SET LOCAL lasts for this transaction
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.fixture
def rows():
    customer = CustomerFactory(code="HZ01", name="杭州西湖茶业有限公司")
    ContactFactory(customer=customer, name="王西湖", email="wang@xihu.cn", phone="139 1111 2222")
    make_complaint(customer=customer, number="CP0000101", description="茶叶到货时包装破损。")


@pytest.mark.parametrize(
    "text, indexes",
    [
        ("wang", ["contact_name_trgm_idx", "contact_email_trgm_idx", "contact_phone_trgm_idx"]),
        ("1111", ["contact_name_plain_trgm_idx", "contact_email_trgm_idx", "contact_phone_trgm_idx"]),
        ("王西湖", ["contact_name_plain_trgm_idx"]),
        ("王西", ["contact_name_short_grams_idx"]),  # two characters: trigrams cannot serve them
    ],
)
def test_the_contact_search_reads_its_indexes(rows, text, indexes):
    shown = plan(contact_search(text=text))
    assert "Seq Scan" not in shown, shown
    for index in indexes:
        assert index in shown, shown


@pytest.mark.parametrize(
    "text, indexes",
    [
        ("cp00", ["complaint_number_upper_prefix_idx", "complaint_description_trgm_idx"]),
        ("0000101", ["complaint_number_upper_prefix_idx", "complaint_description_plain_trgm_idx"]),
        ("包装破", ["complaint_description_plain_trgm_idx"]),
        ("包装", ["complaint_description_short_grams_idx"]),
    ],
)
def test_the_complaint_search_reads_its_indexes(rows, text, indexes):
    shown = plan(complaint_search(user=None, text=text))
    assert "Seq Scan on complaints_complaint" not in shown, shown
    for index in indexes:
        assert index in shown, shown
