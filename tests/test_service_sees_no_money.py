"""Acceptance 14.5: no page, export, JSON or CSV a service rep can reach carries a money figure.

Every GET URL of the app (tests/pages.py, enumerated from the URL conf) is requested as a service
rep, in English and in Chinese, and its body searched for the data set's distinctive money figures
in every format a page could write them: HTML, CSV and JSON as text, XLSX cell by cell."""

import io
from decimal import Decimal, InvalidOperation

import pytest
from django.urls import path, reverse
from openpyxl import load_workbook

from config.urls import urlpatterns as app_urlpatterns
from crm.models import Customer, Invoice, Order
from crm.roles import can_see_money, money_field_names
from tests import pages

pytestmark = pytest.mark.django_db

LANGUAGES = ("en", "zh-hans")


@pytest.fixture
def data():
    return pages.build_dataset()


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def xlsx_money(content: bytes) -> list[str]:
    """Money figures in any cell: text cells as text, number cells by value (to the cent or whole)."""
    found = []
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    figures = {amount.quantize(Decimal("0.01")) for amount in pages.MONEY_FIGURES}
    wholes = {int(amount) for amount in pages.MONEY_FIGURES}
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                if isinstance(value, str):
                    found += pages.money_in(value)
                elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
                    try:
                        number = Decimal(str(value))
                    except InvalidOperation:
                        continue
                    if number.quantize(Decimal("0.01")) in figures or number in wholes:
                        found.append(str(value))
    return found


def money_found(page: pages.Page, response) -> list[str]:
    content = body_of(response)
    if page.kind == pages.XLSX and response.status_code == 200:
        return xlsx_money(content)
    text = content.decode("utf-8", errors="replace")
    return pages.money_in(text) + pages.money_in_typed_arrays(text)


def test_the_money_figures_are_found_where_money_is_shown(client, data):
    """The detector itself: an executive's pages carry the figures in the formats searched for."""
    client.force_login(data.executive)
    detail = client.get(reverse("crm:customer_detail", args=[data.customer.pk]))
    assert "158,000.00" in pages.money_in(detail.content.decode())
    assert "4,381,906.37" in pages.money_in(detail.content.decode())  # the invoice
    assert "27,130,141.25" in pages.money_in(detail.content.decode())  # the order
    export = client.get(reverse("crm:customer_export", args=["xlsx"]))
    assert "158000.00" in xlsx_money(export.content)
    report = client.get(reverse("analytics:report_customer", args=[data.customer.pk]))
    assert "27130141.25" in pages.money_in(report.content.decode())
    # a chart's numbers travel as base64 typed arrays, which a text search cannot see
    points = client.get(reverse("analytics:report_profit_volume")).content.decode()
    assert pages.money_in_typed_arrays(points, [pages.ORDER_REVENUE])


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_service_rep_sees_no_money_anywhere(client, data, language):
    # given a service rep, on every page of the app
    client.force_login(data.service)
    leaks, wrong_status, reached = [], [], 0
    for page in pages.pages_for(data.service, data):
        # when the page is read
        response = client.get(page.url, HTTP_ACCEPT_LANGUAGE=language)
        # then it answers as the role should, and carries no money figure in any format
        if response.status_code != page.status:
            wrong_status.append(f"{page}: got {response.status_code}")
        found = money_found(page, response)
        if found:
            leaks.append(f"{page}: {found}")
        reached += response.status_code == 200
    assert not leaks, "money shown to a service rep:\n" + "\n".join(leaks)
    assert not wrong_status, "\n".join(wrong_status)
    assert reached >= 20  # the rep reached the customer pages, the complaints and their exports: not a wall of 403s


def test_the_customer_export_leaves_out_money_for_a_role_without_it(rf, data):
    """The export's columns come from the same check as the pages: no credit limit without money."""
    from crm.exports import customer_export_headers, customer_export_rows

    rows = list(customer_export_rows(Customer.objects.filter(pk=data.customer.pk), money=False, with_figures=True))
    headers = customer_export_headers(money=False, with_figures=True)
    assert "credit_limit" not in headers and "revenue" not in headers and "profit" not in headers
    assert len(rows[0]) == len(headers)
    assert not pages.money_in(" ".join(map(str, rows[0])))
    with_money = customer_export_headers(money=True, with_figures=True)
    assert {"credit_limit", "revenue", "profit"} <= set(with_money)


def test_the_change_history_hides_a_money_change_from_service_but_says_who_changed_it(client, data):
    # The record's changes are on the customer's timeline (issue 19), its "change" kind.
    changes = reverse("crm:customer_timeline", args=[data.customer.pk]) + "?kind=change"
    client.force_login(data.service)
    page = client.get(changes).content.decode()
    assert "158" not in page.split('id="timeline"')[1]
    assert data.sales.get_username() in page.split('id="timeline"')[1]  # the change (by its author) still shows
    client.force_login(data.sales)
    page = client.get(changes).content.decode()
    assert pages.money_in(page.split('id="timeline"')[1], [pages.CREDIT_LIMIT])


def test_money_columns_are_the_models_money_fields():
    assert money_field_names(Customer) == {"credit_limit"}
    assert money_field_names(Order) == {"revenue", "cost", "service_cost"}
    assert money_field_names(Invoice) == {"amount"}


def test_roles_and_money(data):
    assert not can_see_money(data.service)
    assert all(can_see_money(user) for user in (data.sales, data.executive, data.admin))


# tests/pages.py fails loudly on a page it cannot fill ---------------------------------------------


def a_new_page(request):  # pragma: no cover - never requested
    raise AssertionError


urlpatterns = app_urlpatterns + [path("brand-new/<int:pk>/", a_new_page, name="brand_new")]


def test_a_page_missing_from_the_catalogue_fails_loudly(settings, data):
    settings.ROOT_URLCONF = __name__
    with pytest.raises(pages.UnknownPage, match="brand_new"):
        pages.pages_for(data.service, data)


def test_every_role_gets_the_status_the_catalogue_says(client, data):
    """tests/pages.py's table is what the app does, for every role (admin pages included)."""
    wrong = []
    for role, user in data.users().items():
        client.force_login(user)
        for page in pages.pages_for(user, data, include_admin=True):
            status = client.get(page.url).status_code
            if status != page.status:
                wrong.append(f"{role} {page}: got {status}")
    assert not wrong, "\n".join(wrong)
