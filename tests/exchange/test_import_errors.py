"""Every reason a row or a file is refused, with its exact message; the killed import; the command."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import translation

from analytics.models import CustomerMonth
from crm.models import Customer, Order, Region
from exchange import importers, orders_pg
from exchange.services import import_file
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

ORDERS = "number,customer,ordered_on,revenue,cost,service_cost,quantity,promised_on,delivered_on,error,status"
GOOD_ORDER = {
    "number": "SO-1",
    "customer": "K1",
    "ordered_on": "2026-01-05",
    "revenue": "10.00",
    "cost": "5.00",
    "service_cost": "",
    "quantity": "",
    "promised_on": "",
    "delivered_on": "",
    "error": "",
    "status": "",
}


def order_line(**changes) -> str:
    return ",".join({**GOOD_ORDER, **changes}.values())


@pytest.mark.parametrize(
    ("changes", "column", "value", "message"),
    [
        ({"ordered_on": ""}, "ordered_on", "", "Missing required value."),
        ({"number": ""}, "number", "", "Missing required value."),
        ({"ordered_on": "05/01/2026"}, "ordered_on", "05/01/2026", "Not a date: write YYYY-MM-DD."),
        ({"delivered_on": "2026-02-29"}, "delivered_on", "2026-02-29", "Not a date: write YYYY-MM-DD."),
        ({"revenue": '"12,5"'}, "revenue", "12,5", "Not a number: write digits with “.” for decimals, e.g. 1234.50."),
        ({"cost": "abc"}, "cost", "abc", "Not a number: write digits with “.” for decimals, e.g. 1234.50."),
        ({"revenue": "-3.00"}, "revenue", "-3.00", "Negative amount: amounts are zero or more."),
        ({"service_cost": "-0.01"}, "service_cost", "-0.01", "Negative amount: amounts are zero or more."),
        ({"revenue": "1.005"}, "revenue", "1.005", "More than two decimal places."),
        ({"revenue": "1000000000000"}, "revenue", "1000000000000", "The number is too large."),
        ({"quantity": "2.5"}, "quantity", "2.5", "Not a whole number."),
        ({"quantity": "-1"}, "quantity", "-1", "Must be between 0 and 2147483647."),
        ({"error": "maybe"}, "error", "maybe", "Not yes or no: use yes/no, true/false or 1/0."),
        ({"status": "shipped"}, "status", "shipped", "Unknown value: use one of open, delivered, cancelled, returned."),
        ({"customer": "NOPE"}, "customer", "NOPE", "Unknown customer code."),
    ],
)
def test_each_order_cell_reason_has_its_message(csv_file, changes, column, value, message):
    CustomerFactory(code="K1")
    path = csv_file(ORDERS, order_line(number="SO-0"), order_line(**changes))

    report = import_file(kind="orders", path=path)

    assert [(p.line, p.column, p.value, p.message()) for p in report.problems] == [(3, column, value, message)]
    assert Order.objects.count() == 0


def test_a_row_with_more_cells_than_the_header(csv_file):
    CustomerFactory(code="K1")
    path = csv_file(
        "number,customer,ordered_on,revenue,cost", "SO-1,K1,2026-01-05,10.00,5,50", "SO-2,K1,2026-01-05,10,5,,"
    )

    report = import_file(kind="orders", path=path)

    assert [(p.line, p.column, p.value, p.message()) for p in report.problems] == [
        (2, "", "50", "The row has 6 cells but the header has 5: is a comma inside a value unquoted?")
    ]  # blank extra cells (trailing commas) are harmless
    assert Order.objects.count() == 0


def test_duplicate_key_in_the_file(csv_file):
    CustomerFactory(code="K1")
    path = csv_file(ORDERS, order_line(number="SO-7"), order_line(number="SO-8"), order_line(number="SO-7"))

    report = import_file(kind="orders", path=path)

    assert [(p.line, p.column, p.value, p.message()) for p in report.problems] == [
        (4, "number", "SO-7", "Duplicate key in the file: the same number “SO-7” is on line 2.")
    ]


def test_survey_duplicate_key_is_customer_and_date(csv_file):
    CustomerFactory(code="K1")
    path = csv_file("customer,answered_on,score", "K1,2026-01-01,3", "K1,2026-01-02,3", "K1,2026-01-01,4")

    report = import_file(kind="surveys", path=path)

    assert [p.message() for p in report.problems] == [
        "Duplicate key in the file: the same customer “K1”, answered_on “2026-01-01” is on line 2."
    ]


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("K1,甲,,2020-01-01,,", ("owner", "ghost", "Unknown user name.")),
        ("K1,甲,,,,K1", ("referred_by", "K1", "A customer cannot refer itself.")),
        ("K1,甲,,,,K404", ("referred_by", "K404", "Unknown customer code.")),
        ("K1,甲,,,,,x@", ("email", "x@", "Not an email address.")),
        ("K1,甲,,,,,,9", ("growth_potential", "9", "Must be between 1 and 5.")),
        ("K1,甲,,,,,,,-5", ("credit_limit", "-5", "Negative amount: amounts are zero or more.")),
        ("K1,甲,,,,,,,,yes please", ("strategic", "yes please", "Not yes or no: use yes/no, true/false or 1/0.")),
        ("K1," + "名" * 201, ("name", "名" * 201, "Longer than 200 characters.")),
    ],
)
def test_customer_reasons(csv_file, row, problem):
    header = "code,name,status,since,owner,referred_by,email,growth_potential,credit_limit,strategic"
    if problem[1] == "ghost":
        row = "K1,甲,,2020-01-01,ghost,"
    report = import_file(kind="customers", path=csv_file(header, row))

    assert [(p.line, p.column, p.value, p.message()) for p in report.problems] == [(2, *problem)]
    assert Customer.objects.count() == 0


@pytest.mark.parametrize(
    ("row", "problems"),
    [
        (
            "K1,甲,churned,,",
            [
                ("churned_on", "A churned customer needs the date it left."),
                ("churn_reason", "A churned customer needs a churn reason."),
            ],
        ),
        ("K1,甲,active,2025-01-01,price", [("status", "Only a churned customer has a churn date or reason.")]),
        (
            "K1,甲,churned,2019-01-01,price",
            [("churned_on", "The churn date cannot be before the customer-since date.")],
        ),
        (
            "K1,甲,churned,2025-01-01,bored",
            [
                (
                    "churn_reason",
                    "Unknown value: use one of price, quality, service, delivery, competitor, business_closed, other.",
                )
            ],
        ),
    ],
)
def test_customer_churn_rules(csv_file, row, problems):
    report = import_file(
        kind="customers", path=csv_file("code,name,status,churned_on,churn_reason,since", row + ",2020-01-01")
    )

    assert sorted((p.column, p.message()) for p in report.problems) == sorted(problems)


def test_referral_to_a_customer_later_in_the_file_is_fine(csv_file):
    report = import_file(kind="customers", path=csv_file("code,name,referred_by", "K1,甲,K2", "K2,乙,K1"))

    assert report.ok
    assert Customer.objects.get(code="K1").referred_by.code == "K2"
    assert Customer.objects.get(code="K2").referred_by.code == "K1"


def test_chinese_labels_are_accepted_for_choices(csv_file):
    report = import_file(kind="customers", path=csv_file("code,name,kind,status,strategic", "K1,甲,个人,活跃,是"))

    assert report.ok, report.lines()
    customer = Customer.objects.get()
    assert (customer.kind, customer.status, customer.strategic) == ("individual", "active", True)


# the file as a whole ---------------------------------------------------------------------------


def file_error(report) -> str:
    assert report.file_error is not None and report.problem_count == 0
    return report.file_error.message()


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert file_error(import_file(kind="orders", path=str(path))) == "The file is empty."
    path.write_bytes(b"\xef\xbb\xbf\r\n")
    assert file_error(import_file(kind="orders", path=str(path))) == "The file is empty."


def test_header_without_rows(csv_file):
    assert file_error(import_file(kind="orders", path=csv_file(ORDERS))) == "The file has a header but no rows."


def test_wrong_header_says_which_columns(csv_file):
    report = import_file(kind="orders", path=csv_file("number,client,ordered_on,revenue", "SO-1,K1,2026-01-01,1"))
    assert file_error(report) == "Wrong header: required columns missing: customer, cost."

    report = import_file(
        kind="invoices",
        path=csv_file("number,customer,issued_on,due_on,amount,colour", "I,K,2026-01-01,2026-01-01,1,red"),
    )
    assert file_error(report) == (
        "Wrong header: unknown columns: colour. The columns are: number, customer, issued_on, due_on, amount, paid_on."
    )
    report = import_file(kind="surveys", path=csv_file("customer,answered_on,score,score", "K,2026-01-01,1,1"))
    assert file_error(report) == "Wrong header: columns given twice: score."


def test_a_header_cell_without_a_name_is_named_in_the_readers_language(csv_file):
    report = import_file(kind="surveys", path=csv_file("customer,answered_on,score,,colour", "K,2026-01-01,1,,red"))
    assert file_error(report) == (
        "Wrong header: unknown columns: (blank), colour. The columns are: customer, answered_on, score, comment."
    )
    with translation.override("zh-hans"):
        assert "（空白）, colour" in file_error(report)  # the same kept report, read in Chinese


def test_unknown_kind(csv_file):
    assert file_error(import_file(kind="products", path=csv_file("a", "b"))) == (
        "Unknown kind “products”: use one of customers, orders, invoices, surveys, complaints."
    )


def test_not_csv_or_xlsx(tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4 ...")
    assert file_error(import_file(kind="orders", path=str(pdf))) == "“report.pdf” is not a CSV or XLSX file."
    binary = tmp_path / "orders.csv"
    binary.write_bytes(b"\x00\x01\x02 not text")
    assert file_error(import_file(kind="orders", path=str(binary))) == "“orders.csv” is not a CSV or XLSX file."
    fake = tmp_path / "orders.xlsx"
    fake.write_text("number,customer\n")
    assert (
        file_error(import_file(kind="orders", path=str(fake))) == "“orders.xlsx” could not be read as an XLSX workbook."
    )


def test_file_over_the_size_cap(csv_file, settings):
    settings.IMPORT_MAX_BYTES = 100
    path = csv_file(ORDERS, order_line())
    size = len(open(path, "rb").read())
    assert file_error(import_file(kind="orders", path=path)) == f"The file is {size} bytes; the limit is 100 bytes."


# the killed import -----------------------------------------------------------------------------


def test_import_killed_halfway_leaves_the_database_unchanged(csv_file, settings, monkeypatch):
    """Batches of two (SQLite): the first batch is written, then the second one dies; PostgreSQL:
    the upsert is done and the totals rebuild dies. All of it rolls back, monthly totals included."""
    settings.IMPORT_BATCH_SIZE = 2
    CustomerFactory(code="K1")
    import_file(
        kind="orders",
        path=csv_file("number,customer,ordered_on,revenue,cost", "SO-1,K1,2026-01-05,100,50", name="a.csv"),
    )
    before_orders = list(Order.objects.values_list("number", "revenue", "ordered_on"))
    before_months = list(CustomerMonth.objects.values_list("customer_id", "month", "revenue", "orders"))
    assert before_months == [(Customer.objects.get().pk, datetime.date(2026, 1, 1), Decimal("100.00"), 1)]

    calls = []

    def orders_written_so_far():
        return list(Order.objects.order_by("number").values_list("number", "revenue"))

    if connection.vendor == "postgresql":
        # One upsert writes every order; it dies while the monthly totals are rebuilt.
        def dying_rebuild(**kwargs):
            calls.append(orders_written_so_far())
            raise RuntimeError("killed")

        monkeypatch.setattr(orders_pg, "monthly_totals_rebuild_pairs", dying_rebuild)
        expected_calls = [
            [
                ("SO-1", Decimal("999.00")),
                ("SO-2", Decimal("10.00")),
                ("SO-3", Decimal("10.00")),
                ("SO-4", Decimal("10.00")),
            ]
        ]
    else:
        real_write = importers.OrderImporter.write_batch

        def dying_write(self, rows):
            calls.append(orders_written_so_far())
            if len(calls) == 2:
                raise RuntimeError("killed")
            return real_write(self, rows)

        monkeypatch.setattr(importers.OrderImporter, "write_batch", dying_write)
        # before the first batch: as it was; before the second: SO-1 updated, SO-2 new
        expected_calls = [[("SO-1", Decimal("100.00"))], [("SO-1", Decimal("999.00")), ("SO-2", Decimal("10.00"))]]
    path = csv_file(
        "number,customer,ordered_on,revenue,cost",
        "SO-1,K1,2026-02-05,999,50",
        "SO-2,K1,2026-01-06,10,5",
        "SO-3,K1,2026-01-07,10,5",
        "SO-4,K1,2026-03-07,10,5",
        name="b.csv",
    )

    with pytest.raises(RuntimeError, match="killed"):
        import_file(kind="orders", path=path)

    assert calls == expected_calls
    assert list(Order.objects.values_list("number", "revenue", "ordered_on")) == before_orders
    assert list(CustomerMonth.objects.values_list("customer_id", "month", "revenue", "orders")) == before_months


def test_customer_import_killed_halfway_keeps_no_customer_nor_history(csv_file, settings, monkeypatch):
    settings.IMPORT_BATCH_SIZE = 1
    real_write = importers.CustomerImporter.write_batch
    calls = []

    def dying_write(self, rows):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("killed")
        return real_write(self, rows)

    monkeypatch.setattr(importers.CustomerImporter, "write_batch", dying_write)
    with pytest.raises(RuntimeError):
        import_file(
            kind="customers", path=csv_file("code,name,region", "K1,甲,华东", "K2,乙,华北"), create_new_values=True
        )

    assert calls == [1, 1]  # the first batch created both new regions and a customer, then all rolled back
    assert Customer.objects.count() == 0 and Customer.history.count() == 0 and Region.objects.count() == 0


# the command -----------------------------------------------------------------------------------


def test_command_imports_and_prints_a_summary(csv_file, capsys):
    CustomerFactory(code="K1")
    path = csv_file(ORDERS, order_line(), order_line(number="SO-2"))

    call_command("import_data", "orders", path, "--no-analysis")

    out = capsys.readouterr().out
    assert "2 rows of orders (csv, utf-8): created 2, updated 0, unchanged 0" in out
    assert Order.objects.count() == 2


def test_command_bad_file_lists_rows_and_exits_non_zero(csv_file, capsys):
    CustomerFactory(code="K1")
    path = csv_file(
        ORDERS, order_line(), order_line(number="SO-2", revenue="-1"), order_line(number="SO-3", customer="K9")
    )

    with pytest.raises(CommandError) as raised:
        call_command("import_data", "orders", path)

    assert raised.value.returncode == 1
    assert str(raised.value) == "Nothing was imported: 2 problem(s) in 3 rows read."
    assert capsys.readouterr().out.splitlines() == [
        "line 3, column revenue, value “-1”: Negative amount: amounts are zero or more.",
        "line 4, column customer, value “K9”: Unknown customer code.",
    ]
    assert Order.objects.count() == 0


def test_command_dry_run_writes_nothing(csv_file, capsys):
    CustomerFactory(code="K1")
    call_command("import_data", "orders", csv_file(ORDERS, order_line()), "--dry-run")

    assert "Dry run, nothing written: 1 rows of orders" in capsys.readouterr().out
    assert Order.objects.count() == 0


def test_command_unknown_kind_exits_non_zero(csv_file, capsys):
    with pytest.raises(CommandError) as raised:
        call_command("import_data", "products", csv_file("a", "b"))

    assert (raised.value.returncode, str(raised.value)) == (1, "Nothing was imported.")
    assert capsys.readouterr().out.splitlines() == [
        "Unknown kind “products”: use one of customers, orders, invoices, surveys, complaints."
    ]


def test_command_starts_an_analysis_run(csv_file):
    from analytics.models import AnalysisRun

    CustomerFactory(code="K1")
    call_command("import_data", "orders", csv_file(ORDERS, order_line()))

    assert list(AnalysisRun.objects.values_list("trigger", flat=True)) == ["import"]


def test_users_are_resolved_by_user_name(csv_file):
    user = UserFactory(username="zhang.san")
    report = import_file(kind="customers", path=csv_file("code,name,owner", "K1,甲,zhang.san"))
    assert report.ok and Customer.objects.get().owner == user
