"""One importer per kind: the checks that need more than one cell, and the batched writes.

The engine (services.py) parses each row's cells with the column parsers and hands the importer
a dict holding only the columns that parsed (absent columns are not in it). The importer checks
what spans cells or needs the database (customer codes, users, states), and later writes
validated rows in batches. On update, only the columns present in the file's header change.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Max
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from analytics.services.runs import published_run, run_add_prospects
from analytics.totals import month_start, monthly_totals_rebuild_pairs
from complaints.models import Complaint, State
from complaints.services import complaint_create, complaint_update
from complaints.workflow import complaint_transition
from crm.models import Customer, Industry, Invoice, Order, Region, Survey

from .columns import COMPLAINT_STATUSES, COMPLAINTS, CUSTOMERS, INVOICES, ORDERS, SURVEYS, KindSpec, parse_choice
from .lookups import Lookup, Match, match_key
from .report import CellError, ImportFileError, ImportReport, NewValue, RowProblem

LOOKUP_CHUNK = 2000
NEW = object()  # a lookup value that matches nothing yet

# Stored in the complaint's transition log and history as data, in English like other stored notes.
IMPORTED_CLOSED_NOTE = "Imported as closed from “{name}”; its earlier history is in the source system."
IMPORTED_NO_DESCRIPTION = "Imported without a description."


def chunked(items: list, size: int = LOOKUP_CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class Batch:
    """A batch of checked rows sorted out: records to create, existing records changed in memory
    (to be written), and how many existing records already hold every value of their row."""

    create: list = field(default_factory=list)
    update: list = field(default_factory=list)
    unchanged: int = 0


def apply_values(obj, values: dict) -> bool:
    """Sets `values` on `obj` and says whether any of them differs from what it held."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


class Importer:
    spec: KindSpec
    key_columns: tuple[str, ...] = ()
    # file column -> model field, where they differ
    field_names: dict[str, str] = {}

    def __init__(self, *, report: ImportReport, present: set[str], by=None, source_name: str = ""):
        self.report = report
        self.present = present
        self.by = by
        self.source_name = source_name
        self.customer_ids: dict[str, int] = {}

    # checks -------------------------------------------------------------------------------
    def prepare(self) -> None:
        if "customer" in self.spec.names:
            self.customer_ids = dict(Customer.objects.values_list("code", "id"))

    def problem(self, line: int, column: str, value, reason: str, **params) -> None:
        self.report.add(RowProblem(line=line, column=column, value=str(value), reason=reason, params=params))

    def check_row(self, line: int, row: dict) -> None:
        code = row.get("customer")
        if code and code not in self.customer_ids:
            self.problem(line, "customer", code, "unknown_customer")

    def key(self, row: dict) -> tuple | None:
        values = tuple(row.get(column) for column in self.key_columns)
        return None if any(v in (None, "") for v in values) else values

    def finish_checks(self, keys: dict) -> None:
        """After every row was read; `keys` maps each key in the file to its first line."""

    # writes -------------------------------------------------------------------------------
    def fields(self, row: dict) -> tuple[dict, bool]:
        """Model field values for the columns in the row, and whether one of them is only known
        later (a new lookup value in a dry run, a referral to a customer further on)."""
        values = {}
        for column, value in row.items():
            if column == "customer":
                values["customer_id"] = self.customer_ids[value]
            else:
                values[self.field_names.get(column, column)] = value
        return values, False

    def update_fields(self) -> list[str]:
        return [
            "customer_id" if c == "customer" else self.field_names.get(c, c)
            for c in self.spec.names
            if c in self.present and c not in self.key_columns
        ]

    def existing(self, rows: list[tuple[int, dict]]) -> dict:
        """The stored records of the rows' keys, by key."""
        raise NotImplementedError

    def classify(self, rows: list[tuple[int, dict]]) -> Batch:
        batch = Batch()
        existing = self.existing(rows)
        for _line, row in rows:
            values, pending = self.fields(row)
            obj = existing.get(self.key(row))
            if obj is None:
                batch.create.append(self.model(**values))
                continue
            self.before_change(obj)
            if apply_values(obj, values) or pending:
                batch.update.append(obj)
            else:
                batch.unchanged += 1
        return batch

    def count_batch(self, rows: list[tuple[int, dict]]) -> None:
        """A dry run's counts for a batch: what `write_batch` would create, update and leave alone."""
        batch = self.classify(rows)
        self.report.created += len(batch.create)
        self.report.updated += len(batch.update)
        self.report.unchanged += batch.unchanged

    def write_batch(self, rows: list[tuple[int, dict]]) -> None:
        batch = self.classify(rows)
        self.save(batch)
        self.report.created += len(batch.create)
        self.report.updated += len(batch.update)
        self.report.unchanged += batch.unchanged

    def before_change(self, obj) -> None:
        """Called with each existing record before the row's values are applied to it."""

    def save(self, batch: Batch) -> None:
        self.model.objects.bulk_create(batch.create)
        fields = self.update_fields()
        if batch.update and fields:
            self.model.objects.bulk_update(batch.update, fields)

    def finish_write(self) -> None:
        pass


