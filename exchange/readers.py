"""Reading CSV and XLSX files row by row, never the whole file at once, within limits.

CSV encodings: UTF-8 (with or without BOM) or GB18030 (a superset of GBK and GB2312). One
streamed pass over the whole file looks for NUL bytes and checks it is UTF-8; anything that is
not valid UTF-8 is read as GB18030 (which Chinese Excel writes).

Limits (settings, from the environment): rows, columns, characters in one value, and for XLSX
the unpacked size and the packing ratio of the workbook's parts, read from the zip's central
directory before anything is unpacked, so a small file that unpacks to gigabytes is refused at
once. Rows are counted and widths checked while streaming; every breach is an ImportFileError
that names the line, never an exception of the csv module or openpyxl.
"""

import codecs
import csv
import io
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from openpyxl import load_workbook

from .report import ImportFileError

CSV_SUFFIXES = {".csv", ".txt", ""}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
ZIP_MAGIC = b"PK\x03\x04"
CHUNK = 1 << 20
SNIFF_CHARS = 64 * 1024  # of the first line, to guess the delimiter
XLSX_MAX_PARTS = 10_000
XLSX_RATIO_FROM = 1 << 20  # parts smaller than this may be packed as tightly as they like


@dataclass(frozen=True)
class Limits:
    rows: int
    columns: int
    field_chars: int
    xlsx_unpacked_bytes: int
    xlsx_ratio: int

    @classmethod
    def from_settings(cls) -> "Limits":
        return cls(
            rows=settings.IMPORT_MAX_ROWS,
            columns=settings.IMPORT_MAX_COLUMNS,
            field_chars=settings.IMPORT_MAX_FIELD_CHARS,
            xlsx_unpacked_bytes=settings.IMPORT_MAX_XLSX_UNPACKED_BYTES,
            xlsx_ratio=settings.IMPORT_MAX_XLSX_RATIO,
        )


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


