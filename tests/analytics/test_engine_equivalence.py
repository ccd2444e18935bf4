"""A run (a reader, the core, storage) stores exactly what the plain-Python reference computes
(tests/analytics/reference.py): every field of every CustomerResult and the whole company JSON, on
randomized but deterministic books full of ties and edge cases, on SQLite (the ORM reader) and on
PostgreSQL (the SQL reader). On PostgreSQL the two readers also return identical rows.

The book: 90 customers whose codes mix upper and lower case (so "ties by code" must compare code
points, not a locale's collation), revenues and costs drawn from a few values (equal revenues, equal
profits, equal scores), drains, prospects with and without older orders, customers without invoices,
surveys or prior revenue, churn inside and outside the window, complaints (some not counted), orders
on the edge days of a mid-month window, cancelled and returned orders.
"""

import datetime
import random
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from analytics.models import AnalysisRun, CostModel, CustomerResult, ScoringModel, TierRules
from analytics.services import readers
from analytics.services.core import Window
from analytics.services.runs import run_compute, run_request, run_window
from analytics.totals import monthly_totals_rebuild
from complaints.models import State
from complaints.workflow import complaint_transition
from crm.models import Customer, Interaction, Invoice, Order, Survey
from tests.factories import CustomerFactory, make_complaint

from .reference import reference_run

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIELDS = [f.attname for f in CustomerResult._meta.concrete_fields if f.attname not in ("id", "run_id")]
D = Decimal


def _day(rng: random.Random, start: datetime.date, end: datetime.date) -> datetime.date:
    return start + datetime.timedelta(days=rng.randint(0, (end - start).days))


def build_book(seed: int, as_of: datetime.date) -> None:
    rng = random.Random(seed)
    CostModel.objects.create(order_handling_cost=D("12.50"), complaint_handling_cost=D("80.00"))
    customers = []
    for i in range(90):
        code = f"{rng.choice('AaBbZz')}{i % 7}-{i:03d}" if i % 3 else f"{rng.choice('Kk')}{i % 5}"
        code = code if code not in {c.code for c in customers} else f"{code}x{i}"
        since = (
            None if rng.random() < 0.3 else _day(rng, datetime.date(2019, 1, 1), as_of + datetime.timedelta(days=40))
        )
        churned = None
        if rng.random() < 0.15:
            churned = _day(rng, as_of - datetime.timedelta(days=500), as_of + datetime.timedelta(days=20))
        referred_by = rng.choice(customers) if customers and rng.random() < 0.3 else None
        customers.append(
            CustomerFactory(
                code=code,
                since=since,
                growth_potential=rng.randint(1, 5),
                strategic=rng.random() < 0.1,
                referred_by=referred_by,
                churned_on=churned,
                churn_reason=rng.choice(["price", "service", "competitor", ""]) if churned else "",
            )
        )
    history_start = as_of - datetime.timedelta(days=3 * 365)
    edges = [as_of, as_of - datetime.timedelta(days=365), as_of - datetime.timedelta(days=364), as_of.replace(day=1)]
    revenues = [D("1000.00"), D("2500.00"), D("2500.00"), D("799.99"), D("12345.67"), D("0.01")]
    orders, number = [], 0
    twins = {}
    for index, customer in enumerate(customers):
        kind = index % 10
        if kind == 9:  # a prospect that never ordered
            continue
        if kind == 8:  # a prospect with only old orders (dormant unless churned)
            count, start, end = rng.randint(1, 3), history_start, as_of - datetime.timedelta(days=400)
        else:
            count, start, end = rng.randint(1, 12), history_start, as_of + datetime.timedelta(days=20)
        if kind == 7 and index - 1 in twins:  # the twin of the previous customer: same orders, same scores
            planned = twins[index - 1]
        else:
            planned = []
            for _ in range(count):
                on = rng.choice(edges) if rng.random() < 0.2 else _day(rng, start, end)
                revenue = rng.choice(revenues)
                cost = (revenue * rng.choice([D("0.5"), D("0.9"), D("1.2"), D("0.75")])).quantize(D("0.01"))
                status = rng.choice(
                    [Order.Status.DELIVERED] * 6 + [Order.Status.OPEN, Order.Status.CANCELLED, Order.Status.RETURNED]
                )
                promised = on + datetime.timedelta(days=rng.randint(1, 10)) if rng.random() < 0.7 else None
                delivered = (
                    on + datetime.timedelta(days=rng.randint(1, 12)) if promised and rng.random() < 0.8 else None
                )
                planned.append(
                    (
                        on,
                        revenue,
                        cost,
                        D(rng.choice(["0.00", "10.00", "33.33"])),
                        status,
                        promised,
                        delivered,
                        rng.random() < 0.1,
                    )
                )
            twins[index] = planned
        for on, revenue, cost, service, status, promised, delivered, error in planned:
            number += 1
            orders.append(
                Order(
                    number=f"EQ{seed}-{number:06d}",
                    customer=customer,
                    ordered_on=on,
                    revenue=revenue,
                    cost=cost,
                    service_cost=service,
                    quantity=1,
                    status=status,
                    promised_on=promised,
                    delivered_on=delivered,
                    entry_error=error,
                )
            )
    Order.objects.bulk_create(orders)
    monthly_totals_rebuild()

    invoices, surveys, interactions = [], [], []
    for index, customer in enumerate(customers):
        if index % 4 == 0:
            continue  # no invoices at all
        for n in range(rng.randint(0, 5)):
            due = rng.choice(
                [
                    as_of,
                    as_of - datetime.timedelta(days=365),
                    _day(rng, as_of - datetime.timedelta(days=420), as_of + datetime.timedelta(days=30)),
                ]
            )
            paid = None if rng.random() < 0.3 else due + datetime.timedelta(days=rng.randint(-5, 25))
            invoices.append(
                Invoice(
                    number=f"EQI{seed}-{index}-{n}",
                    customer=customer,
                    issued_on=due - datetime.timedelta(days=30),
                    due_on=due,
                    amount=rng.choice([D("100.00"), D("250.50")]),
                    paid_on=paid,
                )
            )
        if index % 3:
            for _ in range(rng.randint(0, 3)):
                surveys.append(
                    Survey(
                        customer=customer,
                        answered_on=_day(rng, as_of - datetime.timedelta(days=500), as_of),
                        score=rng.randint(1, 5),
                    )
                )
        if index % 5:
            for _ in range(rng.randint(0, 3)):
                interactions.append(
                    Interaction(
                        customer=customer,
                        occurred_on=_day(
                            rng, as_of - datetime.timedelta(days=200), as_of + datetime.timedelta(days=10)
                        ),
                        kind=Interaction.Kind.choices[0][0],
                    )
                )
    Invoice.objects.bulk_create(invoices)
    Survey.objects.bulk_create(surveys)
    Interaction.objects.bulk_create(interactions)
    for index, customer in enumerate(customers[::6]):
        on = _day(rng, as_of - datetime.timedelta(days=400), as_of)
        received = datetime.datetime.combine(on, datetime.time(rng.choice([0, 7, 12, 23]), 30), tzinfo=SHANGHAI)
        complaint = make_complaint(customer=customer, received_at=received)
        if index % 4 == 1:
            complaint_transition(complaint=complaint, to=State.REJECTED, by=None, note="Not ours")


