"""What an import did, counted (issue 14): created, updated and unchanged rows, the same in the
check (dry run) as in the import, on the ORM road and PostgreSQL's COPY road; and the change
history: a created record gets its first entry, an updated one an entry, an unchanged one none."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection

from complaints.models import Complaint, State
from crm.models import Customer, Invoice, Order, Survey
from exchange.services import import_file
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

ORDERS = "number,customer,ordered_on,revenue,cost"


def counts(report) -> tuple[int, int, int]:
    assert report.ok, report.lines()
    return report.created, report.updated, report.unchanged


def check_then_import(**kwargs):
    """The dry run's counts, then the import's: they must agree."""
    check = import_file(dry_run=True, **kwargs)
    report = import_file(**kwargs)
    assert counts(check) == counts(report)
    return counts(report)


def test_orders_reimport_counts_unchanged_and_writes_nothing(csv_file):
    CustomerFactory(code="K1")
    first = csv_file(ORDERS, "SO-1,K1,2026-01-05,10.00,5", "SO-2,K1,2026-01-06,1.10,0", name="a.csv")
    assert check_then_import(kind="orders", path=first) == (2, 0, 0)

    assert check_then_import(kind="orders", path=first) == (0, 0, 2)
    # written values read back equal: "10" is 10.00, "5" is 5.00
    same = csv_file(
        ORDERS, "SO-1,K1,2026-01-05,10,5.00", "SO-2,K1,2026-01-06,1.1,0.0", "SO-3,K1,2026-02-01,3,1", name="b.csv"
    )
    assert check_then_import(kind="orders", path=same) == (1, 0, 2)
    changed = csv_file(ORDERS, "SO-1,K1,2026-01-05,11.00,5", "SO-2,K1,2026-01-06,1.10,0", name="c.csv")
    assert check_then_import(kind="orders", path=changed) == (0, 1, 1)
    assert Order.objects.get(number="SO-1").revenue == Decimal("11.00")


def test_orders_from_xlsx_take_the_orm_road_on_every_database(xlsx_file):
    CustomerFactory(code="K1")
    rows = [["SO-1", "K1", datetime.date(2026, 1, 5), 10, 5], ["SO-2", "K1", datetime.date(2026, 1, 6), 1.1, 0]]
    path = xlsx_file(ORDERS.split(","), *rows)
    assert check_then_import(kind="orders", path=path) == (2, 0, 0)
    assert check_then_import(kind="orders", path=path) == (0, 0, 2)
    path = xlsx_file(ORDERS.split(","), rows[0], ["SO-2", "K1", datetime.date(2026, 3, 6), 1.1, 0], name="moved.xlsx")
    assert check_then_import(kind="orders", path=path) == (0, 1, 1)


@pytest.mark.postgres
def test_postgres_road_counts_from_what_the_database_wrote(csv_file):
    CustomerFactory(code="K1")
    import_file(
        kind="orders", path=csv_file(ORDERS, "SO-1,K1,2026-01-05,10.00,5", "SO-2,K1,2026-01-06,1,0", name="a.csv")
    )

    def versions():
        with connection.cursor() as cursor:
            cursor.execute("SELECT number, xmin::text FROM crm_order ORDER BY number")
            return dict(cursor.fetchall())

    before = versions()
    path = csv_file(
        ORDERS, "SO-1,K1,2026-01-05,10.00,5", "SO-2,K1,2026-01-06,2,0", "SO-3,K1,2026-01-07,3,0", name="b.csv"
    )
    assert check_then_import(kind="orders", path=path) == (1, 1, 1)
    after = versions()
    assert after["SO-1"] == before["SO-1"]  # unchanged: not written
    assert after["SO-2"] != before["SO-2"]


def test_invoices_and_surveys_count_unchanged(csv_file):
    CustomerFactory(code="K1")
    invoices = csv_file("number,customer,issued_on,due_on,amount", "INV-1,K1,2026-01-01,2026-01-31,1200", name="i.csv")
    assert check_then_import(kind="invoices", path=invoices) == (1, 0, 0)
    assert check_then_import(kind="invoices", path=invoices) == (0, 0, 1)
    surveys = csv_file(
        "customer,answered_on,score,comment", "K1,2026-04-10,4,好", "K1,2026-04-11,非常满意,", name="s.csv"
    )
    assert check_then_import(kind="surveys", path=surveys) == (2, 0, 0)
    again = csv_file("customer,answered_on,score,comment", "K1,2026-04-10,4,好", "K1,2026-04-11,3,", name="s2.csv")
    assert check_then_import(kind="surveys", path=again) == (0, 1, 1)
    assert (Invoice.objects.count(), list(Survey.objects.order_by("answered_on").values_list("score", flat=True))) == (
        1,
        [4, 3],
    )


def test_customer_history_first_entry_one_per_update_none_when_unchanged(csv_file, make_user):
    by = make_user(None, username="importer")
    header = "code,name,credit_limit,since"
    first = csv_file(header, "K1,甲,100.00,2021-01-01", "K2,乙,0,2021-01-01", name="a.csv")

    assert check_then_import(kind="customers", path=first, by=by) == (2, 0, 0)
    k1, k2 = Customer.objects.get(code="K1"), Customer.objects.get(code="K2")
    assert [(h.history_type, h.history_user) for h in k1.history.all()] == [("+", by)]
    updated_at = k2.updated_at

    # the same file again: nothing written, no history entry, updated_at as it was
    assert check_then_import(kind="customers", path=first, by=by) == (0, 0, 2)
    assert Customer.history.count() == 2
    k2.refresh_from_db()
    assert k2.updated_at == updated_at

    # one changed value: one entry for that customer only
    changed = csv_file(header, "K1,甲,100,2021-01-01", "K2,乙,5000,2021-01-01", name="b.csv")
    assert check_then_import(kind="customers", path=changed, by=by) == (0, 1, 1)
    assert [h.history_type for h in k1.history.all()] == ["+"]
    assert [(h.history_type, h.credit_limit) for h in k2.history.order_by("history_id")] == [
        ("+", Decimal("0.00")),
        ("~", Decimal("5000.00")),
    ]


def test_a_referral_to_a_customer_later_in_the_file_is_in_the_first_history_entry(csv_file):
    report = import_file(kind="customers", path=csv_file("code,name,referred_by", "K1,甲,K2", "K2,乙,"))

    assert counts(report) == (2, 0, 0)
    first = Customer.objects.get(code="K1")
    assert [entry.referred_by_id for entry in first.history.all()] == [Customer.objects.get(code="K2").pk]


COMPLAINTS = "number,customer,received_at,channel,category,severity,description,status"


def test_complaints_count_unchanged_and_get_one_history_entry_each(csv_file, executive_user):
    CustomerFactory(code="K1")
    path = csv_file(
        COMPLAINTS,
        "CP-1,K1,2026-03-10 09:30,phone,delivery,low,Late,new",
        "CP-2,K1,2026-03-11,email,billing,low,,closed",
        name="a.csv",
    )

    assert check_then_import(kind="complaints", path=path, by=executive_user) == (2, 0, 0)
    closed = Complaint.objects.get(number="CP-2")
    # created closed: one entry, saying so
    assert [(h.history_type, h.state) for h in closed.history.all()] == [("+", State.CLOSED)]

    assert check_then_import(kind="complaints", path=path, by=executive_user) == (0, 0, 2)
    assert Complaint.history.count() == 2

    changed = csv_file(
        COMPLAINTS,
        "CP-1,K1,2026-03-10 09:30,web,delivery,low,Late,Closed",
        "CP-2,K1,2026-03-11,email,billing,low,,已关闭",
        name="b.csv",
    )
    assert check_then_import(kind="complaints", path=changed, by=executive_user) == (0, 1, 1)
    first = Complaint.objects.get(number="CP-1")
    assert (first.channel, first.state) == ("web", State.CLOSED)
    assert [(h.history_type, h.channel, h.state) for h in first.history.order_by("history_id")] == [
        ("+", "phone", State.NEW),
        ("~", "web", State.CLOSED),
    ]
