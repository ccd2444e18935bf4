"""Every complaint KPI on one hand-built data set, driven through the real workflow with fixed clocks."""

import datetime
from decimal import Decimal

import pytest

from complaints.models import Complaint, State
from complaints.selectors import PercentileCont, complaint_kpis, percentile
from complaints.services import complaint_add_note, complaint_mark_breaches
from complaints.workflow import complaint_transition
from tests.factories import CustomerFactory, OrderFactory, ProblemFactory, SurveyFactory, make_complaint

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 1, 8, 0, tzinfo=datetime.UTC)
START, END = T0, T0 + datetime.timedelta(days=31)
NOW = T0 + datetime.timedelta(days=40)


def at(hours: float) -> datetime.datetime:
    return T0 + datetime.timedelta(hours=hours)


def step(complaint, to, hours, **details):
    return complaint_transition(complaint=complaint, to=to, by=None, now=at(hours), **details)


def respond(complaint, hours):
    complaint_add_note(complaint=complaint, by=None, body="已回复客户", visibility="customer", at=at(hours))
    complaint.refresh_from_db()
    return complaint


def resolve_path(complaint, *, notify, resolved, problem=None):
    complaint = step(complaint, State.ACKNOWLEDGED, notify - 0.5 if notify > 1 else 0.1)
    complaint = step(complaint, State.INVESTIGATING, notify - 0.2 if notify > 1 else 0.2)
    complaint = step(complaint, State.ACTION_COMMUNICATED, notify, action_plan="换货", customer_notified_at=at(notify))
    return step(complaint, State.RESOLVED, resolved, root_cause="包装", problem=problem)


@pytest.fixture
def book():
    """Severity medium everywhere: first response due in 24 h, resolution in 120 h.

    C1 received T0:      notified at 2 h, resolved at 10 h                  first 2 h, resolution 10 h
    C2 received T0:      customer note at 4 h, awaiting customer 5 h..25 h (20 h paused),
                         notified 30 h, resolved 50 h                       first 4 h, resolution 50-20 = 30 h
    C3 received T0:      notified at 30 h (late: breach), resolved 40 h     first 30 h, resolution 40 h
    C4 received T0+1h:   notified 2 h, resolved 3 h, closed 10 h, reopened 20 h (still investigating)
                                                                            first 1 h, resolution 2 h
    C5 received T0+2d:   open, never answered -> breaches at NOW            no first response
    C6 received T0+30d:  open, answered at +6 h                             first 6 h
    C7 received T0:      rejected (not measured)
    C8 received T0:      duplicate of C1 (not measured)
    C9 received T0-60d:  before the period (not measured), same problem as C1; never answered, still open
    C10 received T0+35d: after the period; open at NOW (backlog only)
    """
    customer = CustomerFactory()
    problem, other_problem = ProblemFactory(title="包装破损"), ProblemFactory(title="发票错误")
    c = {}
    c[9] = make_complaint(
        customer=customer, received_at=T0 - datetime.timedelta(days=60), severity="medium", problem=problem
    )
    c[1] = resolve_path(
        make_complaint(customer=customer, received_at=T0, severity="medium"), notify=2, resolved=10, problem=problem
    )
    c[2] = make_complaint(customer=customer, received_at=T0, severity="medium")
    c[2] = step(c[2], State.ACKNOWLEDGED, 1)
    c[2] = respond(c[2], 4)
    c[2] = step(c[2], State.INVESTIGATING, 4.5)
    c[2] = step(c[2], State.AWAITING_CUSTOMER, 5)
    c[2] = step(c[2], State.INVESTIGATING, 25)
    c[2] = step(c[2], State.ACTION_COMMUNICATED, 30, action_plan="退款", customer_notified_at=at(30))
    c[2] = step(c[2], State.RESOLVED, 50, root_cause="包装", problem=problem)
    c[3] = resolve_path(
        make_complaint(customer=customer, received_at=T0, severity="medium"),
        notify=30,
        resolved=40,
        problem=other_problem,
    )
    c[4] = make_complaint(customer=customer, received_at=at(1), severity="medium")
    c[4] = resolve_path(c[4], notify=2, resolved=3)
    c[4] = step(c[4], State.CLOSED, 10)
    c[4] = step(c[4], State.INVESTIGATING, 20, note="又坏了")
    c[5] = make_complaint(customer=customer, received_at=T0 + datetime.timedelta(days=2), severity="medium")
    c[6] = make_complaint(customer=customer, received_at=T0 + datetime.timedelta(days=30), severity="medium")
    c[6] = respond(c[6], 30 * 24 + 6)
    c[7] = step(
        make_complaint(customer=customer, received_at=T0, severity="medium"), State.REJECTED, 1, note="非我司产品"
    )
    c[8] = step(
        make_complaint(customer=customer, received_at=T0, severity="medium"), State.DUPLICATE, 1, duplicate_of=c[1]
    )
    c[10] = make_complaint(customer=customer, received_at=T0 + datetime.timedelta(days=35), severity="medium")
    complaint_mark_breaches(now=NOW)
    # Orders in the period: 6 counted (a cancelled one does not count), one outside it.
    for day in (1, 5, 10, 15, 20, 25):
        OrderFactory(customer=customer, ordered_on=datetime.date(2026, 3, day))
    OrderFactory(customer=customer, ordered_on=datetime.date(2026, 3, 2), status="cancelled")
    OrderFactory(customer=customer, ordered_on=datetime.date(2026, 4, 15))
    # Post-complaint surveys: 5 and 2 on measured complaints; 1 on the rejected one (not measured).
    SurveyFactory(customer=customer, complaint=c[1], score=5)
    SurveyFactory(customer=customer, complaint=c[2], score=2)
    SurveyFactory(customer=customer, complaint=c[7], score=1)
    return c


