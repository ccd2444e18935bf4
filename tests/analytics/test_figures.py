"""Every per-customer and company figure of DESIGN section 5, through a real run, against hand-computed literals.

Each data set is small and dated by hand; the arithmetic is in the comments. Where DESIGN leaves a
definition open (ARPU's active customers, revenue lost, overdue amount, dormant/churned), the engine's
documented definition (analytics/services/core.py) is tested and the comment says so.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest

from analytics.models import AnalysisRun, CostModel
from analytics.services.runs import run_compute, run_request
from complaints.models import State
from complaints.workflow import complaint_transition
from crm.models import Customer, Order
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    InvoiceFactory,
    OrderFactory,
    SurveyFactory,
    make_complaint,
)

pytestmark = pytest.mark.django_db
# One analytics core on both databases; each database has its own reader (the SQL one on PostgreSQL).
D = Decimal
AS_OF = datetime.date(2026, 6, 30)  # window 2025-07-01..2026-06-30, prior 2024-07-01..2025-06-30
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the configured TIME_ZONE: a complaint's day is its local day


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def order(customer, on, revenue, cost, service="0.00", promised=None, delivered=None, **extra):
    return OrderFactory(
        customer=customer,
        ordered_on=day(on),
        revenue=D(revenue),
        cost=D(cost),
        service_cost=D(service),
        promised_on=day(promised) if promised else None,
        delivered_on=day(delivered) if delivered else None,
        **extra,
    )


def invoice(customer, due, amount="1000.00", paid=None):
    due_on = day(due)
    return InvoiceFactory(
        customer=customer,
        issued_on=due_on - datetime.timedelta(days=30),
        due_on=due_on,
        amount=D(amount),
        paid_on=day(paid) if paid else None,
    )


def complaint(customer, on, hour=12, minute=0):
    received = datetime.datetime.combine(day(on), datetime.time(hour, minute), tzinfo=SHANGHAI)
    return make_complaint(customer=customer, received_at=received)


def compute(as_of=AS_OF):
    run, created = run_request(trigger=AnalysisRun.Trigger.COMMAND, as_of=as_of, enqueue=False)
    assert created
    run_compute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    return run


def results(run) -> dict:
    return {r.customer.code: r for r in run.results.select_related("customer")}


def shown(money: str) -> Decimal:
    """A money figure as DESIGN shows it: rounded half-up to 0.01."""
    return D(money).quantize(D("0.01"), rounding=ROUND_HALF_UP)


# =============================================================================================
# The main book: six customers with orders, two prospects. Cost model 20 per order, 150 per complaint.
# =============================================================================================


@pytest.fixture
def book():
    CostModel.objects.create(order_handling_cost=D("20.00"), complaint_handling_cost=D("150.00"))
    c1 = CustomerFactory(code="C1", since=day("2024-09-01"), growth_potential=3)
    c2 = CustomerFactory(code="C2", since=None, growth_potential=3)
    c3 = CustomerFactory(code="C3", since=day("2025-11-01"), growth_potential=5, referred_by=c1)
    c4 = CustomerFactory(code="C4", since=day("2020-03-01"), growth_potential=2, strategic=True)
    c5 = CustomerFactory(code="C5", since=day("2024-07-01"), growth_potential=2, referred_by=c2)
    c6 = CustomerFactory(code="C6", since=None, growth_potential=3)
    c7 = CustomerFactory(code="C7", since=day("2022-01-01"), referred_by=c1)
    c8 = CustomerFactory(code="C8", since=None, status=Customer.Status.PROSPECT)

    # C1: the biggest by revenue, thin margin.
    order(c1, "2025-03-01", "58000.00", "50000.00")  # prior window
    order(c1, "2025-08-10", "30000.00", "27000.00", "1000.00", promised="2025-08-20", delivered="2025-08-19")
    late = {"promised": "2026-02-25", "delivered": "2026-02-27"}
    order(c1, "2026-02-15", "20000.00", "18000.00", "600.00", **late, entry_error=True)
    order(
        c1,
        "2026-03-01",
        "9999.00",
        "1.00",
        "999.00",
        status=Order.Status.CANCELLED,
        entry_error=True,
        promised="2026-03-05",
        delivered="2026-03-20",
    )
    order(c1, "2026-04-01", "5000.00", "4000.00", "300.00", status=Order.Status.RETURNED, entry_error=True)
    order(c1, "2026-06-20", "10000.00", "9000.00", "400.00", status=Order.Status.OPEN)
    # C2: second by revenue, the most profit.
    order(c2, "2024-12-01", "25000.00", "12000.00")  # prior window; also C2's first order (no `since`)
    order(c2, "2025-09-15", "25000.00", "12000.00", "500.00", promised="2025-09-25", delivered="2025-09-25")
    order(c2, "2026-05-10", "15000.00", "7000.00", "300.00", promised="2026-05-20", delivered="2026-05-18")
    # C3: new this window, no invoices, no deliveries dated.
    order(c3, "2025-11-01", "20000.00", "14000.00", "1000.00")
    order(c3, "2025-12-31", "10000.00", "7000.00", "500.00")
    # C4: fourth by revenue, second by profit.
    order(c4, "2025-01-10", "20000.00", "9000.00")  # prior window
    order(c4, "2026-03-10", "18000.00", "8000.00", "500.00")
    # C5: loses money, nothing protects it.
    order(c5, "2025-06-30", "10000.00", "9000.00")  # last day of the prior window
    # first day of the window
    late = {"promised": "2025-07-05", "delivered": "2025-07-10"}
    order(c5, "2025-07-01", "8000.00", "7500.00", "600.00", **late, entry_error=True)
    # C6: loses money, loyal (first order exactly 3 years before as_of, no `since`).
    order(c6, "2023-06-30", "1000.00", "500.00")
    order(c6, "2026-04-20", "6000.00", "5000.00", "800.00", promised="2026-04-25", delivered="2026-04-25")
    # C7: only a prior-window order and a cancelled one in the window: a prospect.
    order(c7, "2025-02-01", "3000.00", "2000.00")
    order(c7, "2026-02-01", "4000.00", "3000.00", status=Order.Status.CANCELLED)

    # Invoices. C1: one before the window, on time, paid late, overdue, due on as_of, due after it.
    invoice(c1, "2025-06-30", "999.00")  # due before the window: not counted
    invoice(c1, "2025-09-10", "1000.00", paid="2025-09-05")  # on time
    invoice(c1, "2025-10-10", "2000.00", paid="2025-10-20")  # paid 10 days late
    invoice(c1, "2026-06-10", "7000.50")  # unpaid, 20 days late at as_of
    invoice(c1, "2026-06-30", "5000.00")  # unpaid, due on as_of: not yet due, not counted
    invoice(c1, "2026-07-15", "3000.00")  # due after the window
    invoice(c2, "2025-10-01", paid="2025-09-30")
    invoice(c2, "2026-06-01", paid="2026-06-01")  # paid on the due day: on time
    invoice(c4, "2026-04-10", paid="2026-04-15")  # 5 days late
    invoice(c5, "2026-01-31", "500.00")  # unpaid: 150 days late at as_of
    invoice(c5, "2026-06-01", "300.00", paid="2026-07-05")  # paid after as_of: still unpaid at as_of, 29 days
    invoice(c6, "2026-05-20", paid="2026-05-20")

    # Complaints: C1 one counted, one rejected, one duplicate, one before the window.
    original = complaint(c1, "2026-01-15")
    complaint_transition(complaint=complaint(c1, "2026-01-16"), to=State.DUPLICATE, by=None, duplicate_of=original)
    complaint_transition(complaint=complaint(c1, "2026-02-01"), to=State.REJECTED, by=None, note="Not our product")
    complaint(c1, "2025-06-20")
    complaint(c3, "2025-12-01")
    complaint(c3, "2026-02-01")
    complaint(c5, "2025-08-01")
    complaint(c6, "2026-05-01")
    complaint(c6, "2026-05-02")
    complaint(c7, "2026-03-15")

    # Surveys.
    SurveyFactory(customer=c1, answered_on=day("2025-05-01"), score=5)  # prior window: not counted
    SurveyFactory(customer=c1, answered_on=day("2026-01-20"), score=2)
    SurveyFactory(customer=c1, answered_on=day("2026-03-01"), score=3)
    SurveyFactory(customer=c2, answered_on=day("2026-02-01"), score=5)
    for on, score in (("2025-10-01", 4), ("2026-01-01", 4), ("2026-04-01", 5)):
        SurveyFactory(customer=c4, answered_on=day(on), score=score)

    # Interactions. C1's visit after as_of is not known at as_of.
    for on in ("2026-05-01", "2026-06-01", "2026-07-10"):
        InteractionFactory(customer=c1, occurred_on=day(on))
    InteractionFactory(customer=c3, occurred_on=day("2026-05-02"))
    InteractionFactory(customer=c4, occurred_on=day("2026-04-15"))
    InteractionFactory(customer=c6, occurred_on=day("2026-06-30"))
    return {c.code: c for c in (c1, c2, c3, c4, c5, c6, c7, c8)}


def test_run_uses_the_window_and_the_latest_cost_model(book):
    run = compute()
    assert (run.window_start, run.window_end) == (day("2025-07-01"), day("2026-06-30"))
    assert (run.prior_start, run.prior_end) == (day("2024-07-01"), day("2025-06-30"))
    assert run.cost_model.order_handling_cost == D("20.00") and run.cost_model.complaint_handling_cost == D("150.00")
    assert run.company["window"] == ["2025-07-01", "2026-06-30"]
    assert run.company["prior_window"] == ["2024-07-01", "2025-06-30"]


def test_revenue_margin_cost_to_serve_and_profit(book):
    r = results(compute())
    money = {code: (x.revenue, x.cost_of_goods, x.gross_margin, x.cost_to_serve, x.profit) for code, x in r.items()}
    assert money == {
        # revenue 30000 + 20000 + 10000 (open counts; cancelled 9999 and returned 5000 do not) = 60000
        # cost of goods 27000 + 18000 + 9000 = 54000; gross margin 6000
        # cost to serve: service 1000 + 600 + 400 = 2000, + 3 orders x 20, + 1 complaint x 150 = 2210
        # profit 6000 - 2210 = 3790
        "C1": (D("60000.00"), D("54000.00"), D("6000.00"), D("2210.00"), D("3790.00")),
        # 25000 + 15000 = 40000; cost 19000; margin 21000; 500 + 300 + 2 x 20 = 840; profit 20160
        "C2": (D("40000.00"), D("19000.00"), D("21000.00"), D("840.00"), D("20160.00")),
        # 20000 + 10000 = 30000; cost 21000; margin 9000; 1000 + 500 + 2 x 20 + 2 x 150 = 1840; profit 7160
        "C3": (D("30000.00"), D("21000.00"), D("9000.00"), D("1840.00"), D("7160.00")),
        # 18000; cost 8000; margin 10000; 500 + 1 x 20 = 520; profit 9480
        "C4": (D("18000.00"), D("8000.00"), D("10000.00"), D("520.00"), D("9480.00")),
        # 8000; cost 7500; margin 500; 600 + 1 x 20 + 1 x 150 = 770; profit -270
        "C5": (D("8000.00"), D("7500.00"), D("500.00"), D("770.00"), D("-270.00")),
        # 6000; cost 5000; margin 1000; 800 + 1 x 20 + 2 x 150 = 1120; profit -120
        "C6": (D("6000.00"), D("5000.00"), D("1000.00"), D("1120.00"), D("-120.00")),
        # no counted order in the window; one complaint x 150 is still a cost to serve
        "C7": (D("0.00"), D("0.00"), D("0.00"), D("150.00"), D("-150.00")),
        "C8": (D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("0.00")),
    }
    assert {code: x.margin_pct for code, x in r.items() if code not in ("C7", "C8")} == {
        "C1": D("10.0000"),  # 6000 / 60000
        "C2": D("52.5000"),  # 21000 / 40000
        "C3": D("30.0000"),  # 9000 / 30000
        "C4": D("55.5556"),  # 10000 / 18000 = 55.5555...
        "C5": D("6.2500"),  # 500 / 8000
        "C6": D("16.6667"),  # 1000 / 6000
    }


def test_orders_delivery_errors_and_payment(book):
    r = results(compute())
    # orders and average order value (counted orders only)
    assert {code: (x.orders, x.average_order_value) for code, x in r.items()} == {
        "C1": (3, D("20000.0000")),  # 60000 / 3
        "C2": (2, D("20000.0000")),  # 40000 / 2
        "C3": (2, D("15000.0000")),  # 30000 / 2
        "C4": (1, D("18000.0000")),
        "C5": (1, D("8000.0000")),
        "C6": (1, D("6000.0000")),
        "C7": (0, None),
        "C8": (0, None),
    }
    # on-time delivery over orders with both dates; error % over all counted window orders
    assert {code: (x.on_time_delivery_pct, x.error_pct) for code, x in r.items() if x.orders} == {
        "C1": (D("50.0000"), D("33.3333")),  # 08-19 <= 08-20 yes, 02-27 <= 02-25 no; 1 error of 3 orders
        "C2": (D("100.0000"), D("0.0000")),  # 09-25 <= 09-25 and 05-18 <= 05-20
        "C3": (None, D("0.0000")),  # no dated deliveries
        "C4": (None, D("0.0000")),
        "C5": (D("0.0000"), D("100.0000")),  # 07-10 > 07-05; its one order has the error flag
        "C6": (D("100.0000"), D("0.0000")),
    }
    # payment: invoices due in the window. C1: on time 1 (09-05 <= 09-10); late: paid 10 days late (10-20)
    # and unpaid 20 days past 06-10; the one due on as_of is not yet due and does not count.
    # on-time 1 / 3; days late (10 + 20) / 2 = 15; overdue amount (engine: late ones unpaid at as_of,
    # among invoices due in the window; DESIGN does not define it) = 7000.50.
    # C4: paid 5 days late. C5: unpaid 150 days (01-31 -> 06-30) and paid 07-05, after as_of, so unpaid at
    # as_of (engine: days run to as_of), 29 days: (150 + 29) / 2 = 89.5; overdue 500 + 300.
    assert {code: (x.on_time_payment_pct, x.average_days_late, x.overdue_amount) for code, x in r.items()} == {
        "C1": (D("33.3333"), D("15.0000"), D("7000.50")),
        "C2": (D("100.0000"), None, D("0.00")),
        "C3": (None, None, D("0.00")),
        "C4": (D("0.0000"), D("5.0000"), D("0.00")),
        "C5": (D("0.0000"), D("89.5000"), D("800.00")),
        "C6": (D("100.0000"), None, D("0.00")),
        "C7": (None, None, D("0.00")),
        "C8": (None, None, D("0.00")),
    }


def test_growth_complaints_satisfaction_referrals_tenure_and_recency(book):
    r = results(compute())
    assert {code: (x.prior_revenue, x.growth_pct) for code, x in r.items() if x.orders} == {
        "C1": (D("58000.00"), D("3.4483")),  # (60000 - 58000) / 58000 = 3.44827...%
        "C2": (D("25000.00"), D("60.0000")),  # (40000 - 25000) / 25000
        "C3": (D("0.00"), None),  # no prior revenue: 'new'
        "C4": (D("20000.00"), D("-10.0000")),  # (18000 - 20000) / 20000
        "C5": (D("10000.00"), D("-20.0000")),  # the 2025-06-30 order is the prior window's last day
        "C6": (D("0.00"), None),  # its 2023 order is before the prior window
    }
    assert r["C7"].prior_revenue == D("3000.00")
    # complaints received in the window, rejected and duplicate not counted
    assert {code: x.complaints for code, x in r.items()} == {
        "C1": 1,
        "C2": 0,
        "C3": 2,
        "C4": 0,
        "C5": 1,
        "C6": 2,
        "C7": 1,
        "C8": 0,
    }
    # mean survey score in the window: C1 (2 + 3) / 2; C4 (4 + 4 + 5) / 3 = 4.3333
    assert {code: x.average_survey_score for code, x in r.items() if x.average_survey_score is not None} == {
        "C1": D("2.5000"),
        "C2": D("5.0000"),
        "C4": D("4.3333"),
    }
    # referrals: C3 and C7 name C1; C5 names C2
    assert {code: x.referrals for code, x in r.items() if x.referrals} == {"C1": 2, "C2": 1}
    # tenure in whole years to 2026-06-30: from since, else from the first order
    assert {code: x.tenure_years for code, x in r.items()} == {
        "C1": 1,  # since 2024-09-01
        "C2": 1,  # no since: first order 2024-12-01
        "C3": 0,  # since 2025-11-01
        "C4": 6,  # since 2020-03-01
        "C5": 1,  # since 2024-07-01: the 2nd anniversary is 2026-07-01, after as_of
        "C6": 3,  # no since: first order 2023-06-30, exactly 3 years
        "C7": 4,  # since 2022-01-01
        "C8": None,  # no since, no order
    }
    # days since the last counted order on or before as_of
    assert {code: x.days_since_last_order for code, x in r.items()} == {
        "C1": 10,  # 2026-06-20
        "C2": 51,  # 2026-05-10: 21 + 30
        "C3": 181,  # 2025-12-31
        "C4": 112,  # 2026-03-10: 21 + 30 + 31 + 30
        "C5": 364,  # 2025-07-01
        "C6": 71,  # 2026-04-20: 10 + 31 + 30
        "C7": 514,  # 2025-02-01 (its cancelled 2026-02-01 order does not count): 365 + 149
        "C8": None,
    }
    # days since the last interaction on or before as_of (C1's 2026-07-10 visit is after as_of)
    assert {code: x.days_since_last_interaction for code, x in r.items()} == {
        "C1": 29,
        "C2": None,
        "C3": 59,
        "C4": 76,
        "C5": None,
        "C6": 0,
        "C7": None,
        "C8": None,
    }


def test_percentiles_scores_ranks_and_tiers(book):
    r = results(compute())
    # n = 6 with orders -> 100 (rank - 1) / 5 = 20 (rank - 1)
    # profit asc: C5 -270, C6 -120, C1 3790, C3 7160, C4 9480, C2 20160 -> 0, 20, 40, 60, 80, 100
    # revenue asc: C6, C5, C4, C3, C2, C1 -> 0 .. 100
    # payment known for 5 (C3 has no invoices -> 50): C4 0% and C5 0% share ranks 1, 2 -> 12.5;
    #   C1 33.3% rank 3 -> 50; C2 and C6 100% share 4, 5 -> 87.5
    # growth known for 4 (C3, C6 new -> 50): C5 -20 -> 0, C4 -10 -> 33.33, C1 3.45 -> 66.67, C2 60 -> 100
    # potential: C4, C5 rate 2 (ranks 1, 2 -> 10); C1, C2, C6 rate 3 (ranks 3-5 -> 60); C3 rates 5 -> 100
    expected = {
        "C1": {"profit": "40", "revenue": "100", "payment": "50", "growth": "66.666667", "potential": "60"},
        "C2": {"profit": "100", "revenue": "80", "payment": "87.5", "growth": "100", "potential": "60"},
        "C3": {"profit": "60", "revenue": "60", "payment": "50", "growth": "50", "potential": "100"},
        "C4": {"profit": "80", "revenue": "40", "payment": "12.5", "growth": "33.333333", "potential": "10"},
        "C5": {"profit": "0", "revenue": "20", "payment": "12.5", "growth": "0", "potential": "10"},
        "C6": {"profit": "20", "revenue": "0", "payment": "87.5", "growth": "50", "potential": "60"},
    }
    for code, factors in expected.items():
        assert {f: D(v) for f, v in r[code].percentiles.items()} == {f: D(v) for f, v in factors.items()}, code
    assert r["C7"].percentiles == {} and r["C8"].percentiles == {}
    # score = (35 profit + 25 revenue + 20 payment + 20 growth) / 100
    assert {code: x.score for code, x in r.items()} == {
        "C1": D("62.3333"),  # (1400 + 2500 + 1000 + 20 x 200/3) / 100 = 187/3
        "C2": D("92.5000"),  # (3500 + 2000 + 1750 + 2000) / 100
        "C3": D("56.0000"),  # (2100 + 1500 + 1000 + 1000) / 100
        "C4": D("47.1667"),  # (2800 + 1000 + 250 + 20 x 100/3) / 100 = 283/6
        "C5": D("7.5000"),  # (0 + 500 + 250 + 0) / 100
        "C6": D("34.5000"),  # (700 + 0 + 1750 + 1000) / 100
        "C7": None,
        "C8": None,
    }
    assert {code: x.rank for code, x in r.items()} == {
        "C2": 1,
        "C1": 2,
        "C3": 3,
        "C4": 4,
        "C6": 5,
        "C5": 6,
        "C7": None,
        "C8": None,
    }
    # D: C5, C6 (profit < 0). The other m = 4: A if rank <= ceil(0.8) = 1, B if <= ceil(2) = 2.
    # C7 has a negative profit (a complaint) but no orders: P. C8 never ordered: P.
    assert {code: x.tier for code, x in r.items()} == {
        "C1": "B",
        "C2": "A",
        "C3": "C",
        "C4": "C",
        "C5": "D",
        "C6": "D",
        "C7": "P",
        "C8": "P",
    }


def test_quadrants_protection_and_actions(book):
    r = results(compute())
    # median profit of the 6: (3790 + 7160) / 2 = 5475 -> current: C2, C3, C4
    # future (growth pct + potential pct) / 2 >= 50: C1 (66.67 + 60) / 2 yes, C2 (100 + 60) / 2 yes,
    # C3 (50 + 100) / 2 yes, C4 (33.33 + 10) / 2 no, C5 (0 + 10) / 2 no, C6 (50 + 60) / 2 = 55 yes
    assert {code: x.quadrant for code, x in r.items()} == {
        "C1": "star",
        "C2": "champion",
        "C3": "champion",
        "C4": "harvest",
        "C5": "exit",
        "C6": "star",
        "C7": "",
        "C8": "",
    }
    # big: the top ceil(0.1 x 6) = 1 by revenue -> C1. potential: C2 growth 60% >= 30, C3 rating 5.
    # loyal: C4 (6 years), C6 (3 years). strategic: C4.
    assert {code: x.protection for code, x in r.items()} == {
        "C1": "big",
        "C2": "potential",
        "C3": "potential",
        "C4": "loyal;strategic",
        "C5": "",
        "C6": "loyal",
        "C7": "",
        "C8": "",
    }
    # C1 B star -> develop; C2 A champion -> invest; C3 C champion -> invest; C4 C harvest -> harvest;
    # C5 D unprotected -> reduce; C6 D loyal -> review; prospects none
    assert {code: x.action for code, x in r.items()} == {
        "C1": "develop",
        "C2": "invest",
        "C3": "invest",
        "C4": "harvest",
        "C5": "reduce",
        "C6": "review",
        "C7": "",
        "C8": "",
    }


def test_the_biggest_customer_earns_less_profit_than_average(book):
    """The article's example: the biggest customer by revenue, below-average profit; 2nd and 4th earn most."""
    run = compute()
    r = results(run)
    with_orders = [x for x in r.values() if x.orders]
    by_revenue = sorted(with_orders, key=lambda x: -x.revenue)
    average_profit = sum(x.profit for x in with_orders) / len(with_orders)
    assert average_profit == D("6700")  # (3790 + 20160 + 7160 + 9480 - 270 - 120) / 6 = 40200 / 6
    assert [x.customer.code for x in by_revenue] == ["C1", "C2", "C3", "C4", "C5", "C6"]
    assert by_revenue[0].profit == D("3790.00") < average_profit
    assert sorted(with_orders, key=lambda x: -x.profit)[:2] == [by_revenue[1], by_revenue[3]]
    assert by_revenue[4].profit < 0
    assert D(run.company["median_profit"]) == D("5475.00")