class NumberedImporter(Importer):
    """Orders and invoices: the key is the document number."""

    key_columns = ("number",)
    model = None

    def existing(self, rows):
        numbers = [row["number"] for _line, row in rows]
        return {(obj.number,): obj for obj in self.model.objects.filter(number__in=numbers)}


class OrderImporter(NumberedImporter):
    spec = ORDERS
    model = Order
    field_names = {"error": "entry_error"}

    def prepare(self):
        super().prepare()
        self.months: set[tuple[int, datetime.date]] = set()
        self.moved: dict[int, tuple[int, datetime.date]] = {}

    def before_change(self, obj):
        self.moved[obj.pk] = (obj.customer_id, month_start(obj.ordered_on))  # where it was counted before

    def save(self, batch):
        super().save(batch)
        # The months a written order counted in before, and the ones it counts in now.
        self.months.update(self.moved[obj.pk] for obj in batch.update)
        self.months.update((obj.customer_id, month_start(obj.ordered_on)) for obj in batch.create + batch.update)
        self.moved.clear()

    def count_batch(self, rows):
        super().count_batch(rows)
        self.moved.clear()

    def finish_write(self):
        monthly_totals_rebuild_pairs(pairs=self.months)
        self.report.note("monthly_totals", pairs=len(self.months))


class InvoiceImporter(NumberedImporter):
    spec = INVOICES
    model = Invoice

    def check_row(self, line, row):
        super().check_row(line, row)
        if row.get("issued_on") and row.get("due_on") and row["due_on"] < row["issued_on"]:
            self.problem(line, "due_on", row["due_on"].isoformat(), "due_before_issued")


class SurveyImporter(Importer):
    """One survey per customer and answer date: re-importing that pair updates its score and comment."""

    spec = SURVEYS
    key_columns = ("customer", "answered_on")
    model = Survey

    def existing(self, rows):
        pairs = [(self.customer_ids[row["customer"]], row["answered_on"]) for _line, row in rows]
        codes = {self.customer_ids[row["customer"]]: row["customer"] for _line, row in rows}
        found = {}
        wanted = set(pairs)
        surveys = Survey.objects.filter(
            customer_id__in={c for c, _d in pairs}, answered_on__in={d for _c, d in pairs}
        ).order_by("-id")
        for survey in surveys:
            pair = (survey.customer_id, survey.answered_on)
            if pair in wanted:
                found[(codes[survey.customer_id], survey.answered_on)] = survey  # the oldest one wins
        return found


