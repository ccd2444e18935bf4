"""Customer list exports: exactly the filtered rows, safe to open in Excel."""
import csv
import io
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from openpyxl import Workbook

from .models import Customer

# The same columns as the customers import file (DESIGN section 7), so an export re-imports.
CUSTOMER_EXPORT_HEADERS = [
    "code", "name", "kind", "industry", "region", "owner", "status", "since", "churned_on",
    "churn_reason", "credit_terms", "credit_limit", "strategic", "growth_potential",
    "value_orientation", "referred_by", "email", "phone",
]  # fmt: skip

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_BOM = "\ufeff"  # Excel reads a CSV as UTF-8 only with it; Chinese stays intact.


def neutralise_formula(value):
    """A text cell starting with = + - @ (or tab/CR) could run as a formula: prefix it with '."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def customer_export_rows(queryset) -> Iterator[list]:
    """One list per customer, in the queryset's order, values as the import file expects them."""
    rows = queryset.select_related("owner", "region", "industry", "referred_by").only(
        *[f for f in CUSTOMER_EXPORT_HEADERS if f not in {"owner", "region", "industry", "referred_by"}],
        "owner__username", "region__name", "industry__name", "referred_by__code",
    )
    for customer in rows.iterator(chunk_size=2000):
        yield [
            neutralise_formula(value)
            for value in (
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
            )
        ]


class _Echo:
    def write(self, value):
        return value


def customer_csv_stream(queryset) -> Iterable[str]:
    """CSV text, streamed row by row so 100,000 customers never sit in memory at once."""
    writer = csv.writer(_Echo())
    yield CSV_BOM + writer.writerow(CUSTOMER_EXPORT_HEADERS)
    for row in customer_export_rows(queryset):
        yield writer.writerow(row)


def customer_xlsx_bytes(queryset: QuerySet[Customer]) -> bytes:
    """An XLSX workbook written in openpyxl's streaming (write-only) mode."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("customers")
    sheet.append(CUSTOMER_EXPORT_HEADERS)
    for row in customer_export_rows(queryset):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
