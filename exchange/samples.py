"""Downloadable templates: each kind's header and one example row, as CSV or XLSX."""

from crm.exports import csv_stream, xlsx_bytes

from .columns import KINDS


def template_rows(kind: str) -> tuple[list[str], list[str]]:
    spec = KINDS[kind]
    return spec.names, [spec.example[name] for name in spec.names]


def template_csv(kind: str) -> bytes:
    """UTF-8 with a BOM, so Excel opens the Chinese example intact."""
    header, example = template_rows(kind)
    return "".join(csv_stream(header, [example])).encode("utf-8")


def template_xlsx(kind: str) -> bytes:
    header, example = template_rows(kind)
    # The example as text: dates stay YYYY-MM-DD, codes keep their leading zeros.
    return xlsx_bytes(header, [example], sheet_name=kind)