def test_every_kpi(book):
    kpis = complaint_kpis(start=START, end=END, now=NOW)
    assert kpis == {
        # measured: C1..C6 (C7 rejected, C8 duplicate, C9 before, C10 after)
        "complaints": 6,
        # first responses (h): C4 1, C1 2, C2 4, C6 6, C3 30 -> median 4; p90 at 0.9*4 = 3.6: 6 + 0.6*(30-6) = 20.4
        "first_response_median_hours": Decimal("4.00"),
        "first_response_p90_hours": Decimal("20.40"),
        # resolutions (h): C4 2, C1 10, C2 30 (50 - 20 paused), C3 40 -> median (10+30)/2 = 20;
        # p90 at 0.9*3 = 2.7: 30 + 0.7*(40-30) = 37
        "resolution_median_hours": Decimal("20.00"),
        "resolution_p90_hours": Decimal("37.00"),
        # outcome known: all six. C1, C2 resolved on time; C3 answered late; C5 never answered; C4 reopened
        # and open past its resolution due (T0+121 h); C6 open past its due (T0+30 d+120 h) -> 2 of 6 = 33.3
        "sla_compliance_pct": Decimal("33.3"),
        # open at NOW (T0+40 d), whenever received: C9 (100 d), C4 (40 d - 1 h), C5 (38 d), C6 (10 d), C10 (5 d)
        "backlog_by_age": {"d0_1": 0, "d1_3": 0, "d3_7": 1, "d7_plus": 4},
        # days open: 100 + (40 - 1/24) + 38 + 10 + 5 = 192.958333.. -> 192.96
        "unresolved_customer_days": Decimal("192.96"),
        # resolved at least once: C1, C2, C3, C4; reopened: C4 -> 1/4 = 25.0
        "reopen_rate_pct": Decimal("25.0"),
        # C1 and C2 on the same problem as C9 (60 days earlier, within 90): both recur; C3's problem is new
        # -> 2 of 6 = 33.3
        "recurrence_rate_pct": Decimal("33.3"),
        # 6 complaints / 6 counted orders in March * 100
        "complaints_per_100_orders": Decimal("100.00"),
        # surveys on measured complaints: 5 and 2 -> 3.5
        "post_complaint_satisfaction": Decimal("3.50"),
    }


def test_the_paused_and_reopened_complaints_as_recorded(book):
    paused, reopened = Complaint.objects.get(pk=book[2].pk), Complaint.objects.get(pk=book[4].pk)
    assert paused.paused_seconds == 20 * 3600
    assert paused.resolution_due_at == T0 + datetime.timedelta(hours=120 + 20)
    assert paused.resolution_seconds == 30 * 3600
    assert (reopened.state, reopened.reopen_count, reopened.resolved_at) == (State.INVESTIGATING, 1, at(3))
    assert Complaint.objects.get(pk=book[3].pk).first_response_breached is True
    breached = Complaint.objects.get(pk=book[5].pk)
    assert breached.first_response_breached and breached.resolution_breached


def test_recurrence_needs_the_earlier_complaint_within_90_days():
    customer, problem = CustomerFactory(), ProblemFactory()
    make_complaint(customer=customer, received_at=T0 - datetime.timedelta(days=91), problem=problem)
    make_complaint(customer=customer, received_at=T0, problem=problem)
    assert complaint_kpis(start=START, end=END, now=NOW)["recurrence_rate_pct"] == Decimal("0.0")