def test_company_figures(book):
    run = compute()
    company = run.company
    ids = {code: c.pk for code, c in book.items()}
    assert company["as_of"] == "2026-06-30"
    assert company["customers"] == 8 and company["customers_with_orders"] == 6
    # revenue 60000 + 40000 + 30000 + 18000 + 8000 + 6000 = 162000; profit of those with orders:
    # 3790 + 20160 + 7160 + 9480 - 270 - 120 = 40200 (C7's -150 is a prospect's, outside)
    assert company["revenue"] == "162000.00"
    assert company["profit"] == "40200.00"
    assert company["median_profit"] == "5475.00"
    assert company["tiers"] == {"A": 1, "B": 1, "C": 2, "D": 2, "P": 2}
    # top1 60000 / 162000 = 37.037037%; top5 (162000 - 6000) / 162000 = 96.296296%
    assert company["top1_share_pct"] == "37.0370"
    assert company["top5_share_pct"] == "96.2963"
    # HHI = (60^2 + 40^2 + 30^2 + 18^2 + 8^2 + 6^2) / 162^2 x 10000 = 6524 / 26244 x 10000 = 2485.90154
    assert company["hhi"] == "2485.9015"
    assert company["concentration_alert"] is True  # top1 37% > 25% (HHI 2486 <= 2500)
    # top 20%: ceil(0.2 x 6) = 2 by revenue -> C1, C2: revenue 100000 / 162000 = 61.728395%,
    # profit (3790 + 20160) / 40200 = 23950 / 40200 = 59.577114%
    assert company["top20_count"] == 2
    assert company["top20_revenue_share_pct"] == "61.7284"
    assert company["top20_profit_share_pct"] == "59.5771"
    # whale curve, by profit desc: C2 20160, C4 9480, C3 7160, C1 3790, C6 -120, C5 -270
    # cumulative 20160, 29640, 36800, 40590, 40470, 40200 of 40200; peak 40590 / 40200 = 100.970149% at 4
    assert company["whale"]["peak_pct"] == "100.9701"
    assert company["whale"]["peak_customers"] == 4
    assert company["whale"]["curve"] == [
        ["16.6667", "50.1493"],
        ["33.3333", "73.7313"],
        ["50.0000", "91.5423"],
        ["66.6667", "100.9701"],
        ["83.3333", "100.6716"],
        ["100.0000", "100.0000"],
    ]
    # top-20% trend: C1 +3.45% flat, C2 +60% growing
    assert company["top20_trend"] == {"counts": {"growing": 1, "flat": 1, "declining": 0, "new": 0}, "declining": []}
    # dormant: no counted order in 180 days, longest first: C7 514, C5 364, C3 181 (C8 never ordered)
    assert company["dormant_count"] == 3
    assert company["dormant"] == [[ids["C7"], 514], [ids["C5"], 364], [ids["C3"], 181]]
    # neglected: A or B with no interaction in 60 days: C2 (A, never); C1 (B) was visited 29 days ago
    assert company["neglected_count"] == 1
    assert company["neglected"] == [ids["C2"]]
    # no one churned
    assert company["churned_in_window"] == 0 and company["churn_reasons"] == {} and company["revenue_lost"] == "0.00"
    # ARPU for 2026-06: revenue 10000 (C1's open order) / active at 06-30. Active, per the engine's documented
    # definition (DESIGN leaves it open): first counted order on or before the day and not churned -> C1-C7 = 7
    june = company["arpu"][-1]
    assert june == {"month": "2026-06", "revenue": "10000.00", "active": 7, "arpu": "1428.57"}  # 1428.5714...
    assert company["tier_migration"] == {}  # first run: nothing to compare with