class CustomerImporter(Importer):
    """Customers keep their change history: bulk writes go through simple_history's bulk helpers,
    so a created customer gets its first entry and a changed one an entry; an unchanged one none.

    Industry, region and owner are lookups (lookups.py): a cell names an existing value by any of
    its spellings. An industry or region that matches nothing is a new value: listed in the
    report, created only when the import is told to (`new_values_allowed`)."""

    spec = CUSTOMERS
    key_columns = ("code",)
    model = Customer
    field_names = {
        "region": "region_id",
        "industry": "industry_id",
        "owner": "owner_id",
        "referred_by": "referred_by_id",
    }
    LOOKUP_MODELS = {"industry": Industry, "region": Region}

    def prepare(self):
        self.customer_ids = dict(Customer.objects.values_list("code", "id"))
        users = get_user_model().objects.values_list("id", "username")
        self.user_ids = {username: pk for pk, username in users}
        self.lookups = {"owner": Lookup((pk, username, ()) for pk, username in users)}
        for column, model in self.LOOKUP_MODELS.items():
            self.lookups[column] = Lookup.of_names(model.objects.values_list("id", "name"))
        # per column: match key of a cell -> the value's id, NEW, or the ambiguous Match
        self.resolved: dict[str, dict] = {column: {} for column in self.lookups}
        self.new: dict[str, dict[str, NewValue]] = {column: {} for column in self.LOOKUP_MODELS}
        self.referrals_to_check: list[tuple[int, str]] = []
        self.referrals_later: list[tuple[str, str]] = []
        self.new_ids: list[int] = []

    def resolve(self, column: str, text: str):
        """The id a cell of a lookup column names, NEW, or a Match with its candidates."""
        if column == "owner" and text in self.user_ids:
            return self.user_ids[text]
        key = match_key(text)
        known = self.resolved[column].get(key)
        if known is None:
            match = self.lookups[column].find(text)
            known = match.id if match.found else match if match.ambiguous else NEW
            self.resolved[column][key] = known
        return known

    def check_lookup(self, line: int, column: str, text: str) -> None:
        found = self.resolve(column, text)
        if isinstance(found, Match):
            self.problem(line, column, text, "ambiguous_value", candidates=found.candidates)
        elif found is NEW:
            if column == "owner":
                self.problem(line, column, text, "unknown_user")
                return
            key = match_key(text)
            new = self.new[column].get(key)
            if new is None:
                if len(self.new[column]) >= self.report.max_listed:
                    raise ImportFileError("too_many_new_values", limit=self.report.max_listed, column=column)
                new = self.new[column][key] = NewValue(column=column, value=text, key=key)
            new.add(line)

    def check_row(self, line, row):
        code = row.get("code")
        for column in self.lookups:
            if row.get(column):
                self.check_lookup(line, column, row[column])
        referrer = row.get("referred_by")
        if referrer:
            if referrer == code:
                self.problem(line, "referred_by", referrer, "self_referral")
            elif referrer not in self.customer_ids:
                self.referrals_to_check.append((line, referrer))  # may be a customer later in the file
        status, churned_on, reason = row.get("status"), row.get("churned_on"), row.get("churn_reason")
        if status == Customer.Status.CHURNED:
            if "churned_on" in row and not churned_on:
                self.problem(line, "churned_on", "", "churn_needs_date")
            if "churn_reason" in row and not reason:
                self.problem(line, "churn_reason", "", "churn_needs_reason")
            if "churned_on" not in row and "churned_on" not in self.present:
                self.problem(line, "churned_on", "", "churn_needs_date")
            if "churn_reason" not in row and "churn_reason" not in self.present:
                self.problem(line, "churn_reason", "", "churn_needs_reason")
        elif status and (churned_on or reason):
            self.problem(line, "status", status, "churn_only_when_churned")
        if row.get("since") and churned_on and churned_on < row["since"]:
            self.problem(line, "churned_on", churned_on.isoformat(), "churned_before_since")

    def finish_checks(self, keys):
        for line, referrer in self.referrals_to_check:
            if (referrer,) not in keys:
                self.problem(line, "referred_by", referrer, "unknown_customer")
        self.report.new_values = [new for column in self.new.values() for new in column.values()]

    def create_new_values(self) -> None:
        """Creates the confirmed new industries and regions (once, before the first batch)."""
        for column, model in self.LOOKUP_MODELS.items():
            new = self.new[column]
            if not new:
                continue
            model.objects.bulk_create([model(name=value.value) for value in new.values()], ignore_conflicts=True)
            ids = dict(model.objects.filter(name__in=[value.value for value in new.values()]).values_list("name", "id"))
            for key, value in new.items():
                self.resolved[column][key] = ids[value.value]
        self.new = {column: {} for column in self.LOOKUP_MODELS}

    def fields(self, row):
        values, pending = {}, False
        for column, value in row.items():
            if column in self.lookups:
                found = self.resolve(column, value) if value else None
                if found is NEW:
                    found, pending = None, True  # a new value, not created in a dry run
                values[self.field_names[column]] = found
            elif column == "referred_by":
                if value and value not in self.customer_ids:
                    self.referrals_later.append((row["code"], value))
                    pending = True
                values["referred_by_id"] = self.customer_ids.get(value) if value else None
            else:
                values[column] = value
        return values, pending

    def update_fields(self):
        return super().update_fields() + ["updated_at"]

    def existing(self, rows):
        codes = [row["code"] for _line, row in rows]
        return {(c.code,): c for c in Customer.objects.filter(code__in=codes)}

    def count_batch(self, rows):
        super().count_batch(rows)
        self.referrals_later.clear()

    def write_batch(self, rows):
        if any(self.new.values()):
            self.create_new_values()
        super().write_batch(rows)

    def save(self, batch):
        now = timezone.now()
        for customer in batch.update:
            customer.updated_at = now
        reason = f"import {self.source_name}"[:100]
        created = bulk_create_with_history(batch.create, Customer, default_user=self.by, default_change_reason=reason)
        if batch.update:
            bulk_update_with_history(
                batch.update, Customer, self.update_fields(), default_user=self.by, default_change_reason=reason
            )
        for customer in created:
            self.customer_ids[customer.code] = customer.pk
            self.new_ids.append(customer.pk)

    def finish_write(self):
        # Referrals to customers that came later in the same file: the customer and the history
        # entry this import gave it both get the referrer.
        if self.referrals_later:
            referred = Customer.objects.filter(code__in=[code for code, _r in self.referrals_later])
            by_code = {c.code: c for c in referred}
            for code, referrer in self.referrals_later:
                by_code[code].referred_by_id = self.customer_ids[referrer]
            Customer.objects.bulk_update(list(by_code.values()), ["referred_by_id"])
            historical = Customer.history.model
            latest = dict(
                historical.objects.filter(id__in=[c.pk for c in by_code.values()])
                .values("id")
                .annotate(last=Max("history_id"))
                .values_list("id", "last")
            )
            entries = list(historical.objects.filter(history_id__in=latest.values()))
            referrers = {c.pk: c.referred_by_id for c in by_code.values()}
            for entry in entries:
                entry.referred_by_id = referrers[entry.id]
            historical.objects.bulk_update(entries, ["referred_by_id"])
        if self.new_ids:
            run = published_run()
            if run is not None:
                run_add_prospects(run=run, customer_ids=self.new_ids)
        self.report.note("customer_history")


