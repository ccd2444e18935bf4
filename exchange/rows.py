"""A file's rows as values: its header matched to a kind's columns, each row's cells parsed.

Shared by both roads of an import (services.py, the ORM one; orders_pg.py, PostgreSQL's COPY one),
which is why it is a module of its own: each road imports it, neither imports the other's caller.
"""

from .columns import KindSpec
from .readers import text_of
from .report import CellError, ImportFileError, ImportReport, RowProblem


def header_columns(spec: KindSpec, header: list[str]) -> list:
    """The spec's Column for each header cell, or ImportFileError naming what is wrong."""
    by_name = {column.name: column for column in spec.columns}
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        raise ImportFileError("repeated_columns", columns=", ".join(repeated))
    missing = [name for name in spec.required if name not in header]
    if missing:
        raise ImportFileError("missing_columns", columns=", ".join(missing))
    unknown = [name or "" for name in header if name not in by_name]
    if unknown:
        raise ImportFileError("unknown_columns", columns=unknown, allowed=", ".join(spec.names))
    return [by_name[name] for name in header]


def parse_row(line: int, cells: list, columns: list, report: ImportReport | None) -> dict:
    """The row's parsed values by column name; cells that fail are reported and left out.

    Parsers get text already stripped (CSV) or the typed cell (XLSX)."""
    row = {}
    width = len(cells)
    if width > len(columns) and report is not None and any(text_of(cell) for cell in cells[len(columns) :]):
        shown = ",".join(text_of(cell) for cell in cells[len(columns) :])
        report.add(RowProblem(line, "", shown, "extra_cells", {"cells": width, "columns": len(columns)}))
    for index, column in enumerate(columns):
        cell = cells[index] if index < width else None
        if type(cell) is str:
            cell = cell.strip()
            if not cell:
                cell = None
        if cell is None:
            if column.required:
                if report is not None:
                    report.add(RowProblem(line=line, column=column.name, value="", reason="missing"))
                continue
            row[column.name] = column.blank
            continue
        try:
            row[column.name] = column.parse(cell)
        except CellError as error:
            if report is not None:
                report.add(RowProblem(line, column.name, text_of(cell), error.reason, error.params))
    return row