# =============================================================================================
# Churn, ARPU, revenue lost, dormant and the top-20% trend (as_of 2026-06-30)
# =============================================================================================


@pytest.fixture
def churn_book():
    churned = Customer.Status.CHURNED
    h1 = CustomerFactory(code="H1")
    h2 = CustomerFactory(code="H2", status=churned, churned_on=day("2025-09-30"), churn_reason="price")
    h3 = CustomerFactory(code="H3", status=churned, churned_on=day("2025-10-01"), churn_reason="competitor")
    h4 = CustomerFactory(code="H4", since=day("2025-11-20"))
    h5 = CustomerFactory(code="H5", status=churned, churned_on=day("2025-05-15"), churn_reason="quality")
    h6 = CustomerFactory(code="H6", status=churned, churned_on=day("2026-03-31"), churn_reason="service")
    h8 = CustomerFactory(code="H8", since=day("2026-06-30"))
    order(h1, "2025-01-15", "6000.00", "3000.00")  # prior window
    order(h1, "2025-08-10", "2000.00", "1000.00")
    order(h1, "2026-01-20", "9999.00", "1.00", status=Order.Status.CANCELLED)
    order(h1, "2026-02-10", "3000.00", "1500.00")
    order(h2, "2025-03-01", "1200.00", "600.00")
    order(h2, "2025-09-05", "600.00", "300.00")
    order(h3, "2025-06-01", "900.00", "450.00")
    order(h3, "2025-10-01", "400.00", "200.00")
    order(h4, "2025-11-20", "5000.00", "2500.00")
    order(h5, "2024-05-01", "700.00", "350.00")
    order(h6, "2024-08-01", "800.00", "400.00")
    order(h6, "2025-12-15", "1500.00", "750.00")
    order(h8, "2026-06-30", "900.00", "450.00")
    return {c.code: c for c in (h1, h2, h3, h4, h5, h6, h8)}


