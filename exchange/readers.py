"""Reading CSV and XLSX files row by row, never the whole file at once.

CSV encodings: UTF-8 (with or without BOM) or GB18030 (a superset of GBK and GB2312). A file
with a UTF-8 BOM is UTF-8; otherwise the whole file is checked as UTF-8 in one streamed pass,
and anything that is not valid UTF-8 is read as GB18030 (which Chinese Excel writes).
"""
import codecs
import csv
import io
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from .report import ImportFileError

CSV_SUFFIXES = {".csv", ".txt", ""}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
ZIP_MAGIC = b"PK\x03\x04"
CHUNK = 1 << 20


def _decodes_as(path: str, encoding: str) -> bool:
    """Whether the whole file is valid in `encoding`, read in chunks (never the whole file at once)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    with open(path, "rb") as raw:
        try:
            while chunk := raw.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def detect_encoding(path: str) -> str:
    with open(path, "rb") as raw:
        head = raw.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if _decodes_as(path, "utf-8"):
        return "utf-8"
    if _decodes_as(path, "gb18030"):
        return "gb18030"
    raise ImportFileError("not_text")


def text_of(value) -> str:
    """A cell as the text a person typed: 1001.0 from Excel is 1001, None is empty."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass
class RowSource:
    """Rows of one file: `header` (normalised column names) and `rows()` yielding (line, cells)."""

    path: str
    name: str
    file_format: str = ""
    encoding: str = ""
    header: list[str] = field(default_factory=list)
    size: int = 0

    def fraction_read(self) -> float:  # overwritten per format while reading
        return 0.0

    def rows(self) -> Iterator[tuple[int, list]]:
        if self.file_format == "xlsx":
            yield from self._xlsx_rows()
        else:
            yield from self._csv_rows()

    # CSV
    def _open_csv(self):
        raw = open(self.path, "rb")  # noqa: SIM115 - closed by the caller's generator
        text = io.TextIOWrapper(raw, encoding=self.encoding, newline="")
        return raw, text

    def _csv_rows(self):
        raw, text = self._open_csv()
        self.fraction_read = lambda: raw.tell() / self.size if self.size else 1.0
        try:
            first = text.readline()
            delimiter = _delimiter(first)
            text.seek(0)
            reader = csv.reader(text, delimiter=delimiter)
            next(reader, None)  # header
            line = reader.line_num
            for cells in reader:
                start, line = line + 1, reader.line_num
                if not any(cell.strip() for cell in cells):
                    continue
                yield start, cells
        finally:
            text.close()

    # XLSX
    def _xlsx_rows(self):
        from openpyxl import load_workbook

        workbook = load_workbook(self.path, read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            total = sheet.max_row or 0
            line = 0
            self.fraction_read = lambda: line / total if total else 0.0
            for line, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
                if line == 1:
                    continue
                if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells):
                    continue
                yield line, list(cells)
        finally:
            workbook.close()


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _header_cells(source: RowSource) -> list[str]:
    if source.file_format == "xlsx":
        from openpyxl import load_workbook

        workbook = load_workbook(source.path, read_only=True, data_only=True)
        try:
            first = next(workbook.worksheets[0].iter_rows(max_row=1, values_only=True), None)
        finally:
            workbook.close()
        cells = [text_of(cell) for cell in (first or ())]
    else:
        raw, text = source._open_csv()
        try:
            first = text.readline()
            cells = next(csv.reader([first], delimiter=_delimiter(first)), [])
        finally:
            text.close()
    while cells and not cells[-1].strip():
        cells.pop()
    return [cell.strip().lower() for cell in cells]


def open_source(path: str, name: str | None = None) -> RowSource:
    """Checks the file is CSV or XLSX, finds its encoding and reads its header line.

    Raises ImportFileError: not found, not CSV or XLSX, empty, not text, unreadable workbook.
    """
    name = name or os.path.basename(path)
    if not os.path.isfile(path):
        raise ImportFileError("not_found", name=name)
    size = os.path.getsize(path)
    suffix = os.path.splitext(name)[1].lower()
    with open(path, "rb") as raw:
        head = raw.read(8192)
    source = RowSource(path=path, name=name, size=size)
    if suffix in XLSX_SUFFIXES or (suffix == "" and head.startswith(ZIP_MAGIC)):
        if size == 0:
            raise ImportFileError("empty")
        if not head.startswith(ZIP_MAGIC) or not zipfile.is_zipfile(path):
            raise ImportFileError("bad_xlsx", name=name)
        source.file_format = "xlsx"
        try:
            source.header = _header_cells(source)
        except Exception as error:  # openpyxl raises many kinds for a broken workbook
            raise ImportFileError("bad_xlsx", name=name) from error
    elif suffix in CSV_SUFFIXES:
        if head.startswith(ZIP_MAGIC) or b"\x00" in head:
            raise ImportFileError("not_tabular", name=name)
        if not head.replace(codecs.BOM_UTF8, b"").strip():
            raise ImportFileError("empty")
        source.file_format = "csv"
        source.encoding = detect_encoding(path)
        source.header = _header_cells(source)
    else:
        raise ImportFileError("not_tabular", name=name)
    if not any(source.header):
        raise ImportFileError("empty")
    return source
