"""Each kind: a good file imports exactly, one bad row imports nothing, re-import updates,
Chinese names survive GBK and BOM files, XLSX reads like CSV."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from analytics.models import CustomerMonth
from complaints.models import Complaint, ComplaintTransition, State
from crm.models import Customer, Industry, Invoice, Order, Region, Survey
from exchange.services import import_file
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CUSTOMER_HEADER = (
    "code,name,kind,industry,region,owner,status,since,churned_on,churn_reason,credit_terms,credit_limit,"
    "strategic,growth_potential,value_orientation,referred_by,email,phone"
)


def problems(report):
    return [(p.line, p.column, p.value, p.message()) for p in report.sorted_problems()]


def months():
    return {
        (m.customer.code, m.month.isoformat()): (
            m.revenue,
            m.cost,
            m.service_cost,
            m.orders,
            m.error_orders,
            m.dated_deliveries,
            m.on_time_deliveries,
        )
        for m in CustomerMonth.objects.select_related("customer")
    }


# customers -------------------------------------------------------------------------------------


def test_customers_good_file_imports_exactly(csv_file, make_user):
    owner = make_user(None, username="li.wei")
    path = csv_file(
        CUSTOMER_HEADER,
        "K001,上海华东贸易有限公司,company,Retail,华东 East China,li.wei,active,2021-03-15,,,credit,50000.00,yes,4,"
        "performance,K002,buyer@example.com,021-5555 0101",
        "K002,王小明,individual,,,,churned,2020-01-01,2025-06-30,price,,,no,,,,,",
    )

    report = import_file(kind="customers", path=path, by=owner, create_new_values=True)

    assert report.ok and (report.rows, report.created, report.updated) == (2, 2, 0)
    assert [(v.column, v.value, v.lines) for v in report.new_values] == [
        ("industry", "Retail", [2]),
        ("region", "华东 East China", [2]),
    ]
    first, second = Customer.objects.get(code="K001"), Customer.objects.get(code="K002")
    assert (first.name, first.kind, first.industry.name, first.region.name, first.owner) == (
        "上海华东贸易有限公司",
        "company",
        "Retail",
        "华东 East China",
        owner,
    )
    assert (first.status, first.since, first.credit_terms, first.credit_limit, first.strategic) == (
        "active",
        datetime.date(2021, 3, 15),
        "credit",
        Decimal("50000.00"),
        True,
    )
    assert (first.growth_potential, first.value_orientation, first.referred_by, first.email, first.phone) == (
        4,
        "performance",
        second,
        "buyer@example.com",
        "021-5555 0101",
    )
    assert (second.name, second.kind, second.status, second.churned_on, second.churn_reason) == (
        "王小明",
        "individual",
        "churned",
        datetime.date(2025, 6, 30),
        "price",
    )
    assert (second.industry, second.region, second.owner, second.credit_terms, second.credit_limit) == (
        None,
        None,
        None,
        "prepaid",
        Decimal("0.00"),
    )
    assert (second.strategic, second.growth_potential, second.value_orientation) == (False, 3, "")
    # the change history has the creation, by the importing user
    assert [(h.history_type, h.history_user) for h in first.history.all()] == [("+", owner)]


def test_customers_reimport_updates_and_keeps_history(csv_file):
    CustomerFactory(code="K001", name="Old name", credit_limit=Decimal("10.00"), growth_potential=2)

    report = import_file(kind="customers", path=csv_file("code,name,credit_limit", "K001,新名字,2500.50"))

    assert report.ok and (report.created, report.updated) == (0, 1)
    customer = Customer.objects.get(code="K001")
    # only the columns in the file change
    assert (customer.name, customer.credit_limit, customer.growth_potential) == ("新名字", Decimal("2500.50"), 2)
    assert [h.name for h in customer.history.order_by("history_date")] == ["Old name", "新名字"]
    assert Customer.objects.count() == 1


def test_customers_one_bad_row_imports_nothing(csv_file):
    path = csv_file("code,name,since", "K001,甲,2021-01-01", "K002,乙,2021-02-30", "K003,丙,2021-03-01")

    report = import_file(kind="customers", path=path)

    assert not report.ok
    assert problems(report) == [(3, "since", "2021-02-30", "Not a date: write YYYY-MM-DD.")]
    assert Customer.objects.count() == 0 and Region.objects.count() == 0 and Industry.objects.count() == 0


@pytest.mark.parametrize(("encoding", "bom"), [("gbk", False), ("gb18030", False), ("utf-8", True), ("utf-8", False)])
def test_customers_chinese_names_survive_every_encoding(csv_file, encoding, bom):
    path = csv_file("code,name,region", "K001,深圳市龙华区电子有限公司,华南", encoding=encoding, bom=bom)

    report = import_file(kind="customers", path=path, create_new_values=True)

    assert report.ok, report.lines()
    assert report.encoding == {"gbk": "gb18030", "gb18030": "gb18030"}.get(encoding, "utf-8-sig" if bom else "utf-8")
    customer = Customer.objects.get()
    assert (customer.code, customer.name, customer.region.name) == ("K001", "深圳市龙华区电子有限公司", "华南")


def test_customers_from_xlsx(xlsx_file):
    path = xlsx_file(
        ["code", "name", "since", "credit_limit", "growth_potential", "strategic"],
        [1001, "杭州西湖茶业", datetime.datetime(2022, 5, 1), 1234.5, 5, True],
        ["K2", "Plain text", "2023-01-31", "0", "1", "no"],
    )

    report = import_file(kind="customers", path=path)

    assert report.ok, report.lines()
    assert report.file_format == "xlsx"
    first, second = Customer.objects.get(code="1001"), Customer.objects.get(code="K2")
    assert (first.name, first.since, first.credit_limit, first.growth_potential, first.strategic) == (
        "杭州西湖茶业",
        datetime.date(2022, 5, 1),
        Decimal("1234.50"),
        5,
        True,
    )
    assert (second.since, second.credit_limit, second.growth_potential, second.strategic) == (
        datetime.date(2023, 1, 31),
        Decimal("0.00"),
        1,
        False,
    )


def test_xlsx_bad_row_reports_its_line(xlsx_file):
    CustomerFactory(code="K1")
    path = xlsx_file(
        ["number", "customer", "ordered_on", "revenue", "cost"],
        ["A1", "K1", datetime.date(2026, 1, 2), 10, 5],
        [None, None, None, None, None],  # blank rows are skipped but keep their line
        ["A2", "K1", "yesterday", 10, 5],
    )

    report = import_file(kind="orders", path=path)

    assert problems(report) == [(4, "ordered_on", "yesterday", "Not a date: write YYYY-MM-DD.")]
    assert Order.objects.count() == 0


# orders ----------------------------------------------------------------------------------------

ORDER_HEADER = "number,customer,ordered_on,revenue,cost,service_cost,quantity,promised_on,delivered_on,error,status"


def test_orders_good_file_imports_exactly_with_monthly_totals(csv_file):
    CustomerFactory(code="K1"), CustomerFactory(code="K2")
    path = csv_file(
        ORDER_HEADER,
        "SO-1,K1,2026-01-05,1000.50,600.25,20.00,3,2026-01-10,2026-01-09,no,delivered",
        "SO-2,K1,2026-01-28,200.00,150.00,,,2026-01-30,2026-02-02,yes,open",
        "SO-3,K1,2026-02-01,999.99,1.00,0,1,,,0,cancelled",
        "SO-4,K2,2026-02-14,50.10,40.00,5.05,10,,,false,",
    )

    report = import_file(kind="orders", path=path)

    assert report.ok, report.lines()
    assert (report.rows, report.created, report.updated) == (4, 4, 0)
    first = Order.objects.get(number="SO-1")
    assert (first.customer.code, first.ordered_on, first.revenue, first.cost, first.service_cost, first.quantity) == (
        "K1",
        datetime.date(2026, 1, 5),
        Decimal("1000.50"),
        Decimal("600.25"),
        Decimal("20.00"),
        3,
    )
    assert (first.promised_on, first.delivered_on, first.entry_error, first.status) == (
        datetime.date(2026, 1, 10),
        datetime.date(2026, 1, 9),
        False,
        "delivered",
    )
    second = Order.objects.get(number="SO-2")
    assert (second.service_cost, second.quantity, second.entry_error, second.status) == (
        Decimal("0.00"),
        1,
        True,
        "open",
    )
    assert Order.objects.get(number="SO-4").status == "delivered"  # blank status: the default
    # by hand: K1 January = SO-1 + SO-2; SO-3 is cancelled, so K1 has no February row
    assert months() == {
        ("K1", "2026-01-01"): (Decimal("1200.50"), Decimal("750.25"), Decimal("20.00"), 2, 1, 2, 1),
        ("K2", "2026-02-01"): (Decimal("50.10"), Decimal("40.00"), Decimal("5.05"), 1, 0, 0, 0),
    }


def test_orders_reimport_updates_and_moves_monthly_totals(csv_file):
    CustomerFactory(code="K1"), CustomerFactory(code="K2")
    import_file(
        kind="orders",
        path=csv_file(
            "number,customer,ordered_on,revenue,cost",
            "SO-1,K1,2026-01-05,100.00,60.00",
            "SO-2,K1,2026-01-20,50.00,10.00",
            name="first.csv",
        ),
    )
    assert months() == {("K1", "2026-01-01"): (Decimal("150.00"), Decimal("70.00"), Decimal("0.00"), 2, 0, 0, 0)}

    # SO-1 moves to K2 in March with a new revenue; SO-2 changes its amounts; SO-3 is new.
    report = import_file(
        kind="orders",
        path=csv_file(
            "number,customer,ordered_on,revenue,cost,service_cost",
            "SO-1,K2,2026-03-03,80.00,30.00,1.50",
            "SO-2,K1,2026-01-20,75.25,20.00,0",
            "SO-3,K1,2026-01-31,4.75,1.00,0",
            name="second.csv",
        ),
    )

    assert report.ok and (report.created, report.updated) == (1, 2)
    assert Order.objects.count() == 3
    assert months() == {
        ("K1", "2026-01-01"): (Decimal("80.00"), Decimal("21.00"), Decimal("0.00"), 2, 0, 0, 0),
        ("K2", "2026-03-01"): (Decimal("80.00"), Decimal("30.00"), Decimal("1.50"), 1, 0, 0, 0),
    }


def test_orders_one_bad_row_imports_nothing(csv_file):
    CustomerFactory(code="K1")
    path = csv_file(
        "number,customer,ordered_on,revenue,cost",
        "SO-1,K1,2026-01-05,10,5",
        "SO-2,K9,2026-01-06,10,5",
        "SO-3,K1,2026-01-07,10,5",
    )

    report = import_file(kind="orders", path=path)

    assert problems(report) == [(3, "customer", "K9", "Unknown customer code.")]
    assert Order.objects.count() == 0 and CustomerMonth.objects.count() == 0


# invoices --------------------------------------------------------------------------------------


def test_invoices_good_file_reimport_and_bad_row(csv_file):
    CustomerFactory(code="K1")
    header = "number,customer,issued_on,due_on,amount,paid_on"
    report = import_file(
        kind="invoices",
        path=csv_file(
            header, "INV-1,K1,2026-01-01,2026-01-31,1200.00,2026-01-30", "INV-2,K1,2026-02-01,2026-03-02,99.99,"
        ),
    )
    assert report.ok and report.created == 2
    first = Invoice.objects.get(number="INV-1")
    assert (first.customer.code, first.issued_on, first.due_on, first.amount, first.paid_on) == (
        "K1",
        datetime.date(2026, 1, 1),
        datetime.date(2026, 1, 31),
        Decimal("1200.00"),
        datetime.date(2026, 1, 30),
    )
    assert Invoice.objects.get(number="INV-2").paid_on is None

    report = import_file(
        kind="invoices", path=csv_file(header, "INV-2,K1,2026-02-01,2026-03-02,99.99,2026-03-05", name="paid.csv")
    )
    assert report.ok and (report.created, report.updated) == (0, 1)
    assert Invoice.objects.get(number="INV-2").paid_on == datetime.date(2026, 3, 5)

    report = import_file(
        kind="invoices",
        path=csv_file(
            header, "INV-3,K1,2026-02-01,2026-03-02,10,", "INV-4,K1,2026-02-01,2026-01-02,10,", name="bad.csv"
        ),
    )
    assert problems(report) == [(3, "due_on", "2026-01-02", "The due date is before the issue date.")]
    assert Invoice.objects.count() == 2


# surveys ---------------------------------------------------------------------------------------


def test_surveys_good_file_reimport_and_bad_row(csv_file):
    CustomerFactory(code="K1")
    header = "customer,answered_on,score,comment"
    report = import_file(
        kind="surveys", path=csv_file(header, "K1,2026-04-10,4,交货及时", "K1,2026-05-10,非常满意,"), by=None
    )
    # the score may be given as 1-5 or by its label (English or Chinese)
    assert report.ok, report.lines()
    assert list(Survey.objects.order_by("answered_on").values_list("answered_on", "score", "comment")) == [
        (datetime.date(2026, 4, 10), 4, "交货及时"),
        (datetime.date(2026, 5, 10), 5, ""),
    ]

    report = import_file(kind="surveys", path=csv_file(header, "K1,2026-04-10,2,包装破损", name="again.csv"))
    assert report.ok and (report.created, report.updated) == (0, 1)
    assert Survey.objects.get(answered_on=datetime.date(2026, 4, 10)).score == 2

    report = import_file(kind="surveys", path=csv_file(header, "K1,2026-06-01,3,", "K1,2026-06-02,6,", name="bad.csv"))
    assert problems(report) == [(3, "score", "6", "Unknown value: use one of 1, 2, 3, 4, 5.")]
    assert Survey.objects.count() == 2


# complaints ------------------------------------------------------------------------------------

COMPLAINT_HEADER = "number,customer,received_at,channel,category,severity,description,status"


def test_complaints_new_and_closed_go_through_the_services(csv_file, executive_user):
    CustomerFactory(code="K1")
    path = csv_file(
        COMPLAINT_HEADER,
        "CP-1,K1,2026-03-10 09:30,phone,delivery,high,两箱货物外包装破损。,new",
        "CP-2,K1,2025-11-02,email,billing,low,,closed",
    )

    report = import_file(kind="complaints", path=path, by=executive_user, name="history.csv")

    assert report.ok, report.lines()
    first, second = Complaint.objects.get(number="CP-1"), Complaint.objects.get(number="CP-2")
    received = timezone.make_aware(datetime.datetime(2026, 3, 10, 9, 30))
    assert (first.customer.code, first.received_at, first.channel, first.category, first.severity) == (
        "K1",
        received,
        "phone",
        "delivery",
        "high",
    )
    assert (first.description, first.state, first.created_by) == ("两箱货物外包装破损。", State.NEW, executive_user)
    # SLA due times from the severity's targets (high: 8 h first response, 48 h resolution)
    assert (first.first_response_due_at, first.resolution_due_at) == (
        received + datetime.timedelta(hours=8),
        received + datetime.timedelta(hours=48),
    )
    assert first.transitions.count() == 0
    assert (second.state, second.description, second.resolved_at) == (
        State.CLOSED,
        "Imported without a description.",
        None,
    )
    log = ComplaintTransition.objects.get(complaint=second)
    assert (log.from_state, log.to_state, log.by) == (State.NEW, State.CLOSED, executive_user)
    assert "Imported as closed from “history.csv”" in log.note


def test_complaints_reimport_updates_but_never_moves_the_state_backwards(csv_file):
    CustomerFactory(code="K1")
    import_file(
        kind="complaints",
        path=csv_file(COMPLAINT_HEADER, "CP-1,K1,2026-03-10 09:30,phone,delivery,low,Late,new", name="a.csv"),
    )
    complaint = Complaint.objects.get()
    Complaint.objects.filter(pk=complaint.pk).update(state=State.INVESTIGATING)

    report = import_file(
        kind="complaints",
        path=csv_file(COMPLAINT_HEADER, "CP-1,K1,2026-03-10 09:30,web,delivery,critical,Very late,", name="b.csv"),
    )
    assert report.ok and report.updated == 1
    complaint.refresh_from_db()
    assert (complaint.channel, complaint.severity, complaint.description, complaint.state) == (
        "web",
        "critical",
        "Very late",
        State.INVESTIGATING,
    )
    # critical: resolution within 24 h of receipt
    assert complaint.resolution_due_at == complaint.received_at + datetime.timedelta(hours=24)

    report = import_file(
        kind="complaints",
        path=csv_file(COMPLAINT_HEADER, "CP-1,K1,2026-03-10 09:30,web,delivery,critical,Very late,new", name="c.csv"),
    )
    assert problems(report) == [
        (
            2,
            "status",
            "new",
            "This complaint is already “Investigating”; an import cannot move it to “New”. Use the complaint workflow.",
        )
    ]
    # the report keeps the state codes: a reader in Chinese sees the states in Chinese
    with translation.override("zh-hans"):
        assert [problem.message() for problem in report.problems] == [
            "该投诉已处于“调查中”状态，导入不能将其改为“新建”。请使用投诉处理流程。"
        ]


def test_complaints_one_bad_row_imports_nothing(csv_file):
    CustomerFactory(code="K1")
    path = csv_file(
        COMPLAINT_HEADER, "CP-1,K1,2026-03-10,phone,delivery,low,a,new", "CP-2,K1,2026-03-11,fax,delivery,low,b,new"
    )

    report = import_file(kind="complaints", path=path)

    assert problems(report) == [(3, "channel", "fax", "Unknown value: use one of phone, email, visit, web, other.")]
    assert Complaint.objects.count() == 0


def test_complaint_status_other_than_new_or_closed_is_refused(csv_file):
    CustomerFactory(code="K1")
    path = csv_file(
        COMPLAINT_HEADER,
        "CP-1,K1,2026-03-10,phone,delivery,low,a,resolved",
        "CP-2,K1,2026-03-10,phone,delivery,low,a,pending",
    )

    report = import_file(kind="complaints", path=path)

    assert problems(report) == [
        (
            2,
            "status",
            "resolved",
            "An import creates complaints as new or records them as closed; other states are reached "
            "only through the complaint workflow.",
        ),
        (3, "status", "pending", "Unknown value: use one of new, closed."),
    ]
    assert Complaint.objects.count() == 0


def test_dry_run_writes_nothing_and_counts(csv_file):
    CustomerFactory(code="K1")
    import_file(
        kind="orders", path=csv_file("number,customer,ordered_on,revenue,cost", "SO-1,K1,2026-01-05,1,1", name="a.csv")
    )
    path = csv_file(
        "number,customer,ordered_on,revenue,cost", "SO-1,K1,2026-01-05,2,1", "SO-2,K1,2026-01-06,2,1", name="b.csv"
    )

    report = import_file(kind="orders", path=path, dry_run=True)

    assert report.ok and not report.written and (report.rows, report.created, report.updated) == (2, 1, 1)
    assert list(Order.objects.values_list("number", "revenue")) == [("SO-1", Decimal("1.00"))]


def test_new_customers_join_the_published_run_as_prospects(csv_file):
    """Lists join customers to the published run's results; bulk-created ones get their row too."""
    from analytics.models import AnalysisRun, CustomerResult, Tier
    from analytics.services.runs import run_compute, run_request

    CustomerFactory(code="OLD")
    run, _created = run_request(trigger=AnalysisRun.Trigger.COMMAND, as_of=datetime.date(2026, 6, 30), enqueue=False)
    run_compute(run_id=run.pk)

    report = import_file(kind="customers", path=csv_file("code,name", "NEW1,新客户甲", "NEW2,新客户乙"))

    assert report.ok
    assert sorted(CustomerResult.objects.filter(run=run).values_list("customer__code", "tier")) == [
        ("NEW1", Tier.P),
        ("NEW2", Tier.P),
        ("OLD", Tier.P),
    ]