# Active on a day (engine's documented definition): first counted order on or before it, not churned by it.
# First orders: H5 2024-05-01, H6 2024-08-01, H1 2025-01-15, H2 2025-03-01, H3 2025-06-01, H4 2025-11-20,
# H8 2026-06-30. Churn days: H5 2025-05-15, H2 2025-09-30, H3 2025-10-01, H6 2026-03-31.


def test_monthly_arpu(churn_book):
    company = compute().company
    assert company["arpu"] == [
        # 07-31: H1, H2, H3, H6 active (H5 churned) = 4; no orders in July
        {"month": "2025-07", "revenue": "0.00", "active": 4, "arpu": "0.00"},
        {"month": "2025-08", "revenue": "2000.00", "active": 4, "arpu": "500.00"},  # H1 2000 / 4
        {"month": "2025-09", "revenue": "600.00", "active": 3, "arpu": "200.00"},  # H2 churned 09-30
        {"month": "2025-10", "revenue": "400.00", "active": 2, "arpu": "200.00"},  # H3 churned 10-01
        {"month": "2025-11", "revenue": "5000.00", "active": 3, "arpu": "1666.67"},  # H4 joins: 5000 / 3
        {"month": "2025-12", "revenue": "1500.00", "active": 3, "arpu": "500.00"},
        {"month": "2026-01", "revenue": "0.00", "active": 3, "arpu": "0.00"},  # cancelled 9999 not counted
        {"month": "2026-02", "revenue": "3000.00", "active": 3, "arpu": "1000.00"},
        {"month": "2026-03", "revenue": "0.00", "active": 2, "arpu": "0.00"},  # H6 churned 03-31
        {"month": "2026-04", "revenue": "0.00", "active": 2, "arpu": "0.00"},
        {"month": "2026-05", "revenue": "0.00", "active": 2, "arpu": "0.00"},
        {"month": "2026-06", "revenue": "900.00", "active": 3, "arpu": "300.00"},  # H8's first order 06-30
    ]