def test_backlog_bucket_boundaries():
    customer = CustomerFactory()
    for days in (0.5, 1, 2.99, 3, 6.99, 7):
        make_complaint(customer=customer, received_at=NOW - datetime.timedelta(days=days))
    # exactly 1 day old falls in [1, 3); exactly 3 in [3, 7); exactly 7 in 7+
    assert complaint_kpis(start=START, end=END, now=NOW)["backlog_by_age"] == {
        "d0_1": 1,
        "d1_3": 2,
        "d3_7": 2,
        "d7_plus": 1,
    }


def test_an_empty_period():
    assert complaint_kpis(start=START, end=END, now=NOW) == {
        "complaints": 0,
        "first_response_median_hours": None,
        "first_response_p90_hours": None,
        "resolution_median_hours": None,
        "resolution_p90_hours": None,
        "sla_compliance_pct": None,
        "backlog_by_age": {"d0_1": 0, "d1_3": 0, "d3_7": 0, "d7_plus": 0},
        "unresolved_customer_days": Decimal("0.00"),
        "reopen_rate_pct": None,
        "recurrence_rate_pct": None,
        "complaints_per_100_orders": None,
        "post_complaint_satisfaction": None,
    }


@pytest.mark.parametrize(
    "values, fraction, expected",
    [([7], 0.5, 7), ([1, 3], 0.5, 2), ([5, 1, 3], 0.5, 3), ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9, 9.1)],
)
def test_percentile(values, fraction, expected):
    customer = CustomerFactory()
    for seconds in values:
        complaint = make_complaint(customer=customer, received_at=T0)
        Complaint.objects.filter(pk=complaint.pk).update(first_response_seconds=seconds)
    assert percentile(Complaint.objects.all(), "first_response_seconds", fraction) == pytest.approx(expected)


def test_kpis_take_a_fixed_number_of_queries(book, django_assert_max_num_queries):
    with django_assert_max_num_queries(12) as few:
        complaint_kpis(start=START, end=END, now=NOW)
    customer = CustomerFactory()
    for i in range(20):
        make_complaint(customer=customer, received_at=T0 + datetime.timedelta(hours=i), problem=ProblemFactory())
    with django_assert_max_num_queries(len(few.captured_queries)):
        complaint_kpis(start=START, end=END, now=NOW)


@pytest.mark.postgres
def test_on_postgresql_the_kpis_take_five_queries(book, django_assert_num_queries):
    """The counts and the four percentiles in one scan (percentile_cont), then the recurring ones, the
    backlog, the orders and the surveys: five queries (issue 17.6: the service report's server time)."""
    with django_assert_num_queries(5):
        kpis = complaint_kpis(start=START, end=END, now=NOW)
    assert kpis == complaint_kpis_by_hand()


def complaint_kpis_by_hand() -> dict:
    """test_every_kpi's figures (the same book)."""
    return {
        "complaints": 6,
        "first_response_median_hours": Decimal("4.00"),
        "first_response_p90_hours": Decimal("20.40"),
        "resolution_median_hours": Decimal("20.00"),
        "resolution_p90_hours": Decimal("37.00"),
        "sla_compliance_pct": Decimal("33.3"),
        "backlog_by_age": {"d0_1": 0, "d1_3": 0, "d3_7": 1, "d7_plus": 4},
        "unresolved_customer_days": Decimal("192.96"),
        "reopen_rate_pct": Decimal("25.0"),
        "recurrence_rate_pct": Decimal("33.3"),
        "complaints_per_100_orders": Decimal("100.00"),
        "post_complaint_satisfaction": Decimal("3.50"),
    }


@pytest.mark.postgres
@pytest.mark.parametrize(
    "values, fraction, expected",
    [
        ([7], 0.5, 7),
        ([1, 3], 0.5, 2),
        ([5, 1, 3], 0.5, 3),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9, 9.1),
        ([], 0.5, None),
    ],
)
def test_percentile_cont_is_the_same_percentile(values, fraction, expected):
    customer = CustomerFactory()
    for seconds in [*values, None]:  # a complaint without a first response counts for neither
        complaint = make_complaint(customer=customer, received_at=T0)
        Complaint.objects.filter(pk=complaint.pk).update(first_response_seconds=seconds)
    found = Complaint.objects.aggregate(p=PercentileCont("first_response_seconds", fraction))["p"]
    assert found == percentile(Complaint.objects.all(), "first_response_seconds", fraction)
    assert found == (None if expected is None else pytest.approx(expected))
