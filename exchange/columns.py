"""The file columns of DESIGN section 7 and how each cell is read.

A parser takes the cell (text from CSV, or a typed value from XLSX) and returns the value to
store, or raises CellError with the reason. Blank cells never reach a parser: a blank required
cell is "missing", a blank optional one takes the column's `blank` value.
"""

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone, translation

from complaints.models import Category, Channel, Severity
from crm.models import Customer, Order, Survey

from .lookups import match_key
from .readers import text_of
from .report import CellError

CENT = Decimal("0.01")
MONEY_LIMIT = Decimal("1e12")  # 14 digits, 2 of them decimals
PLAIN_MONEY = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,2})?\Z")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
ISO_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def parse_text(max_length: int) -> Callable:
    def parse(cell):
        value = cell if type(cell) is str else text_of(cell)
        if len(value) > max_length:
            raise CellError("too_long", max=max_length)
        return value

    return parse


def parse_date(cell) -> datetime.date:
    if type(cell) is str:  # the CSV fast path
        if len(cell) == 10 and ISO_DATE.match(cell):
            try:
                return datetime.date.fromisoformat(cell)
            except ValueError:
                pass
        raise CellError("bad_date")
    if isinstance(cell, datetime.datetime):
        return cell.date()
    if isinstance(cell, datetime.date):
        return cell
    return parse_date(text_of(cell))


def parse_datetime(cell) -> datetime.datetime:
    """ISO date and time, read in the configured time zone; a date alone is its midnight."""
    if isinstance(cell, datetime.datetime):
        moment = cell
    elif isinstance(cell, datetime.date):
        moment = datetime.datetime.combine(cell, datetime.time())
    else:
        match = ISO_DATETIME.match(text_of(cell))
        if not match:
            raise CellError("bad_datetime")
        day, hour, minute, second = match.groups()
        try:
            moment = datetime.datetime.combine(
                datetime.date.fromisoformat(day), datetime.time(int(hour or 0), int(minute or 0), int(second or 0))
            )
        except ValueError:
            raise CellError("bad_datetime") from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def parse_money(cell) -> Decimal:
    if type(cell) is str:
        if PLAIN_MONEY.match(cell):  # the common case, settled by one regex
            return Decimal(cell)
        try:
            value = Decimal(cell)
        except InvalidOperation:
            raise CellError("bad_number") from None
        if not value.is_finite() or "e" in cell or "E" in cell:
            raise CellError("bad_number")
    elif isinstance(cell, (int, float)) and not isinstance(cell, bool):
        value = Decimal(str(cell))
    else:
        return parse_money(text_of(cell))
    if value < 0:
        raise CellError("negative")
    if value.as_tuple().exponent < -2:
        if value != value.quantize(CENT):
            raise CellError("too_many_decimals")
        value = value.quantize(CENT)
    if value >= MONEY_LIMIT:
        raise CellError("too_large")
    return value


def parse_whole(minimum: int, maximum: int) -> Callable:
    def parse(cell):
        if isinstance(cell, bool):
            raise CellError("not_whole")
        if isinstance(cell, float):
            if not cell.is_integer():
                raise CellError("not_whole")
            value = int(cell)
        elif isinstance(cell, int):
            value = cell
        else:
            text = cell if type(cell) is str else text_of(cell)
            if text.isdigit() and text.isascii() and len(text) < 10:
                return _in_range(int(text), minimum, maximum)
            if not re.fullmatch(r"[+-]?\d+", text):
                raise CellError("bad_number" if not re.fullmatch(r"[+-]?\d*\.?\d+", text) else "not_whole")
            value = int(text)
        return _in_range(value, minimum, maximum)

    return parse


def _in_range(value: int, minimum: int, maximum: int) -> int:
    if not minimum <= value <= maximum:
        raise CellError("out_of_range", min=minimum, max=maximum)
    return value


TRUE_WORDS = {"yes", "true", "1", "y", "是"}
FALSE_WORDS = {"no", "false", "0", "n", "否"}


def parse_boolean(cell) -> bool:
    if isinstance(cell, bool):
        return cell
    value = (cell if type(cell) is str else text_of(cell)).lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise CellError("bad_boolean")


def parse_choice(choices) -> Callable:
    """Accepts the stored code, or the label in English or Chinese, ignoring case and spacing
    (lookups.match_key): "Product quality", "product  QUALITY", "quality" and "产品质量" are one."""
    lookup: dict[str, str] = {}
    built = False

    def build():
        for value, label in choices.choices:
            lookup[match_key(value)] = value
            for language in ("en", "zh-hans"):
                with translation.override(language):
                    lookup.setdefault(match_key(label), value)

    def parse(cell):
        nonlocal built
        if not built:
            build()
            built = True
        text = cell if type(cell) is str else text_of(cell)
        value = lookup.get(text)  # already in its key form, as codes usually are
        if value is None:
            value = lookup.get(match_key(text))
        if value is None:
            raise CellError("unknown_choice", choices=", ".join(str(v) for v in choices.values))
        return value

    return parse


def parse_email(cell) -> str:
    value = parse_text(254)(cell)
    try:
        validate_email(value)
    except ValidationError:
        raise CellError("bad_email") from None
    return value