def test_churn_by_month_and_by_quarter_across_a_quarter_boundary(churn_book):
    company = compute().company
    # churned in the period / active the day before it starts. H2 leaves on 2025-09-30 (Q3), H3 the next day,
    # 2025-10-01 (Q4): each counts in its own month and quarter, and Q4 starts with H2 already gone.
    month = {m["period"]: (m["churned"], m["active_at_start"], m["rate_pct"]) for m in company["churn_by_month"]}
    assert month == {
        "2025-07": (0, 4, "0.0000"),
        "2025-08": (0, 4, "0.0000"),
        "2025-09": (1, 4, "25.0000"),  # H2: 1 / 4
        "2025-10": (1, 3, "33.3333"),  # H3: 1 / 3
        "2025-11": (0, 2, "0.0000"),
        "2025-12": (0, 3, "0.0000"),  # H4 joined in November
        "2026-01": (0, 3, "0.0000"),
        "2026-02": (0, 3, "0.0000"),
        "2026-03": (1, 3, "33.3333"),  # H6: 1 / 3
        "2026-04": (0, 2, "0.0000"),
        "2026-05": (0, 2, "0.0000"),
        "2026-06": (0, 2, "0.0000"),
    }
    assert [(q["period"], q["churned"], q["active_at_start"], q["rate_pct"]) for q in company["churn_by_quarter"]] == [
        ("2025-Q3", 1, 4, "25.0000"),  # H2 of H1, H2, H3, H6
        ("2025-Q4", 1, 3, "33.3333"),  # H3 of H1, H3, H6
        ("2026-Q1", 1, 3, "33.3333"),  # H6 of H1, H4, H6
        ("2026-Q2", 0, 2, "0.0000"),
    ]


