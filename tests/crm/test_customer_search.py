"""One customer search (crm.selectors.customer_search): the customer list, the complaint queue and the
complaint form's customer lookup find the same customers for the same text (issue 16)."""

import pytest
from django.urls import reverse

from crm.models import Customer
from crm.selectors import customer_search
from tests.factories import CustomerFactory, make_complaint

pytestmark = pytest.mark.django_db

CUSTOMERS = [
    # code, name, email, phone
    ("HZ01", "杭州西湖茶业有限公司", "tea@xihu.cn", "+86 571 8888 0001"),
    ("HZ02", "杭州滨江物流", "", "138 0013 8000"),
    ("HB01", "Harbor Logistics Ltd", "ops@harbor-logistics.com", ""),
    ("AX01", "Apex Retail", "buyer@APEX.example", "021-5555-0199"),
    ("WH01", "湖南商贸", "info@hunan-trade.cn", "0731 1234 5678"),
]


@pytest.fixture
def customers():
    made = {}
    for index, (code, name, email, phone) in enumerate(CUSTOMERS):
        made[code] = CustomerFactory(code=code, name=name, email=email, phone=phone)
        make_complaint(customer=made[code], number=f"Q-{index}")  # numbers no search text below contains
    return made


def found_by_list(client, user, text) -> set[str]:
    client.force_login(user)
    response = client.get(reverse("crm:customer_list"), {"q": text})
    return {row.record.code for row in response.context["table"].paginated_rows}


def found_by_queue(client, user, text) -> set[str]:
    client.force_login(user)
    response = client.get(reverse("complaints:queue"), {"tab": "all", "q": text})
    return {row.record.customer.code for row in response.context["table"].paginated_rows}


def found_by_lookup(client, user, text) -> set[str]:
    client.force_login(user)
    response = client.get(reverse("complaints:customer_lookup"), {"q": text})
    return {result["code"] for result in response.json()["results"]}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("杭州", {"HZ01", "HZ02"}),  # Chinese name, two characters
        ("湖", {"HZ01", "WH01"}),  # one character
        ("西湖茶", {"HZ01"}),
        ("harbor", {"HB01"}),  # a name, any case (and the email)
        ("hz0", {"HZ01", "HZ02"}),  # a code, any case, anywhere in it
        ("Z02", {"HZ02"}),
        ("apex.EXAMPLE", {"AX01"}),  # an email, any case
        ("@hunan", {"WH01"}),
        ("0013", {"HZ02"}),  # a phone's digits
        ("5555-01", {"AX01"}),
        ("logistics", {"HB01"}),
        ("nothing-like-this", set()),
    ],
)
def test_the_list_the_queue_and_the_complaint_form_find_the_same_customers(
    client, sales_user, service_user, customers, text, expected
):
    assert found_by_list(client, sales_user, text) == expected
    assert found_by_queue(client, service_user, text) == expected
    assert found_by_lookup(client, service_user, text) == expected
    assert {c.code for c in customer_search(Customer.objects.all(), text)} == expected


def test_the_queue_still_finds_a_complaint_by_its_number(client, service_user, customers):
    client.force_login(service_user)
    response = client.get(reverse("complaints:queue"), {"tab": "all", "q": "q-3"})
    assert [row.record.number for row in response.context["table"].paginated_rows] == ["Q-3"]


def test_blank_text_finds_everyone(customers):
    assert customer_search(Customer.objects.all(), "  ").count() == len(CUSTOMERS)


@pytest.mark.postgres
@pytest.mark.parametrize("text", ["harbor", "0013", "apex.EXAMPLE"])
def test_every_field_the_search_reads_is_served_by_an_index(customers, text):
    """Each OR-ed test has its trigram index (crm 0003, 0005, 0009), or PostgreSQL scans every customer."""
    from django.db import connection

    queryset = customer_search(Customer.objects.order_by(), text)
    with connection.cursor() as cursor:
        # Only bitmap scans left: an OR-ed test without an index would force a sequential scan.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        sql, params = queryset.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan" not in plan, plan
    for index in ("customer_email_trgm_idx", "customer_phone_trgm_idx"):
        assert index in plan, plan
