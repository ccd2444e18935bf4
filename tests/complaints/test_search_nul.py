"""A NUL character in a search box or a GET filter is refused with a clear message (issue 15.8),
never a 500: PostgreSQL cannot compare text holding NUL, so it must not reach a query. Every
search box cleans its text with a form CharField, whose validator refuses NUL: django-filter's
CharFilter (the customer list, the complaint queue) and the customer lookup's form.
This module runs on SQLite in `make test` and on PostgreSQL in CI's second run."""

import pytest
from django.urls import reverse

from tests.factories import CustomerFactory, make_complaint

pytestmark = pytest.mark.django_db

NUL = "Null characters are not allowed."


@pytest.fixture
def data(service_user):
    customer = CustomerFactory(code="C900001", name="Acme Trading")
    make_complaint(customer=customer, assignee=service_user)
    return customer


@pytest.mark.parametrize("text", ["\x00", "Acme\x00", "\x00C9"])
def test_the_customer_lookup_refuses_nul(client, service_user, data, text):
    client.raise_request_exception = False
    client.force_login(service_user)
    response = client.get(reverse("complaints:customer_lookup"), {"q": text})
    assert response.status_code == 400
    payload = response.json()
    assert payload["results"] == [] and payload["errors"]["q"][0]["message"] == NUL


def test_the_customer_lookup_still_finds(client, service_user, data):
    client.force_login(service_user)
    response = client.get(reverse("complaints:customer_lookup"), {"q": "acme"})
    assert response.json() == {"results": [{"code": "C900001", "label": "C900001 Acme Trading"}]}
    assert client.get(reverse("complaints:customer_lookup"), {"q": " "}).json() == {"results": []}


def test_the_complaint_queue_search_refuses_nul(client, service_user, data):
    client.raise_request_exception = False
    client.force_login(service_user)
    response = client.get(reverse("complaints:queue"), {"tab": "all", "q": "Acme\x00"})
    assert response.status_code == 200
    assert list(response.context["table"].paginated_rows) == []
    assert NUL in response.content.decode()
    exported = client.get(reverse("complaints:export", args=["csv"]), {"tab": "all", "q": "\x00"})
    assert exported.status_code == 302  # back to the queue with "The filters are not valid"
    assert (
        len(client.get(reverse("complaints:queue"), {"tab": "all", "q": "Acme"}).context["table"].paginated_rows) == 1
    )


def test_the_customer_list_search_refuses_nul(client, sales_user, data):
    client.raise_request_exception = False
    client.force_login(sales_user)
    response = client.get(reverse("crm:customer_list"), {"q": "\x00"})
    assert response.status_code == 200
    assert list(response.context["table"].paginated_rows) == []
    assert NUL in response.content.decode()
    found = client.get(reverse("crm:customer_list"), {"q": "Acme"}).context["table"].paginated_rows
    assert [row.record.code for row in found] == ["C900001"]