def test_churn_reasons_and_revenue_lost(churn_book):
    company = compute().company
    # churned in the window: H2, H3, H6 (H5 left before it)
    assert company["churned_in_window"] == 3
    assert company["churn_reasons"] == {"price": 1, "competitor": 1, "service": 1}
    # revenue lost, the engine's documented definition (DESIGN leaves it open): each churned customer's
    # revenue in the 12 whole months before its churn month.
    # H2 (Sep 2025): 2024-09..2025-08 -> 1200 (its 2025-09-05 order is in the churn month)
    # H3 (Oct 2025): 2024-10..2025-09 -> 900; H6 (Mar 2026): 2025-03..2026-02 -> 1500 (2024-08 is too early)
    assert company["revenue_lost"] == "3600.00"


def test_dormant_excludes_churned_customers_and_top20_trend(churn_book):
    company = compute().company
    ids = {code: c.pk for code, c in churn_book.items()}
    # dormant (engine: not churned, last counted order >= 180 days ago): H4 2025-11-20 -> 222 days.
    # H1 (2026-02-10, 140 days) is not; the churned H2, H3, H5, H6 are not listed.
    assert company["dormant_count"] == 1
    assert company["dormant"] == [[ids["H4"], 222]]
    # population by revenue: H1 5000, H4 5000 (tie: by code), H6 1500, H8 900, H2 600, H3 400.
    # top ceil(0.2 x 6) = 2: H1 (prior 6000 -> -16.6667%, declining) and H4 (no prior revenue: new)
    assert company["top20_count"] == 2
    assert company["top20_revenue_share_pct"] == "74.6269"  # 10000 / 13400 = 74.626866%
    assert company["top20_trend"] == {
        "counts": {"growing": 0, "flat": 0, "declining": 1, "new": 1},
        "declining": [[ids["H1"], "-16.6667"]],
    }


# =============================================================================================
# Tier migration between two runs
# =============================================================================================