class ComplaintImporter(Importer):
    """Complaints go through the complaint services one by one (files are small): new ones are
    created in state `new` with their SLA due times; `closed` rows are recorded closed through the
    workflow (complaint_transition, a recorded move), whose log entry says so. No other state is
    written by an import. A complaint gets one
    history entry from an import: created (closed, when the row says so) or changed; none when
    the row holds what it already has."""

    spec = COMPLAINTS
    key_columns = ("number",)
    model = Complaint
    DESCRIBING = ("channel", "category", "severity", "description")

    def prepare(self):
        super().prepare()
        self.statuses: list[tuple[int, str, str]] = []
        self.state_of = parse_choice(State)

    def status(self, text: str | None) -> str | None:
        """The state a status cell names (code or label, either language), or None."""
        if not text:
            return None
        try:
            return self.state_of(text)
        except CellError:
            return None

    def check_row(self, line, row):
        super().check_row(line, row)
        text = row.get("status")
        if text:
            status = self.status(text)
            if status is None:
                self.problem(line, "status", text, "unknown_choice", choices=", ".join(COMPLAINT_STATUSES))
                row.pop("status")
            elif status not in COMPLAINT_STATUSES:
                self.problem(line, "status", text, "complaint_state_not_importable")
            elif row.get("number"):
                self.statuses.append((line, row["number"], status))

    def finish_checks(self, keys):
        wanted = {number for _line, number, _status in self.statuses}
        states = {}
        for chunk in chunked(sorted(wanted)):
            states.update(Complaint.objects.filter(number__in=chunk).values_list("number", "state"))
        for line, number, status in self.statuses:
            state = states.get(number)
            if state is None or state == status or (state == State.NEW and status == State.CLOSED):
                continue
            self.problem(line, "status", status, "complaint_state_conflict", state=state, to=status)
        self.report.note("complaint_states")

    def existing(self, rows):
        numbers = [row["number"] for _line, row in rows]
        return {(c.number,): c for c in Complaint.objects.filter(number__in=numbers)}

    def plan(self, row: dict, complaint: Complaint | None) -> tuple[dict, bool]:
        """What the row does: the describing fields to set (only those that change, for an existing
        complaint) and whether it is to be recorded closed."""
        data = {k: v for k, v in row.items() if k in self.DESCRIBING}
        closing = self.status(row.get("status")) == State.CLOSED
        if complaint is None:
            data["description"] = data.get("description") or IMPORTED_NO_DESCRIPTION
            return data, closing
        if "description" in data and not data["description"]:
            data.pop("description")
        changes = {k: v for k, v in data.items() if getattr(complaint, k) != v}
        return changes, closing and complaint.state == State.NEW

    def count_batch(self, rows):
        existing = self.existing(rows)
        for _line, row in rows:
            complaint = existing.get(self.key(row))
            if complaint is None:
                self.report.created += 1
                continue
            changes, closing = self.plan(row, complaint)
            if changes or closing:
                self.report.updated += 1
            else:
                self.report.unchanged += 1

    def write_batch(self, rows):
        existing = self.existing(rows)
        for _line, row in rows:
            complaint = existing.get(self.key(row))
            data, closing = self.plan(row, complaint)
            created = complaint is None
            if created:
                complaint = complaint_create(
                    customer=Customer(pk=self.customer_ids[row["customer"]]),
                    by=self.by,
                    data={"number": row["number"], "received_at": row["received_at"], **data},
                )
                self.report.created += 1
            elif data or closing:
                if data:
                    complaint = complaint_update(complaint=complaint, data=data, by=self.by)
                self.report.updated += 1
            else:
                self.report.unchanged += 1
                continue
            if closing:
                # Through the workflow, as a move made in the source system; into the history entry
                # this import just wrote for the complaint, if it wrote one.
                complaint_transition(
                    complaint=complaint,
                    to=State.CLOSED,
                    by=self.by,
                    expected_state=State.NEW,
                    note=IMPORTED_CLOSED_NOTE.format(name=self.source_name),
                    recorded=True,
                    in_last_entry=created or bool(data),
                )


IMPORTERS: dict[str, type[Importer]] = {
    "customers": CustomerImporter,
    "orders": OrderImporter,
    "invoices": InvoiceImporter,
    "surveys": SurveyImporter,
    "complaints": ComplaintImporter,
}
