"""Read-side queries for customer records. Selectors own select_related and aggregation."""

import datetime
import math
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.lookups import DataContains
from django.db import connections
from django.db.models import Count, Func, Q, QuerySet, Sum, TextField, Value
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext_lazy as _

from core.display import field_value

from .extensions import CustomerFigures
from .models import Contact, Customer, Order
from .roles import Role

SHORT_GRAM = 2  # crm_short_grams (migration crm 0007) holds a name's non-ASCII pieces of one and two characters


def customer_list(*, figures: CustomerFigures | None = None, sorted_by_figure: bool = False) -> QuerySet[Customer]:
    """Every customer (all roles see all records), with what the list shows.

    With `figures` (crm.extensions.customer_figures: for a role that sees money, the published
    run's), each customer also carries them as annotations, so the database filters and sorts on them.
    """
    customers = Customer.objects.select_related("owner", "region", "industry")
    if figures is None:
        return customers
    return figures.annotate(customers, sorted_by_figure=sorted_by_figure)


# From this many customers an unfiltered list shows PostgreSQL's estimate of their number ("about
# 100,000 customers") instead of counting them all on every page (25 ms of SQL at 100,000).
ESTIMATE_FROM = 10_000


def customer_count_estimate(*, using: str = "default") -> tuple[int, bool] | None:
    """(how many customers, estimated?) in one query, on PostgreSQL: from ESTIMATE_FROM customers the
    planner's own estimate (pg_class.reltuples per page, times the table's pages now, so it follows
    the table's growth since the last VACUUM or ANALYZE), to three significant digits; below it, or
    before the table was ever analyzed, the exact count. None on other databases (they count)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    table = Customer._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT CASE WHEN e >= %s THEN e ELSE (SELECT count(*) FROM {table}) END, e >= %s
                FROM (SELECT coalesce((SELECT reltuples / relpages * (pg_relation_size(oid) / current_setting('block_size')::integer)
                                       FROM pg_class WHERE oid = %s::regclass AND relpages > 0 AND reltuples >= 0), -1) AS e) AS estimate""",
            [ESTIMATE_FROM, ESTIMATE_FROM, table],
        )
        count, estimated = cursor.fetchone()
    if not estimated:
        return int(count), False
    return int(round(count, 2 - math.floor(math.log10(count)))), True  # three significant digits


def customer_search(queryset: QuerySet, text: str, *, through: str = "") -> QuerySet:
    """The rows of `queryset` whose customer's code, name, email or phone contains `text`: the one
    customer search (the customer list, the complaint queue, the complaint form's customer lookup).

    `queryset` holds customers, or (with `through`, the relation's name: "customer") rows that point
    to one. Blank text finds everything. See customer_search_condition for how it matches.
    """
    text = text.strip()
    if not text:
        return queryset
    return queryset.filter(customer_search_condition(text, through=through, using=queryset.db))


def customer_search_condition(text: str, *, through: str = "", using: str = "default") -> Q:
    """customer_search's condition, to combine with others (the queue also searches complaint numbers).

    Case-insensitive for Latin letters; Chinese names as they are written. Codes, emails and phones
    are ASCII, so only ASCII text is looked for in them. Each test is one that PostgreSQL's trigram
    indexes on these columns serve (migrations crm 0003, 0005, 0009); a one- or two-character
    Chinese search is first narrowed by the name's short grams (0007).
    """
    prefix = f"{through}__" if through else ""
    condition = contains_text(
        text, text_fields=[f"{prefix}name"], code_fields=[f"{prefix}code"], gram_fields=[f"{prefix}name"], using=using
    )
    if text.isascii():
        for field in ("email", "phone"):
            condition |= Q(**{f"{prefix}{field}__icontains": text})
    return condition


def contains_text(value: str, *, text_fields: list[str], code_fields: list[str], gram_fields=(), using="default") -> Q:
    """Any of the fields contains `value`; case-insensitive for Latin letters.

    Text without cased letters (Chinese, digits) is matched as it is: the same result without
    upper-casing every row, so PostgreSQL's trigram indexes on the plain columns serve it. Codes
    are ASCII, so they are not searched for non-ASCII text. Trigrams cannot serve one or two
    characters: on PostgreSQL, a field in `gram_fields` (indexed on crm_short_grams) is then
    first narrowed to the rows whose pieces hold the term, which that index finds.
    """
    cased = value.upper() != value.lower()
    lookup = "icontains" if cased else "contains"
    fields = text_fields + (code_fields if value.isascii() else [])
    short_chinese = not cased and not value.isascii() and len(value) <= SHORT_GRAM
    on_postgres = connections[using].vendor == "postgresql"
    condition = Q()
    for field in fields:
        if short_chinese and on_postgres and field in gram_fields:
            condition |= Q(**{f"{field}__{lookup}": value}) & Q(_short_grams_contain(field, value))
        else:
            condition |= Q(**{f"{field}__{lookup}": value})
    return condition


