"""Downloadable templates: each kind's header and one example row, as CSV or XLSX."""
import csv
import io

from openpyxl import Workbook

from .columns import KINDS


def template_rows(kind: str) -> tuple[list[str], list[str]]:
    spec = KINDS[kind]
    return spec.names, [spec.example[name] for name in spec.names]


def template_csv(kind: str) -> bytes:
    """UTF-8 with a BOM, so Excel opens the Chinese example intact."""
    header, example = template_rows(kind)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerow(example)
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def template_xlsx(kind: str) -> bytes:
    header, example = template_rows(kind)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = kind
    sheet.append(header)
    sheet.append(example)  # as text: dates stay YYYY-MM-DD, codes keep their leading zeros
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
