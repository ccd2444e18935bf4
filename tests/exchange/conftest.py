import pytest
from openpyxl import Workbook


def _text(header: str, rows: list[str]) -> str:
    return "\n".join([header, *rows]) + "\n"


@pytest.fixture
def csv_file(tmp_path):
    """Writes a CSV from a header line and row lines (already comma-joined), in any encoding."""

    def write(header: str, *rows: str, name: str = "data.csv", encoding: str = "utf-8", bom: bool = False):
        path = tmp_path / name
        data = _text(header, list(rows)).encode(encoding)
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
        return str(path)

    return write


@pytest.fixture
def xlsx_file(tmp_path):
    """Writes an XLSX whose first sheet holds the header and the rows (lists of typed cells)."""

    def write(header: list, *rows: list, name: str = "data.xlsx"):
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        path = tmp_path / name
        workbook.save(path)
        return str(path)

    return write
