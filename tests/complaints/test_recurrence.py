"""One definition of recurrence (DESIGN section 4): a complaint whose problem already had another
complaint received in the 90 days before it. The KPI and the problem page read the same function
(complaints.selectors.complaints_with_recurrence), so they agree, edge days included."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from complaints.models import Complaint, State
from complaints.selectors import complaint_kpis, complaints_with_recurrence
from complaints.workflow import complaint_transition
from tests.factories import CustomerFactory, ProblemFactory, make_complaint

pytestmark = pytest.mark.django_db

DAY0 = datetime.datetime(2025, 1, 1, 9, 0, tzinfo=datetime.UTC)
DAYS = datetime.timedelta(days=1)


@pytest.fixture
def problem():
    """Complaints on one problem; `expected`: which of them recur, worked out by hand."""
    problem, customer = ProblemFactory(title="包装破损"), CustomerFactory()

    def on(day, *, rejected=False, **extra):
        complaint = make_complaint(customer=customer, received_at=DAY0 + day, problem=problem, **extra)
        if rejected:
            complaint_transition(complaint=complaint, to=State.REJECTED, by=None, note="Not ours")
        return complaint

    on(0 * DAYS)  # the first: nothing before it
    on(30 * DAYS)  # 30 days after the first: recurs
    on(120 * DAYS)  # exactly 90 days after the second: recurs (the window's first moment counts)
    on(211 * DAYS)  # 91 days after the third: does not
    on(215 * DAYS, rejected=True)  # rejected: not measured, so never a recurrence
    on(330 * DAYS, rejected=True)
    on(400 * DAYS)  # only a rejected complaint in the 90 days before it: does not
    on(400 * DAYS + datetime.timedelta(seconds=1))  # a second after the previous one: recurs
    make_complaint(customer=customer, received_at=DAY0 + 31 * DAYS)  # no problem: never a recurrence
    return problem, [False, True, True, False, False, False, False, True]


def test_the_problem_page_marks_the_recurrences(client, sales_user, problem):
    problem, expected = problem
    client.force_login(sales_user)
    response = client.get(problem.get_absolute_url())
    assert [c.recurrence for c in response.context["complaints"]] == expected
    assert response.context["recurrences"] == 3


def test_the_kpi_counts_the_same_recurrences(problem):
    problem, expected = problem
    kpis = complaint_kpis(start=DAY0, end=DAY0 + 500 * DAYS, now=DAY0 + 500 * DAYS)
    measured = 8 - 2 + 1  # the problem's complaints less the two rejected, plus the one without a problem
    assert kpis["complaints"] == measured
    assert kpis["recurrence_rate_pct"] == (Decimal(100) * 3 / measured).quantize(Decimal("0.1"))  # 42.9


def test_one_function_decides(problem):
    problem, expected = problem
    rows = complaints_with_recurrence(Complaint.objects.filter(problem=problem)).order_by("received_at")
    assert [row.recurrence for row in rows] == expected


def test_the_problem_page_reads_recurrence_in_its_one_query(client, sales_user, problem, django_assert_max_num_queries):
    problem, _expected = problem
    client.force_login(sales_user)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("complaints:problem_detail", args=[problem.pk])).status_code == 200
