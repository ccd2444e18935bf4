"""What an import found: the bad rows (line, column, value, reason) or what was written.

Reasons are stored as codes with parameters and turned into words when shown, so a report kept
in the database reads in the language of whoever opens it later.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from complaints.models import State

REASONS = {
    "missing": _("Missing required value."),
    "bad_date": _("Not a date: write YYYY-MM-DD."),
    "bad_datetime": _("Not a date and time: write YYYY-MM-DD HH:MM."),
    "bad_number": _("Not a number: write digits with “.” for decimals, e.g. 1234.50."),
    "too_many_decimals": _("More than two decimal places."),
    "too_large": _("The number is too large."),
    "negative": _("Negative amount: amounts are zero or more."),
    "not_whole": _("Not a whole number."),
    "out_of_range": _("Must be between %(min)s and %(max)s."),
    "unknown_choice": _("Unknown value: use one of %(choices)s."),
    "bad_boolean": _("Not yes or no: use yes/no, true/false or 1/0."),
    "too_long": _("Longer than %(max)s characters."),
    "bad_email": _("Not an email address."),
    "unknown_customer": _("Unknown customer code."),
    "unknown_user": _("Unknown user name."),
    "duplicate_key": _("Duplicate key in the file: the same %(key)s is on line %(line)s."),
    "self_referral": _("A customer cannot refer itself."),
    "extra_cells": _("The row has %(cells)s cells but the header has %(columns)s: is a comma inside a value unquoted?"),
    "churn_needs_date": _("A churned customer needs the date it left."),
    "churn_needs_reason": _("A churned customer needs a churn reason."),
    "churn_only_when_churned": _("Only a churned customer has a churn date or reason."),
    "churned_before_since": _("The churn date cannot be before the customer-since date."),
    "due_before_issued": _("The due date is before the issue date."),
    "complaint_state_not_importable": _(
        "An import creates complaints as new or records them as closed; other states are reached only through "
        "the complaint workflow."
    ),
    "complaint_state_conflict": _(
        "This complaint is already “%(state)s”; an import cannot move it to “%(to)s”. Use the complaint workflow."
    ),
    "ambiguous_value": _("Matches more than one existing value (%(candidates)s): write the one you mean in full."),
}

FILE_PROBLEMS = {
    "unknown_kind": _("Unknown kind “%(kind)s”: use one of %(kinds)s."),
    "not_tabular": _("“%(name)s” is not a CSV or XLSX file."),
    "bad_xlsx": _("“%(name)s” could not be read as an XLSX workbook."),
    "too_big": _("The file is %(size)s bytes; the limit is %(limit)s bytes."),
    "empty": _("The file is empty."),
    "no_rows": _("The file has a header but no rows."),
    "not_text": _("The file is not text in UTF-8 or GB18030/GBK."),
    "missing_columns": _("Wrong header: required columns missing: %(columns)s."),
    "unknown_columns": _("Wrong header: unknown columns: %(columns)s. The columns are: %(allowed)s."),
    "repeated_columns": _("Wrong header: columns given twice: %(columns)s."),
    "not_found": _("No file at “%(name)s”."),
    "nul_bytes": _("The file holds a NUL byte (line %(line)s), so it is not plain text: save it again as CSV or XLSX."),
    "field_too_long": _("Line %(line)s holds a value longer than %(limit)s characters: is a quotation mark left open?"),
    "bad_csv": _("Line %(line)s could not be read as CSV."),
    "too_many_rows": _("The file has more than %(limit)s rows: split it into smaller files."),
    "too_many_columns": _("Line %(line)s has more than %(limit)s columns."),
    "xlsx_too_big_unpacked": _("The workbook unpacks to %(size)s bytes; the limit is %(limit)s bytes."),
    "xlsx_too_compressed": _(
        "The workbook unpacks to %(ratio)s times its size, more than a real workbook does (at most %(limit)s times); "
        "it was not opened."
    ),
    "new_values": _(
        "The file names %(count)s new values, listed below, that were not confirmed: nothing was written. Confirm "
        "them to have them created, or correct the file."
    ),
    "too_many_new_values": _("The file names more than %(limit)s new values for %(column)s: is it the right column?"),
    "file_expired": _("The uploaded file was deleted after %(days)s days, as every upload is: upload it again."),
}

NOTES = {
    "complaint_states": _(
        "Complaint status: new complaints are created through the complaint service in state “new”, with their "
        "SLA due times. A row marked “closed” is recorded as closed with one transition-log entry saying it was "
        "imported; it has no resolution time, so it counts in neither the open backlog nor the SLA figures. "
        "Every other state is reached only through the complaint workflow."
    ),
    "customer_history": _("Every created or changed customer has an entry in its change history."),
    "monthly_totals": _("Monthly order totals were recomputed for %(pairs)s customer-months."),
    "errors_cut": _("Only the first %(shown)s of %(total)s problems are listed."),
    "new_value": _("New %(column)s “%(value)s”: %(rows)s rows, lines %(lines)s."),
}


# Params kept as choice codes (so a kept report reads in its reader's language), shown as labels.
CHOICE_PARAMS = {"state": State, "to": State}
BLANK = _("(blank)")  # a header cell with no name, in a list of columns


def _shown(key: str, value):
    if key in CHOICE_PARAMS:
        return CHOICE_PARAMS[key](value).label
    if isinstance(value, list):  # names kept as a list, joined in the reader's language
        return ", ".join(str(item) if item else str(BLANK) for item in value)
    return value


def describe(table: dict, code: str, params: dict | None = None) -> str:
    text = str(table[code])
    if not params:
        return text
    return text % {key: _shown(key, value) for key, value in params.items()}


@dataclass
class RowProblem:
    line: int
    column: str
    value: str
    reason: str
    params: dict = field(default_factory=dict)

    def message(self) -> str:
        return describe(REASONS, self.reason, self.params)

    def as_dict(self) -> dict:
        return {
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "reason": self.reason,
            "params": self.params,
        }


class CellError(Exception):
    """A value a column cannot take; raised by the column parsers."""

    def __init__(self, reason: str, **params):
        super().__init__(reason)
        self.reason = reason
        self.params = params


class ImportFileError(Exception):
    """The file as a whole cannot be imported (empty, wrong header, too big, not CSV or XLSX...)."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params

    def message(self) -> str:
        return describe(FILE_PROBLEMS, self.code, self.params)