def _scan(path: str) -> tuple[int | None, bool]:
    """One streamed pass: the line of the first NUL byte (None when there is none), and whether
    the whole file is UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    utf8, lines = True, 0
    with open(path, "rb") as raw:
        while chunk := raw.read(CHUNK):
            nul = chunk.find(b"\x00")
            if nul >= 0:
                return lines + chunk.count(b"\n", 0, nul) + 1, False
            lines += chunk.count(b"\n")
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    return None, utf8


def detect_encoding(path: str) -> str:
    nul_line, utf8 = _scan(path)
    if nul_line is not None:
        raise ImportFileError("nul_bytes", line=nul_line)
    with open(path, "rb") as raw:
        head = raw.read(4)
    if utf8:
        return "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    if not head.startswith(codecs.BOM_UTF8) and _decodes_as(path, "gb18030"):
        return "gb18030"
    raise ImportFileError("not_text")


def text_of(value) -> str:
    """A cell as the text a person typed: 1001.0 from Excel is 1001, None is empty."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def check_workbook_size(path: str, name: str, limits: Limits) -> None:
    """Refuses a workbook whose parts unpack to more than the limit, or any large part packed
    more tightly than real sheets are (a zip bomb), from the central directory alone."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ImportFileError("bad_xlsx", name=name) from error
    if len(parts) > XLSX_MAX_PARTS:
        raise ImportFileError("bad_xlsx", name=name)
    unpacked = sum(part.file_size for part in parts)
    if unpacked > limits.xlsx_unpacked_bytes:
        raise ImportFileError("xlsx_too_big_unpacked", size=unpacked, limit=limits.xlsx_unpacked_bytes)
    for part in parts:
        if part.file_size >= XLSX_RATIO_FROM and part.file_size > limits.xlsx_ratio * max(part.compress_size, 1):
            ratio = part.file_size // max(part.compress_size, 1)
            raise ImportFileError("xlsx_too_compressed", ratio=ratio, limit=limits.xlsx_ratio)


@dataclass
class RowSource:
    """Rows of one file: `header` (normalised column names) and `rows()` yielding (line, cells).

    The first `rows()` goes on from where `open_source` read the header (one pass over the file
    for the header and the check); later calls read the file again. `close()` when done.
    """

    path: str
    name: str
    file_format: str = ""
    encoding: str = ""
    header: list[str] = field(default_factory=list)
    size: int = 0
    limits: Limits | None = None
    _kept: Iterator | None = field(default=None, repr=False)

    def fraction_read(self) -> float:  # overwritten per format while reading
        return 0.0

    def _lines(self) -> Iterator[tuple[int, list]]:
        """Every row of the file, header included, as (line, cells)."""
        if self.file_format == "xlsx":
            return self._xlsx_lines()
        return self._csv_lines()

    def read_header(self) -> list:
        lines = self._lines()
        first = next(lines, None)
        self.close()
        self._kept = lines
        return [] if first is None else first[1]

    def rows(self) -> Iterator[tuple[int, list]]:
        """The data rows (blank ones skipped), counted and checked against the limits as they stream."""
        lines, self._kept = self._kept, None
        if lines is None:
            lines = self._lines()
            next(lines, None)  # the header
        limits, xlsx, count = self.limits, self.file_format == "xlsx", 0
        try:
            for line, cells in lines:
                if xlsx:
                    if all(cell is None or (type(cell) is str and not cell.strip()) for cell in cells):
                        continue
                    self._check_xlsx_cells(line, cells)
                elif not any(cell.strip() for cell in cells):
                    continue
                if len(cells) > limits.columns:
                    if any(text_of(cell) for cell in cells[limits.columns :]):
                        raise ImportFileError("too_many_columns", line=line, limit=limits.columns)
                    cells = cells[: limits.columns]
                count += 1
                if count > limits.rows:
                    raise ImportFileError("too_many_rows", limit=limits.rows)
                yield line, cells
        finally:
            lines.close()

    def close(self) -> None:
        if self._kept is not None:
            self._kept.close()
            self._kept = None

    # CSV
    def _csv_lines(self):
        raw = open(self.path, "rb")  # noqa: SIM115 - closed in the finally below
        text = io.TextIOWrapper(raw, encoding=self.encoding, newline="")
        self.fraction_read = lambda: raw.tell() / self.size if self.size else 1.0
        try:
            delimiter = _delimiter(text.readline(SNIFF_CHARS))
            text.seek(0)
            # Process-wide in the csv module; every reader here sets it before reading.
            csv.field_size_limit(self.limits.field_chars)
            reader = csv.reader(text, delimiter=delimiter)
            line = 0
            while True:
                start = line + 1
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as error:
                    code = "field_too_long" if "field larger than field limit" in str(error) else "bad_csv"
                    raise ImportFileError(code, line=start, limit=self.limits.field_chars) from error
                line = reader.line_num
                yield start, cells
        finally:
            text.close()

    # XLSX
    def _xlsx_lines(self):
        try:
            workbook = load_workbook(self.path, read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many kinds for a broken workbook
            raise ImportFileError("bad_xlsx", name=self.name) from error
        try:
            if not workbook.worksheets:
                raise ImportFileError("bad_xlsx", name=self.name)
            sheet = workbook.worksheets[0]
            total = sheet.max_row or 0
            line = 0
            self.fraction_read = lambda: line / total if total else 0.0
            # Each row as wide as its last cell, not padded to the width the sheet declares
            # (which may be thousands of columns): a row too wide is one that has a cell too far.
            sheet.reset_dimensions()
            cells_by_row = sheet.iter_rows(values_only=True)
            while True:
                try:
                    cells = next(cells_by_row)
                except StopIteration:
                    return
                except Exception as error:  # a part of the sheet that cannot be parsed
                    raise ImportFileError("bad_xlsx", name=self.name) from error
                line += 1
                yield line, list(cells)
        finally:
            workbook.close()

    def _check_xlsx_cells(self, line: int, cells: list) -> None:
        for cell in cells:
            if type(cell) is str:
                if "\x00" in cell:
                    raise ImportFileError("nul_bytes", line=line)
                if len(cell) > self.limits.field_chars:
                    raise ImportFileError("field_too_long", line=line, limit=self.limits.field_chars)


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _header_names(source: RowSource) -> list[str]:
    cells = source.read_header()
    if source.file_format == "xlsx":
        source._check_xlsx_cells(1, cells)
    cells = [text_of(cell) for cell in cells]
    while cells and not cells[-1].strip():
        cells.pop()
    if len(cells) > source.limits.columns:
        raise ImportFileError("too_many_columns", line=1, limit=source.limits.columns)
    return [cell.strip().lower() for cell in cells]


def open_source(path: str, name: str | None = None, limits: Limits | None = None) -> RowSource:
    """Checks the file is CSV or XLSX within the limits, finds its encoding and reads its header line.

    Raises ImportFileError: not found, not CSV or XLSX, empty, not text, NUL bytes, unreadable or
    oversized workbook, too many columns. The caller closes the source.
    """
    name = name or os.path.basename(path)
    if not os.path.isfile(path):
        raise ImportFileError("not_found", name=name)
    size = os.path.getsize(path)
    suffix = os.path.splitext(name)[1].lower()
    with open(path, "rb") as raw:
        head = raw.read(8192)
    source = RowSource(path=path, name=name, size=size, limits=limits or Limits.from_settings())
    if suffix in XLSX_SUFFIXES or (suffix == "" and head.startswith(ZIP_MAGIC)):
        if size == 0:
            raise ImportFileError("empty")
        if not head.startswith(ZIP_MAGIC) or not zipfile.is_zipfile(path):
            raise ImportFileError("bad_xlsx", name=name)
        check_workbook_size(path, name, source.limits)
        source.file_format = "xlsx"
    elif suffix in CSV_SUFFIXES:
        if head.startswith(ZIP_MAGIC) or b"\x00" in head:
            raise ImportFileError("not_tabular", name=name)
        if not head.replace(codecs.BOM_UTF8, b"").strip():
            raise ImportFileError("empty")
        source.file_format = "csv"
        source.encoding = detect_encoding(path)
    else:
        raise ImportFileError("not_tabular", name=name)
    try:
        source.header = _header_names(source)
        if not any(source.header):
            raise ImportFileError("empty")
    except BaseException:
        source.close()
        raise
    return source