def test_tier_migration_between_two_runs():
    people = {code: CustomerFactory(code=code) for code in ("M1", "M2", "M3", "M4", "M5", "M6")}
    # profit and revenue in the same order, no invoices, no prior revenue: the score follows revenue
    for code, revenue, cost in (
        ("M1", "5000", "4000"),
        ("M2", "4000", "3200"),
        ("M3", "3000", "2400"),
        ("M4", "2000", "1600"),
        ("M5", "1000", "1200"),
    ):
        order(people[code], "2026-03-01", revenue, cost)
    first = compute()
    # M5 loses 200: D. The other m = 4: A rank <= ceil(0.8) = 1, B <= ceil(2) = 2. M6: P.
    assert {code: x.tier for code, x in results(first).items()} == {
        "M1": "A",
        "M2": "B",
        "M3": "C",
        "M4": "C",
        "M5": "D",
        "M6": "P",
    }
    assert first.company["tier_migration"] == {}

    order(people["M4"], "2026-06-10", "10000", "8000")  # M4: 12000 revenue, 2400 profit
    order(people["M5"], "2026-04-01", "1000", "500")  # M5: 2000 revenue, 300 profit
    order(people["M6"], "2026-05-01", "500", "400")  # M6: 100 profit
    people["M7"] = CustomerFactory(code="M7")
    order(people["M7"], "2026-05-01", "100", "90")  # M7: new customer, 10 profit
    second = compute()
    # revenue and profit order: M4, M1, M2, M3, M5, M6, M7. m = 7: A <= ceil(1.4) = 2, B <= ceil(3.5) = 4
    assert {code: x.tier for code, x in results(second).items()} == {
        "M1": "A",
        "M2": "B",
        "M3": "B",
        "M4": "A",
        "M5": "C",
        "M6": "C",
        "M7": "C",
    }
    assert second.company["tier_migration"] == {"A>A": 1, "B>B": 1, "C>B": 1, "C>A": 1, "D>C": 1, "P>C": 1, "new>C": 1}
    # nobody has an interaction: every A and B is neglected, biggest revenue first
    ids = {code: c.pk for code, c in people.items()}
    assert second.company["neglected_count"] == 4
    assert second.company["neglected"] == [ids["M4"], ids["M1"], ids["M2"], ids["M3"]]


# =============================================================================================
# A mid-month as_of: the window's edge days are exact (as_of 2026-06-15:
# window 2025-06-16..2026-06-15, prior 2024-06-16..2025-06-15)
# =============================================================================================

MID = datetime.date(2026, 6, 15)


@pytest.fixture
def edge_book():
    e1 = CustomerFactory(code="E1", since=None)
    # Revenues are powers of two, so any wrongly included or excluded order shows in the sum.
    for on, revenue in (
        ("2024-06-15", "100"),  # before the prior window
        ("2024-06-16", "200"),  # prior window, first day
        ("2025-06-15", "400"),  # prior window, last day
        ("2025-06-16", "800"),  # window, first day
        ("2025-06-30", "1600"),  # window, end of the partial first month
        ("2025-07-01", "3200"),  # window, first whole month
        ("2026-05-31", "6400"),  # window, last whole month
        ("2026-06-01", "12800"),  # window, partial last month
        ("2026-06-15", "25600"),  # window, last day (= as_of)
        ("2026-06-16", "51200"),  # after as_of
    ):
        order(e1, on, revenue, str(D(revenue) / 2))
    # E2 and E3 identical (a tie); all five have the same revenue, 50400 (top1 = 20%).
    e2 = CustomerFactory(code="E2", since=day("2023-06-15"))  # exactly 3 years: loyal
    e3 = CustomerFactory(code="E3", since=day("2023-06-16"))  # 2 years
    e4 = CustomerFactory(code="E4", since=day("2025-01-01"))
    e5 = CustomerFactory(code="E5", since=day("2025-01-01"))
    for customer, cost in ((e2, "30000"), (e3, "30000"), (e4, "35000"), (e5, "50000")):
        order(customer, "2026-01-10", "50400", cost)

    invoice(e1, "2025-06-15", "1.00")  # due before the window: not counted
    invoice(e1, "2025-06-16", "2.00", paid="2025-06-20")  # first day of the window, 4 days late
    invoice(e1, "2026-01-15", "4.00", paid="2026-01-15")  # on time
    invoice(e1, "2026-06-14", "8.00")  # unpaid, 1 day late at as_of
    invoice(e1, "2026-06-15", "16.00")  # due on as_of: not yet due
    invoice(e1, "2026-06-16", "32.00")  # after the window
    complaint(e1, "2025-06-15", 23, 30)  # out (the local day is 06-15)
    complaint(e1, "2025-06-16", 0, 30)  # in (UTC: 2025-06-15 16:30)
    complaint(e1, "2026-06-15", 23, 30)  # in (UTC: 2026-06-15 15:30)
    complaint(e1, "2026-06-16", 0, 30)  # out (UTC: 2026-06-15 16:30)
    for on, score in (("2025-06-15", 1), ("2025-06-16", 4), ("2026-06-15", 5), ("2026-06-16", 1)):
        SurveyFactory(customer=e1, answered_on=day(on), score=score)
    InteractionFactory(customer=e1, occurred_on=day("2026-06-15"))
    InteractionFactory(customer=e1, occurred_on=day("2026-06-16"))
    return {c.code: c for c in (e1, e2, e3, e4, e5)}


