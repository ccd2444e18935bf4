"""Exports hold exactly the filtered rows, keep Chinese intact and cannot run formulas."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from crm.exports import CUSTOMER_EXPORT_HEADERS, neutralise_formula
from tests.factories import CustomerFactory, RegionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers(sales_user):
    east = RegionFactory(name="华东 East China")
    north = RegionFactory(name="华北 North China")
    rows = [
        CustomerFactory(
            code="C1", name="上海明辉贸易有限公司", region=east, owner=sales_user, phone="+86 21 5555 0101"
        ),
        CustomerFactory(code="C2", name='=HYPERLINK("http://x","click")', region=east),
        CustomerFactory(code="C3", name="@SUM(A1:A9)", region=north),
        CustomerFactory(code="C4", name="-2+3", region=east, email="buyer@example.com"),
        CustomerFactory(code="C5", name="北京远航物流", region=north),
    ]
    return {"east": east, "north": north, "rows": rows}


def read_csv(response):
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode()), "Excel needs the UTF-8 BOM to read Chinese"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def read_xlsx(response):
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    return [["" if value is None else str(value) for value in row] for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("reader, fmt", [(read_csv, "csv"), (read_xlsx, "xlsx")])
def test_export_holds_exactly_the_filtered_rows_in_table_order(client, executive_user, customers, reader, fmt):
    client.force_login(executive_user)
    response = client.get(reverse("crm:customer_export", args=[fmt]), {"region": customers["east"].pk, "sort": "-code"})
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith(f'.{fmt}"')
    rows = reader(response)
    assert rows[0] == CUSTOMER_EXPORT_HEADERS
    assert [row[0] for row in rows[1:]] == ["C4", "C2", "C1"]


@pytest.mark.parametrize("reader, fmt", [(read_csv, "csv"), (read_xlsx, "xlsx")])
def test_text_search_export_keeps_chinese(client, sales_user, customers, reader, fmt):
    client.force_login(sales_user)
    rows = reader(client.get(reverse("crm:customer_export", args=[fmt]), {"q": "明辉"}))
    assert len(rows) == 2
    record = dict(zip(rows[0], rows[1], strict=False))
    assert record["code"] == "C1"
    assert record["name"] == "上海明辉贸易有限公司"
    assert record["region"] == "华东 East China"
    assert record["owner"] == "sales1"


@pytest.mark.parametrize("reader, fmt", [(read_csv, "csv"), (read_xlsx, "xlsx")])
def test_formula_cells_are_neutralised(client, executive_user, customers, reader, fmt):
    client.force_login(executive_user)
    rows = reader(client.get(reverse("crm:customer_export", args=[fmt]), {"sort": "code"}))
    names = {row[0]: row[1] for row in rows[1:]}
    phones = {row[0]: row[CUSTOMER_EXPORT_HEADERS.index("phone")] for row in rows[1:]}
    assert names["C2"] == '\'=HYPERLINK("http://x","click")'
    assert names["C3"] == "'@SUM(A1:A9)"
    assert names["C4"] == "'-2+3"
    assert phones["C1"] == "'+86 21 5555 0101"
    assert names["C5"] == "北京远航物流"


def test_xlsx_formula_cell_is_stored_as_text_not_formula(client, executive_user, customers):
    client.force_login(executive_user)
    response = client.get(reverse("crm:customer_export", args=["xlsx"]), {"q": "HYPERLINK"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    cell = sheet.cell(row=2, column=2)
    assert cell.data_type == "s"
    assert cell.value.startswith("'=")


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1"])
def test_neutralise_formula_prefixes_dangerous_text(value):
    assert neutralise_formula(value) == "'" + value


@pytest.mark.parametrize("value", ["ACME", "上海", "", 5, None, "a=b"])
def test_neutralise_formula_leaves_safe_values(value):
    assert neutralise_formula(value) == value


def test_unknown_format_is_404(client, executive_user):
    client.force_login(executive_user)
    assert client.get(reverse("crm:customer_export", args=["pdf"])).status_code == 404


def test_invalid_filter_exports_nothing_and_says_why(client, executive_user, customers):
    client.force_login(executive_user)
    response = client.get(reverse("crm:customer_export", args=["csv"]), {"region": "999999"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("crm:customer_list")
    assert "The filters are not valid; nothing was exported." in [str(m) for m in response.context["messages"]]