LINES_LISTED = 20  # lines listed for each new value


@dataclass
class NewValue:
    """A value of a lookup column that matches nothing in the database: created only when confirmed."""

    column: str
    value: str  # as first written in the file
    key: str  # lookups.match_key of it: every spelling of it in the file is this one value
    rows: int = 0
    lines: list[int] = field(default_factory=list)

    def add(self, line: int) -> None:
        self.rows += 1
        if len(self.lines) < LINES_LISTED:
            self.lines.append(line)

    def as_dict(self) -> dict:
        return {"column": self.column, "value": self.value, "key": self.key, "rows": self.rows, "lines": self.lines}


def new_value_message(kept: dict) -> str:
    """One new value (kept as NewValue.as_dict) in words: column, value, how many rows, which lines."""
    lines = ", ".join(str(line) for line in kept["lines"]) + (" …" if kept["rows"] > len(kept["lines"]) else "")
    return describe(
        NOTES, "new_value", {"column": kept["column"], "value": kept["value"], "rows": kept["rows"], "lines": lines}
    )


@dataclass
class ImportReport:
    """`created`, `updated` and `unchanged` count rows: new keys, existing keys with a value that
    differs (written), existing keys whose every value in the file is already stored (not written)."""

    kind: str
    dry_run: bool
    file_format: str = ""
    encoding: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    problem_count: int = 0
    file_error: ImportFileError | None = None
    new_values: list[NewValue] = field(default_factory=list)
    notes: list[tuple[str, dict]] = field(default_factory=list)
    seconds: float = 0.0
    max_listed: int = 1000

    @property
    def ok(self) -> bool:
        return self.file_error is None and self.problem_count == 0

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run

    def add(self, problem: RowProblem) -> None:
        self.problem_count += 1
        if len(self.problems) < self.max_listed:
            self.problems.append(problem)

    def note(self, code: str, **params) -> None:
        self.notes.append((code, params))

    def sorted_problems(self) -> list[RowProblem]:
        return sorted(self.problems, key=lambda p: (p.line, p.column))

    def as_dict(self) -> dict:
        """The kept form (JSON in ImportJob)."""
        return {
            "kind": self.kind,
            "dry_run": self.dry_run,
            "format": self.file_format,
            "encoding": self.encoding,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "ok": self.ok,
            "problem_count": self.problem_count,
            "problems": [p.as_dict() for p in self.sorted_problems()],
            "file_error": None
            if self.file_error is None
            else {"code": self.file_error.code, "params": self.file_error.params},
            "new_values": [value.as_dict() for value in self.new_values],
            "notes": [{"code": code, "params": params} for code, params in self.notes],
            "seconds": round(self.seconds, 2),
        }

    def lines(self) -> list[str]:
        """The report as text lines, for the command line."""
        out = []
        if self.file_error is not None:
            out.append(self.file_error.message())
        for problem in self.sorted_problems():
            out.append(
                str(_("line %(line)s, column %(column)s, value “%(value)s”: %(reason)s"))
                % {"line": problem.line, "column": problem.column, "value": problem.value, "reason": problem.message()}
            )
        if self.problem_count > len(self.problems):
            out.append(describe(NOTES, "errors_cut", {"shown": len(self.problems), "total": self.problem_count}))
        out.extend(new_value_message(value.as_dict()) for value in self.new_values)
        for code, params in self.notes:
            out.append(describe(NOTES, code, params))
        return out


def report_messages(kept: dict) -> dict:
    """The words of a kept report (as_dict) in the current language, for templates."""
    file_error = kept.get("file_error")
    return {
        "file_error": describe(FILE_PROBLEMS, file_error["code"], file_error["params"]) if file_error else "",
        "problems": [{**p, "message": describe(REASONS, p["reason"], p["params"])} for p in kept.get("problems", [])],
        "new_values": [{**value, "message": new_value_message(value)} for value in kept.get("new_values", [])],
        "notes": [describe(NOTES, n["code"], n["params"]) for n in kept.get("notes", [])],
        "cut": kept.get("problem_count", 0) > len(kept.get("problems", [])),
    }