def parse_code(cell) -> str:
    return parse_text(40)(cell)


@dataclass(frozen=True)
class Column:
    name: str
    parse: Callable
    required: bool = False
    blank: object = None  # the value a blank optional cell stands for


@dataclass(frozen=True)
class KindSpec:
    kind: str
    columns: tuple[Column, ...]
    example: dict

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def required(self) -> list[str]:
        return [column.name for column in self.columns if column.required]


CUSTOMERS = KindSpec(
    "customers",
    (
        Column("code", parse_text(32), required=True),
        Column("name", parse_text(200), required=True),
        Column("kind", parse_choice(Customer.Kind), blank=Customer.Kind.COMPANY),
        Column("industry", parse_text(100), blank=""),
        Column("region", parse_text(100), blank=""),
        Column("owner", parse_text(150), blank=""),
        Column("status", parse_choice(Customer.Status), blank=Customer.Status.PROSPECT),
        Column("since", parse_date),
        Column("churned_on", parse_date),
        Column("churn_reason", parse_choice(Customer.ChurnReason), blank=""),
        Column("credit_terms", parse_choice(Customer.CreditTerms), blank=Customer.CreditTerms.PREPAID),
        Column("credit_limit", parse_money, blank=Decimal("0.00")),
        Column("strategic", parse_boolean, blank=False),
        Column("growth_potential", parse_whole(1, 5), blank=3),
        Column("value_orientation", parse_choice(Customer.ValueOrientation), blank=""),
        Column("referred_by", parse_code, blank=""),
        Column("email", parse_email, blank=""),
        Column("phone", parse_text(40), blank=""),
    ),
    {
        "code": "C900001",
        "name": "上海华东贸易有限公司",
        "kind": "company",
        "industry": "Retail",
        "region": "华东 East China",
        "owner": "",
        "status": "active",
        "since": "2021-03-15",
        "churned_on": "",
        "churn_reason": "",
        "credit_terms": "credit",
        "credit_limit": "50000.00",
        "strategic": "no",
        "growth_potential": "4",
        "value_orientation": "performance",
        "referred_by": "",
        "email": "buyer@example.com",
        "phone": "021-5555 0101",
    },
)

ORDERS = KindSpec(
    "orders",
    (
        Column("number", parse_text(40), required=True),
        Column("customer", parse_code, required=True),
        Column("ordered_on", parse_date, required=True),
        Column("revenue", parse_money, required=True),
        Column("cost", parse_money, required=True),
        Column("service_cost", parse_money, blank=Decimal("0.00")),
        Column("quantity", parse_whole(0, 2_147_483_647), blank=1),
        Column("promised_on", parse_date),
        Column("delivered_on", parse_date),
        Column("error", parse_boolean, blank=False),
        Column("status", parse_choice(Order.Status), blank=Order.Status.DELIVERED),
    ),
    {
        "number": "SO-2026-000123",
        "customer": "C900001",
        "ordered_on": "2026-03-02",
        "revenue": "12800.00",
        "cost": "9600.00",
        "service_cost": "350.00",
        "quantity": "40",
        "promised_on": "2026-03-09",
        "delivered_on": "2026-03-08",
        "error": "no",
        "status": "delivered",
    },
)

INVOICES = KindSpec(
    "invoices",
    (
        Column("number", parse_text(40), required=True),
        Column("customer", parse_code, required=True),
        Column("issued_on", parse_date, required=True),
        Column("due_on", parse_date, required=True),
        Column("amount", parse_money, required=True),
        Column("paid_on", parse_date),
    ),
    {
        "number": "INV-2026-000456",
        "customer": "C900001",
        "issued_on": "2026-03-08",
        "due_on": "2026-04-07",
        "amount": "12800.00",
        "paid_on": "2026-04-02",
    },
)

SURVEYS = KindSpec(
    "surveys",
    (
        Column("customer", parse_code, required=True),
        Column("answered_on", parse_date, required=True),
        Column("score", parse_choice(Survey.Score), required=True),
        Column("comment", parse_text(5000), blank=""),
    ),
    {"customer": "C900001", "answered_on": "2026-04-10", "score": "4", "comment": "交货及时，包装完好。"},
)

COMPLAINT_STATUSES = ("new", "closed")

COMPLAINTS = KindSpec(
    "complaints",
    (
        Column("number", parse_text(40), required=True),
        Column("customer", parse_code, required=True),
        Column("received_at", parse_datetime, required=True),
        Column("channel", parse_choice(Channel), blank=Channel.PHONE),
        Column("category", parse_choice(Category), blank=Category.OTHER),
        Column("severity", parse_choice(Severity), blank=Severity.MEDIUM),
        Column("description", parse_text(10000), blank=""),
        Column("status", parse_text(40), blank=""),
    ),
    {
        "number": "CP-2026-0789",
        "customer": "C900001",
        "received_at": "2026-03-10 09:30",
        "channel": "phone",
        "category": "delivery",
        "severity": "medium",
        "description": "两箱货物外包装破损。",
        "status": "new",
    },
)

KINDS: dict[str, KindSpec] = {spec.kind: spec for spec in (CUSTOMERS, ORDERS, INVOICES, SURVEYS, COMPLAINTS)}
