"""The queue's search (complaints.selectors.complaints_matching): a complaint's number by its start,
its description, or its customer as the customer search finds it, the same complaints the top
bar's search finds; each half read through its own table (an IN over a UNION, no OR across the join)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from complaints.search import complaint_search
from tests.factories import CustomerFactory, make_complaint

pytestmark = pytest.mark.django_db


@pytest.fixture
def book():
    huadong = CustomerFactory(code="C000777", name="华东精密机械有限公司", email="office@huadong.example")
    harbor = CustomerFactory(code="C000123", name="Harbor Logistics Ltd")
    return {
        "damaged": make_complaint(customer=harbor, description="Goods arrived damaged"),
        "invoice": make_complaint(customer=harbor, description="发票金额与合同不符 invoiced twice"),
        "huadong": make_complaint(customer=huadong, description="Late delivery"),
    }


def found(client, user, text) -> set[str]:
    client.force_login(user)
    response = client.get(reverse("complaints:queue"), {"tab": "all", "q": text})
    return {row.record.number for row in response.context["table"].paginated_rows}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("invoiced", {"invoice"}),  # the description, any case
        ("INVOICED", {"invoice"}),
        ("发票", {"invoice"}),  # Chinese in the description
        ("华东", {"huadong"}),  # the customer's name
        ("C000123", {"damaged", "invoice"}),  # the customer's code
        ("huadong.example", {"huadong"}),  # the customer's email
        ("harbor", {"damaged", "invoice"}),
        ("zqxwv", set()),
    ],
)
def test_what_the_queue_finds(client, service_user, book, text, expected):
    assert found(client, service_user, text) == {book[key].number for key in expected}


def test_a_number_by_its_start_any_case(client, service_user, book):
    number = book["huadong"].number  # CP0000003 or so
    assert found(client, service_user, number) == {number}
    assert found(client, service_user, number.lower()) == {number}
    assert found(client, service_user, number[:-1]) >= {number}
    assert found(client, service_user, number[2:]) == set()  # the middle of a number is not its start


def test_the_top_bar_finds_the_same_complaints_by_their_own_text(client, service_user, book):
    for text in ("invoiced", "发票", book["damaged"].number):
        by_search = {c.number for c in complaint_search(user=service_user, text=text)}
        assert by_search == found(client, service_user, text)


def test_each_half_is_read_on_its_own_table(client, service_user, book):
    client.force_login(service_user)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("complaints:queue"), {"tab": "all", "q": "harbor"})
    searched = [q["sql"] for q in queries.captured_queries if "UNION" in q["sql"]]
    assert searched, "the search reads its two halves as a UNION"
    for sql in searched:
        before_union = sql.split("UNION")[0]
        assert "crm_customer" not in before_union.split(" IN (", 1)[1]  # the complaint's own half joins no customer
