"""Customer list exports: exactly the filtered rows, safe to open in Excel."""

import csv
import datetime
import io
from collections.abc import Iterable, Iterator

from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse
from django_tables2 import RequestConfig
from openpyxl import Workbook

from .extensions import CustomerFigures, registered_figures
from .models import Customer
from .roles import money_field_names

# The same columns as the customers import file (DESIGN section 7), so an export re-imports.
CUSTOMER_EXPORT_HEADERS = [
    "code",
    "name",
    "kind",
    "industry",
    "region",
    "owner",
    "status",
    "since",
    "churned_on",
    "churn_reason",
    "credit_terms",
    "credit_limit",
    "strategic",
    "growth_potential",
    "value_orientation",
    "referred_by",
    "email",
    "phone",
]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_BOM = "\ufeff"  # Excel reads a CSV as UTF-8 only with it; Chinese stays intact.


def neutralise_formula(value):
    """A text cell starting with = + - @ (or tab/CR) could run as a formula: prefix it with '."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _money_free(money: bool) -> list[int]:
    """The positions of the customer columns a role sees: all of them with money (crm.roles.can_see_money),
    else all but the customer's money fields (the credit limit)."""
    hidden = frozenset() if money else money_field_names(Customer)
    return [i for i, name in enumerate(CUSTOMER_EXPORT_HEADERS) if name not in hidden]


def _figures(*, money: bool, with_figures: bool) -> type[CustomerFigures] | None:
    """The figures an app registered for the list (crm.extensions; analytics: the published run's), if exported."""
    return registered_figures() if with_figures and money else None


def customer_export_headers(*, money: bool, with_figures: bool) -> list[str]:
    """The export's columns: without money, no credit limit and none of the figures (the published run's)."""
    headers = [CUSTOMER_EXPORT_HEADERS[i] for i in _money_free(money)]
    figures = _figures(money=money, with_figures=with_figures)
    return headers + (list(figures.export_headers) if figures else [])


def customer_export_rows(queryset, *, money: bool, with_figures: bool = False) -> Iterator[list]:
    """One list per customer, in the queryset's order, values as the import file expects them,
    under the columns customer_export_headers gives for the same arguments (with the figures, `queryset`
    carries them: crm.selectors.customer_list)."""
    keep = _money_free(money)
    figures = _figures(money=money, with_figures=with_figures)
    rows = queryset.select_related("owner", "region", "industry", "referred_by").only(
        *[f for f in CUSTOMER_EXPORT_HEADERS if f not in {"owner", "region", "industry", "referred_by"}],
        "owner__username",
        "region__name",
        "industry__name",
        "referred_by__code",
    )
    for customer in rows.iterator(chunk_size=2000):
        row = _customer_row(customer)
        yield [row[i] for i in keep] + (figures.export_values(customer) if figures else [])


def _customer_row(customer) -> list:
    return [
        customer.code,
        customer.name,
        customer.kind,
        customer.industry.name if customer.industry else "",
        customer.region.name if customer.region else "",
        customer.owner.username if customer.owner else "",
        customer.status,
        customer.since.isoformat() if customer.since else "",
        customer.churned_on.isoformat() if customer.churned_on else "",
        customer.churn_reason,
        customer.credit_terms,
        f"{customer.credit_limit:.2f}",
        "yes" if customer.strategic else "no",
        customer.growth_potential,
        customer.value_orientation,
        customer.referred_by.code if customer.referred_by else "",
        customer.email,
        customer.phone,
    ]


class _Echo:
    def write(self, value):
        return value


def csv_stream(headers: list[str], rows: Iterable[list]) -> Iterator[str]:
    """CSV text with a BOM, streamed row by row so 100,000 rows never sit in memory at once."""
    writer = csv.writer(_Echo())
    yield CSV_BOM + writer.writerow(headers)
    for row in rows:
        yield writer.writerow([neutralise_formula(value) for value in row])


def xlsx_bytes(headers: list[str], rows: Iterable[list], *, sheet_name: str) -> bytes:
    """An XLSX workbook written in openpyxl's streaming (write-only) mode; formulas neutralised."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name)
    sheet.append(headers)
    for row in rows:
        sheet.append([neutralise_formula(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def filtered_sorted(request, *, filterset_class, table_class, queryset):
    """The rows a list page shows for this request (its filters and sort), unpaginated; None if the filters are invalid."""
    filterset = filterset_class(request.GET, queryset=queryset, request=request)
    if not filterset.is_valid():
        return None
    table = table_class(filterset.qs)
    RequestConfig(request, paginate=False).configure(table)
    return table.data.data


def export_response(fmt: str, headers: list[str], rows: Iterable[list], *, name: str) -> HttpResponseBase:
    """The download response for `fmt` (csv or xlsx), named `<name>-<date>.<fmt>`."""
    if fmt == "csv":
        response = StreamingHttpResponse(csv_stream(headers, rows), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            xlsx_bytes(headers, rows, sheet_name=name),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{name}-{datetime.date.today().isoformat()}.{fmt}"'
    return response