def test_mid_month_window_edges_are_exact(edge_book):
    run = compute(MID)
    assert (run.window_start, run.window_end) == (day("2025-06-16"), day("2026-06-15"))
    assert (run.prior_start, run.prior_end) == (day("2024-06-16"), day("2025-06-15"))
    e1 = results(run)["E1"]
    # window: 800 + 1600 + 3200 + 6400 + 12800 + 25600 = 50400 (not 100, 200, 400 nor 51200)
    assert e1.revenue == D("50400.00")
    assert e1.cost_of_goods == D("25200.00") and e1.profit == D("25200.00")
    assert e1.orders == 6
    # prior: 200 + 400 = 600 (not 100); growth (50400 - 600) / 600 = 8300%
    assert e1.prior_revenue == D("600.00")
    assert e1.growth_pct == D("8300.0000")
    # payment: on time 1 (01-15); late: 06-16 -> 06-20 (4 days) and unpaid since 06-14 (1 day).
    # 1 / 3 on time; days late (4 + 1) / 2 = 2.5; overdue 8.00 (due 2025-06-15 and 2026-06-15 not counted)
    assert (e1.on_time_payment_pct, e1.average_days_late, e1.overdue_amount) == (D("33.3333"), D("2.5000"), D("8.00"))
    # complaints received on local days 2025-06-16 and 2026-06-15
    assert e1.complaints == 2
    # surveys 2025-06-16 (4) and 2026-06-15 (5)
    assert e1.average_survey_score == D("4.5000")
    # first order 2024-06-15, no since: exactly 2 years at 2026-06-15
    assert e1.tenure_years == 2
    # the last order on or before as_of is on as_of; so is the last interaction
    assert e1.days_since_last_order == 0 and e1.days_since_last_interaction == 0


def test_mid_month_ties_tiers_and_concentration(edge_book):
    run = compute(MID)
    r = results(run)
    # n = 5, 25 (rank - 1). profit: E5 400, E4 15400, E2 = E3 20400 (ranks 3, 4 -> 62.5), E1 25200.
    # revenue: all 50400 -> 50. payment known only for E1 -> 100 (n = 1), others 50.
    # growth known only for E1 -> 100, others 'new' -> 50.
    # E1: (35 x 100 + 25 x 50 + 20 x 100 + 20 x 100) / 100 = 87.5
    # E2, E3: (35 x 62.5 + 1250 + 1000 + 1000) / 100 = 54.375; E4: (875 + 3250) / 100 = 41.25; E5: 32.5
    assert {code: x.score for code, x in r.items()} == {
        "E1": D("87.5000"),
        "E2": D("54.3750"),
        "E3": D("54.3750"),
        "E4": D("41.2500"),
        "E5": D("32.5000"),
    }
    # the tie shares the better rank: 1, 2, 2, 4, 5
    assert {code: x.rank for code, x in r.items()} == {"E1": 1, "E2": 2, "E3": 2, "E4": 4, "E5": 5}
    # m = 5: A <= ceil(1) = 1, B <= ceil(2.5) = 3
    assert {code: x.tier for code, x in r.items()} == {"E1": "A", "E2": "B", "E3": "B", "E4": "C", "E5": "C"}
    # median profit 20400: E1, E2, E3 current. future: E1 (100 + 50) / 2; others (50 + 50) / 2 = 50 (>= 50)
    assert {code: x.quadrant for code, x in r.items()} == {
        "E1": "champion",
        "E2": "champion",
        "E3": "champion",
        "E4": "star",
        "E5": "star",
    }
    # big: ceil(0.5) = 1, all revenues equal -> first by code, E1 (also growth 8300% -> potential)
    assert {code: x.protection for code, x in r.items()} == {
        "E1": "big;potential",
        "E2": "loyal",
        "E3": "",
        "E4": "",
        "E5": "",
    }
    assert {code: x.action for code, x in r.items()} == {
        "E1": "invest",
        "E2": "invest",
        "E3": "invest",
        "E4": "develop",
        "E5": "develop",
    }
    company = run.company
    # five equal shares: top1 20%, HHI 5 x 20^2 = 2000: no alert
    assert company["revenue"] == "252000.00"
    assert company["profit"] == "81800.00"  # 25200 + 2 x 20400 + 15400 + 400
    assert company["top1_share_pct"] == "20.0000"
    assert company["top5_share_pct"] == "100.0000"
    assert company["hhi"] == "2000.0000"
    assert company["concentration_alert"] is False
    # top 20% = ceil(1) = 1 customer, revenue tie broken by code -> E1: profit 25200 / 81800 = 30.806846%
    assert company["top20_revenue_share_pct"] == "20.0000"
    assert company["top20_profit_share_pct"] == "30.8068"
    assert company["whale"]["peak_pct"] == "100.0000" and company["whale"]["peak_customers"] == 5


def test_mid_month_arpu_counts_the_month_only_up_to_as_of(edge_book):
    """The run is as of 2026-06-15: June's revenue is that of 06-01..06-15, like every figure of the run
    (company.py's month_ends itself says the last day counted is as_of)."""
    company = compute(MID).company
    june = company["arpu"][-1]
    # E1's 12800 (06-01) + 25600 (06-15); its 51200 order of 06-16 is after as_of. Active at 06-15: all 5.
    assert june["month"] == "2026-06"
    assert june["active"] == 5
    assert june["revenue"] == "38400.00"
    assert june["arpu"] == "7680.00"  # 38400 / 5


# =============================================================================================
# Money shown: half-up to 0.01 (DESIGN: "rounded half-up to 0.01 only when shown; stored sums are exact")
# =============================================================================================


@pytest.fixture
def half_cent_book():
    """Two customers whose profits are 100.00 and 100.01, both ordering in March 2026."""
    r1, r2 = CustomerFactory(code="R1"), CustomerFactory(code="R2")
    order(r1, "2026-03-10", "100.00", "0.00")
    order(r2, "2026-03-20", "100.01", "0.00")


def test_median_profit_is_shown_rounded_half_up(half_cent_book):
    company = compute().company
    # median profit (100.00 + 100.01) / 2 = 100.005 -> shown half-up: 100.01
    assert shown(company["median_profit"]) == D("100.01")


def test_arpu_is_shown_rounded_half_up(half_cent_book):
    company = compute().company
    # March ARPU 200.01 / 2 active = 100.005 -> shown half-up: 100.01
    march = next(row for row in company["arpu"] if row["month"] == "2026-03")
    assert (march["revenue"], march["active"]) == ("200.01", 2)
    assert shown(march["arpu"]) == D("100.01")