def compute(as_of: datetime.date) -> AnalysisRun:
    run, created = run_request(trigger=AnalysisRun.Trigger.COMMAND, as_of=as_of, enqueue=False)
    assert created
    run_compute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    return run


def stored(run: AnalysisRun) -> dict:
    return {values.pop("customer_id"): values for values in CustomerResult.objects.filter(run=run).values(*FIELDS)}


def reference(run: AnalysisRun, previous: AnalysisRun) -> tuple[dict, dict]:
    previous_tiers = dict(
        previous.results.filter(customer__created_at__lte=previous.started_at).values_list("customer_id", "tier")
    )
    return reference_run(
        run_window(run),
        weights=run.scoring_model.weights,
        core_pct=run.tier_rules.core_pct,
        key_pct=run.tier_rules.key_pct,
        order_handling_cost=run.cost_model.order_handling_cost,
        complaint_handling_cost=run.cost_model.complaint_handling_cost,
        previous_tiers=previous_tiers,
    )


SCORING = {
    "default": None,
    "five factors": [["margin", 3], ["delivery", 2], ["satisfaction", 2], ["complaints", 1], ["tenure", 1]],
    "ties everywhere": [["potential", 1], ["referrals", 1], ["payment", 5]],
}


@pytest.mark.parametrize(
    "as_of",
    # Mid-month read from the month before plus days (15th) or from its own month less days (24th); month ends.
    [datetime.date(2026, 6, 15), datetime.date(2026, 11, 24), datetime.date(2026, 6, 30), datetime.date(2028, 2, 29)],
)
@pytest.mark.parametrize("scoring", list(SCORING))
def test_a_run_stores_what_the_reference_computes(as_of, scoring):
    build_book(seed=as_of.toordinal() % 97 + len(scoring), as_of=as_of)
    if SCORING[scoring]:
        ScoringModel.objects.create(factors=SCORING[scoring])
    TierRules.objects.create(core_pct=15, key_pct=45)
    # A previous run with other figures (a month earlier), so the tier migration has something to compare.
    previous = compute(as_of - datetime.timedelta(days=31))
    run = compute(as_of)
    rows, company = reference(run, previous)
    assert_same(stored(run), rows)
    assert run.company == company
    # The book has what the comparison is meant to cover.
    tiers = company["tiers"]
    assert tiers["P"] > 0 and tiers["D"] > 0 and tiers["A"] > 0
    assert company["tier_migration"], "the previous run was compared with"
    results = CustomerResult.objects.filter(run=run, tier__in="ABCD")
    assert results.values("score").distinct().count() < results.count(), "some scores are tied"
    assert (
        results.filter(on_time_payment_pct__isnull=True).exists() and results.filter(growth_pct__isnull=True).exists()
    )
    assert Customer.objects.filter(churned_on__isnull=False).exists()


def assert_same(stored_rows: dict, expected: dict) -> None:
    assert stored_rows.keys() == expected.keys()
    for customer_id, values in expected.items():
        differences = {
            name: (value, stored_rows[customer_id][name])
            for name, value in values.items()
            if value != stored_rows[customer_id][name]
        }
        assert not differences, f"customer {customer_id}: {differences}"


@pytest.mark.postgres
@pytest.mark.parametrize("as_of", [datetime.date(2026, 6, 15), datetime.date(2026, 11, 24), datetime.date(2026, 6, 30)])
def test_the_sql_reader_and_the_orm_reader_return_the_same_rows(as_of):
    build_book(seed=as_of.toordinal() % 89, as_of=as_of)
    window = Window.ending(as_of)
    sql, orm = readers._sql_book(window, "analytics_scratch_test"), readers._orm_book(window)
    assert (sql.code, sql.churn_reason) == (orm.code, orm.churn_reason)
    for name, column in sql.columns.items():
        assert column.tolist() == orm.columns[name].tolist(), name
    assert readers._sql_company_inputs(window) == readers._orm_company_inputs(window)
