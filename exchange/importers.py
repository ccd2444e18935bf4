"""One importer per kind: the checks that need more than one cell, and the batched writes.

The engine (services.py) parses each row's cells with the column parsers and hands the importer
a dict holding only the columns that parsed (absent columns are not in it). The importer checks
what spans cells or needs the database (customer codes, users, states), and later writes
validated rows in batches. On update, only the columns present in the file's header change.
"""
import datetime
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from analytics.totals import month_start, monthly_totals_rebuild_pairs
from complaints.models import Complaint, ComplaintTransition, State
from complaints.services import complaint_create, complaint_update
from crm.models import Customer, Industry, Invoice, Order, Region, Survey

from .columns import COMPLAINT_STATUSES, COMPLAINTS, CUSTOMERS, INVOICES, ORDERS, SURVEYS, KindSpec
from .report import ImportReport, RowProblem

LOOKUP_CHUNK = 2000

# Stored in the complaint's transition log and history as data, in English like other stored notes.
IMPORTED_CLOSED_NOTE = "Imported as closed from “{name}”; its earlier history is in the source system."
IMPORTED_NO_DESCRIPTION = "Imported without a description."


def chunked(items: list, size: int = LOOKUP_CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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

    def existing_keys(self, keys: list[tuple]) -> set[tuple]:
        model, field = self.model, self.key_columns[0]
        found = set()
        for chunk in chunked([k[0] for k in keys]):
            found.update((v,) for v in model.objects.filter(**{f"{field}__in": chunk}).values_list(field, flat=True))
        return found

    # writes -------------------------------------------------------------------------------
    def fields(self, row: dict) -> dict:
        """Model field values for the columns in the row."""
        values = {}
        for column, value in row.items():
            if column == "customer":
                values["customer_id"] = self.customer_ids[value]
            else:
                values[self.field_names.get(column, column)] = value
        return values

    def update_fields(self) -> list[str]:
        return [
            "customer_id" if c == "customer" else self.field_names.get(c, c)
            for c in self.spec.names
            if c in self.present and c not in self.key_columns
        ]

    def write_batch(self, rows: list[tuple[int, dict]]) -> None:
        raise NotImplementedError

    def finish_write(self) -> None:
        pass


class NumberedImporter(Importer):
    """Orders and invoices: the key is the document number."""

    key_columns = ("number",)
    model = None

    def write_batch(self, rows):
        numbers = [row["number"] for _line, row in rows]
        existing = {obj.number: obj for obj in self.model.objects.filter(number__in=numbers)}
        create, update = [], []
        for _line, row in rows:
            values = self.fields(row)
            obj = existing.get(row["number"])
            if obj is None:
                create.append(self.model(**values))
            else:
                self.before_update(obj)
                for field, value in values.items():
                    setattr(obj, field, value)
                update.append(obj)
        self.model.objects.bulk_create(create)
        fields = self.update_fields()
        if update and fields:
            self.model.objects.bulk_update(update, fields)
        self.report.created += len(create)
        self.report.updated += len(update)
        self.after_batch(create + update)

    def before_update(self, obj) -> None:
        pass

    def after_batch(self, objs) -> None:
        pass


class OrderImporter(NumberedImporter):
    spec = ORDERS
    model = Order
    field_names = {"error": "entry_error"}

    def prepare(self):
        super().prepare()
        self.months: set[tuple[int, datetime.date]] = set()

    def before_update(self, obj):
        self.months.add((obj.customer_id, month_start(obj.ordered_on)))  # where it was counted before

    def after_batch(self, objs):
        self.months.update((obj.customer_id, month_start(obj.ordered_on)) for obj in objs)

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

    def _existing(self, pairs: list[tuple[int, datetime.date]]) -> dict:
        found = {}
        wanted = set(pairs)
        surveys = Survey.objects.filter(
            customer_id__in={c for c, _d in pairs}, answered_on__in={d for _c, d in pairs}
        ).order_by("-id")
        for survey in surveys:
            pair = (survey.customer_id, survey.answered_on)
            if pair in wanted:
                found[pair] = survey  # the oldest one wins (ordered newest first)
        return found

    def existing_keys(self, keys):
        known = [(self.customer_ids[code], day) for code, day in keys if code in self.customer_ids]
        found = set()
        for chunk in chunked(known):
            found.update(self._existing(chunk))
        return found

    def write_batch(self, rows):
        pairs = [(self.customer_ids[row["customer"]], row["answered_on"]) for _line, row in rows]
        existing = self._existing(pairs)
        create, update = [], []
        for pair, (_line, row) in zip(pairs, rows, strict=True):
            values = self.fields(row)
            survey = existing.get(pair)
            if survey is None:
                create.append(Survey(**values))
            else:
                for field, value in values.items():
                    setattr(survey, field, value)
                update.append(survey)
        Survey.objects.bulk_create(create)
        fields = self.update_fields()
        if update and fields:
            Survey.objects.bulk_update(update, fields)
        self.report.created += len(create)
        self.report.updated += len(update)


class CustomerImporter(Importer):
    """Customers keep their change history: bulk writes go through simple_history's bulk helpers."""

    spec = CUSTOMERS
    key_columns = ("code",)
    model = Customer
    field_names = {"region": "region_id", "industry": "industry_id", "owner": "owner_id", "referred_by": "referred_by_id"}

    def prepare(self):
        self.customer_ids = dict(Customer.objects.values_list("code", "id"))
        self.user_ids = dict(get_user_model().objects.values_list("username", "id"))
        self.region_names: set[str] = set()
        self.industry_names: set[str] = set()
        self.referrals_to_check: list[tuple[int, str]] = []
        self.referrals_later: list[tuple[str, str]] = []
        self.new_ids: list[int] = []

    def check_row(self, line, row):
        code = row.get("code")
        if row.get("owner") and row["owner"] not in self.user_ids:
            self.problem(line, "owner", row["owner"], "unknown_user")
        if row.get("region"):
            self.region_names.add(row["region"])
        if row.get("industry"):
            self.industry_names.add(row["industry"])
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

    def _named(self, model, names: set[str]) -> dict[str, int]:
        model.objects.bulk_create([model(name=name) for name in names], ignore_conflicts=True)
        ids = {}
        for chunk in chunked(sorted(names)):
            ids.update(model.objects.filter(name__in=chunk).values_list("name", "id"))
        return ids

    def fields(self, row):
        values = {}
        for column, value in row.items():
            if column == "region":
                values["region_id"] = self.region_ids.get(value) if value else None
            elif column == "industry":
                values["industry_id"] = self.industry_ids.get(value) if value else None
            elif column == "owner":
                values["owner_id"] = self.user_ids.get(value) if value else None
            elif column == "referred_by":
                if value and value not in self.customer_ids:
                    self.referrals_later.append((row["code"], value))
                values["referred_by_id"] = self.customer_ids.get(value) if value else None
            else:
                values[column] = value
        return values

    def update_fields(self):
        return super().update_fields() + ["updated_at"]

    def write_batch(self, rows):
        if not hasattr(self, "region_ids"):
            self.region_ids = self._named(Region, self.region_names)
            self.industry_ids = self._named(Industry, self.industry_names)
        codes = [row["code"] for _line, row in rows]
        existing = {c.code: c for c in Customer.objects.filter(code__in=codes)}
        now = timezone.now()
        create, update = [], []
        for _line, row in rows:
            values = self.fields(row)
            customer = existing.get(row["code"])
            if customer is None:
                create.append(Customer(**values))
            else:
                for field, value in values.items():
                    setattr(customer, field, value)
                customer.updated_at = now
                update.append(customer)
        reason = f"import {self.source_name}"[:100]
        created = bulk_create_with_history(create, Customer, default_user=self.by, default_change_reason=reason)
        if update:
            bulk_update_with_history(update, Customer, self.update_fields(), default_user=self.by, default_change_reason=reason)
        for customer in created:
            self.customer_ids[customer.code] = customer.pk
            self.new_ids.append(customer.pk)
        self.report.created += len(created)
        self.report.updated += len(update)

    def finish_write(self):
        # Referrals to customers that came later in the same file.
        if self.referrals_later:
            referred = Customer.objects.filter(code__in=[code for code, _r in self.referrals_later])
            by_code = {c.code: c for c in referred}
            for code, referrer in self.referrals_later:
                by_code[code].referred_by_id = self.customer_ids[referrer]
            Customer.objects.bulk_update(list(by_code.values()), ["referred_by_id"])
        if self.new_ids:
            from analytics.services.runs import published_run, run_add_prospects

            run = published_run()
            if run is not None:
                run_add_prospects(run=run, customer_ids=self.new_ids)
        self.report.note("customer_history")


class ComplaintImporter(Importer):
    """Complaints go through the complaint services one by one (files are small): new ones are
    created in state `new` with their SLA due times; `closed` rows are recorded closed with one
    transition-log entry saying so. No other state is written by an import."""

    spec = COMPLAINTS
    key_columns = ("number",)
    model = Complaint

    def prepare(self):
        super().prepare()
        self.statuses: list[tuple[int, str, str]] = []

    def check_row(self, line, row):
        super().check_row(line, row)
        status = row.get("status")
        if status:
            if status not in State.values:
                self.problem(line, "status", status, "unknown_choice", choices=", ".join(COMPLAINT_STATUSES))
                row.pop("status")
            elif status not in COMPLAINT_STATUSES:
                self.problem(line, "status", status, "complaint_state_not_importable")
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

    def write_batch(self, rows):
        numbers = [row["number"] for _line, row in rows]
        existing = {c.number: c for c in Complaint.objects.filter(number__in=numbers)}
        for _line, row in rows:
            data = {k: v for k, v in row.items() if k in ("channel", "category", "severity", "description")}
            complaint = existing.get(row["number"])
            if complaint is None:
                data["description"] = data.get("description") or IMPORTED_NO_DESCRIPTION
                complaint = complaint_create(
                    customer=Customer(pk=self.customer_ids[row["customer"]]),
                    by=self.by,
                    data={"number": row["number"], "received_at": row["received_at"], **data},
                )
                self.report.created += 1
            else:
                if "description" in data and not data["description"]:
                    data.pop("description")
                if data:
                    complaint = complaint_update(complaint=complaint, data=data, by=self.by)
                self.report.updated += 1
            if row.get("status") == State.CLOSED and complaint.state == State.NEW:
                self._record_closed(complaint)

    @transaction.atomic
    def _record_closed(self, complaint: Complaint) -> None:
        now = timezone.now()
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        locked.state, locked.closed_at = State.CLOSED, now
        locked._history_user = self.by
        locked.save(update_fields=["state", "closed_at", "updated_at"])
        ComplaintTransition.objects.create(
            complaint=locked, from_state=State.NEW, to_state=State.CLOSED, by=self.by, at=now,
            note=IMPORTED_CLOSED_NOTE.format(name=self.source_name),
        )  # fmt: skip


IMPORTERS: dict[str, type[Importer]] = {
    "customers": CustomerImporter,
    "orders": OrderImporter,
    "invoices": InvoiceImporter,
    "surveys": SurveyImporter,
    "complaints": ComplaintImporter,
}