def _short_grams_contain(field: str, value: str):
    """crm_short_grams(field) @> ARRAY[value], which the GIN index on that expression answers."""
    grams = Func(field, function="crm_short_grams", output_field=ArrayField(TextField()))
    return DataContains(grams, Value([value], output_field=ArrayField(TextField())))


def sales_reps() -> QuerySet:
    """Users who can own customers, for owner pickers and filters."""
    return get_user_model().objects.filter(groups__name=Role.SALES.value, is_active=True).order_by("username")


def customer_monthly_revenue(
    *, customer: Customer, months: int = 24, today: datetime.date | None = None
) -> list[tuple[str, Decimal]]:
    """Revenue per calendar month for the last `months` months (zero months included), oldest first.

    Cancelled and returned orders bring no revenue. The sum happens in SQL.
    """
    today = today or datetime.date.today()
    first = _add_months(today.replace(day=1), -(months - 1))
    rows = (
        Order.objects.filter(customer=customer, ordered_on__gte=first, status__in=Order.COUNTED_STATUSES)
        .annotate(month=TruncMonth("ordered_on"))
        .values("month")
        .annotate(revenue=Sum("revenue"), orders=Count("id"))
        .order_by("month")
    )
    by_month = {_as_date(row["month"]): row["revenue"] for row in rows}
    series = []
    for offset in range(months):
        month = _add_months(first, offset)
        series.append((month.strftime("%Y-%m"), by_month.get(month, Decimal("0.00"))))
    return series


def _as_date(value) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


# A contact's fields as the form and its history name them (the verbose names are the admin's, and
# read wrong for a person in Chinese: "name" is a company's 名称, "title" a heading's 标题). Its
# history shows these changing; retired_at is told as "retired" or "restored" instead.
CONTACT_LABELS = {
    "name": _("Name"),
    "title": _("Title"),
    "email": _("Email"),
    "phone": _("Phone"),
    "decision_maker": _("Decision maker"),
}


@dataclass(frozen=True)
class CustomerContacts:
    current: list[Contact]  # decision makers first, then by name
    retired: list[Contact]  # the latest retired first

    def __bool__(self) -> bool:
        return bool(self.current or self.retired)


def customer_contacts(*, customer: Customer) -> CustomerContacts:
    """The customer's contacts, current and retired apart, each with `changes`: its history, newest
    first, as dicts of `record` (who and when: history_user, history_date), `action` ("added",
    "edited", "retired", "restored") and, for an edit, the fields that went from what to what.
    Two queries however many contacts and changes there are."""
    contacts = list(customer.contacts.all())
    records: dict[int, list] = {contact.pk: [] for contact in contacts}
    history = Contact.history.filter(id__in=list(records)).select_related("history_user")
    for record in history.order_by("id", "-history_date", "-history_id"):
        records[record.id].append(record)
    for contact in contacts:
        contact.changes = _contact_changes(records[contact.pk])
    retired = sorted((c for c in contacts if c.retired_at), key=lambda c: c.retired_at, reverse=True)
    return CustomerContacts(current=[c for c in contacts if not c.retired_at], retired=retired)


def _contact_changes(records: list) -> list[dict]:
    changes = []
    for newer, older in zip(records, records[1:] + [None], strict=False):
        entry = {"record": newer, "action": "added" if newer.history_type == "+" else "edited", "fields": []}
        if older is not None:
            if (newer.retired_at is None) != (older.retired_at is None):
                entry["action"] = "retired" if newer.retired_at else "restored"
            for name, label in CONTACT_LABELS.items():
                old, new = getattr(older, name), getattr(newer, name)
                if old != new:
                    field = Contact._meta.get_field(name)
                    entry["fields"].append(
                        {"field": label, "old": field_value(field, old), "new": field_value(field, new)}
                    )
        changes.append(entry)
    return changes
