"""Percentiles, ranks, scores, tiers, quadrants, protection and actions (DESIGN section 5), by hand.

Pure functions over hand-made `CustomerFigures`: no database, every expected value worked out in
the comments. Scores are exact Fractions, so equal scores compare equal. Each population is scored by
the reference (tests/analytics/reference.py), whose results the asserts check, and by the core
(analytics/services/core.py), which must decide the same for every customer (`score_population`).
"""

import datetime
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from django.core.exceptions import ValidationError

from analytics.forms import ScoringModelForm
from analytics.models import ScoringModel, validate_factors
from analytics.services import core
from analytics.services.core import NULL, Book, day_number, shift_years, top_share_count

from . import reference
from .reference import CustomerFigures, competition_ranks, median, percentiles

DEFAULT = {"profit": 35, "revenue": 25, "payment": 20, "growth": 20}
D = Decimal
F = Fraction


def fig(
    code,
    revenue="0",
    cost="0",
    *,
    service="0",
    orders=1,
    prior="0",
    invoices=(0, 0),
    complaints=0,
    tenure=None,
    potential=3,
    strategic=False,
) -> CustomerFigures:
    counted, on_time = invoices
    return CustomerFigures(
        customer_id=int(code[1:]) + (100 * ord(code[0])),
        code=code,
        revenue=D(revenue),
        cost_of_goods=D(cost),
        service_cost=D(service),
        orders=orders,
        prior_revenue=D(prior),
        invoices_counted=counted,
        invoices_on_time=on_time,
        late_invoices=counted - on_time,
        complaints=complaints,
        tenure_years=tenure,
        growth_potential=potential,
        strategic=strategic,
    )


AS_OF = datetime.date(2026, 6, 30)


def score_population(customers, **kwargs):
    """The reference's score_population, with the core's decisions checked against it customer by customer."""
    facts = reference.score_population(customers, **kwargs)
    cents = {key: int(kwargs.pop(key, 0) * 100) for key in ("order_handling_cost", "complaint_handling_cost")}
    book = Book(
        code=[c.code for c in customers],
        churn_reason=["" for _c in customers],
        customer_id=[c.customer_id for c in customers],
        orders=[c.orders for c in customers],
        revenue=[int(c.revenue * 100) for c in customers],
        cost_of_goods=[int(c.cost_of_goods * 100) for c in customers],
        service_cost=[int(c.service_cost * 100) for c in customers],
        error_orders=[c.error_orders for c in customers],
        dated=[c.dated_deliveries for c in customers],
        on_time_deliveries=[c.on_time_deliveries for c in customers],
        prior_revenue=[int(c.prior_revenue * 100) for c in customers],
        invoices_on_time=[c.invoices_on_time for c in customers],
        late_invoices=[c.late_invoices for c in customers],
        days_late=[c.days_late_total for c in customers],
        overdue_amount=[int(c.overdue_amount * 100) for c in customers],
        complaints=[c.complaints for c in customers],
        survey_total=[c.survey_total for c in customers],
        survey_count=[c.survey_count for c in customers],
        referrals=[c.referrals for c in customers],
        growth_potential=[c.growth_potential for c in customers],
        strategic=[int(c.strategic) for c in customers],
        since=[NULL if c.tenure_years is None else day_number(shift_years(AS_OF, -c.tenure_years)) for c in customers],
        first_order_on=[NULL for _c in customers],
        last_order_on=[NULL for _c in customers],
        last_contact_on=[NULL for _c in customers],
        churned_on=[NULL for _c in customers],
    )
    scored = core.score(
        book,
        as_of=AS_OF,
        weights=kwargs["weights"],
        core_pct=kwargs.get("core_pct", 20),
        key_pct=kwargs.get("key_pct", 50),
        order_handling_cents=cents["order_handling_cost"],
        complaint_handling_cents=cents["complaint_handling_cost"],
    )
    columns, has = scored.columns, scored.with_orders
    position = {i: p for p, i in enumerate(np.flatnonzero(has).tolist())}
    for i, c in enumerate(customers):
        decided = {
            "cost_to_serve": D(int(columns["cost_to_serve"][i])) / 100,
            "tier": core.TIERS[columns["tier"][i]],
            "quadrant": core.QUADRANTS[columns["quadrant"][i]],
            "protection": core.PROTECTIONS[columns["protection"][i]],
            "action": core.ACTIONS[columns["action"][i]],
            "rank": None if columns["rank"][i] == NULL else int(columns["rank"][i]),
        }
        expected = {
            "cost_to_serve": c.cost_to_serve,
            "tier": c.tier,
            "quadrant": c.quadrant,
            "protection": ";".join(c.protection),
            "action": c.action,
            "rank": c.rank,
        }
        if i in position:
            p = position[i]
            decided["score"] = scored.exact_score(p)
            decided["percentiles"] = {
                f: F(50, 1) if q[p] == NULL else F(50 * int(q[p]), d) for f, (q, d) in scored.pairs.items()
            }
            expected["score"] = c.score
            expected["percentiles"] = {f: c.percentile(f) for f in scored.pairs}
        assert decided == expected, c.code
    return facts


def by_code(customers):
    return {c.code: c for c in customers}


# --- percentiles, ranks, median, top share -------------------------------------------------


def test_percentile_of_a_single_customer_is_100():
    assert percentiles({1: D("-5")}) == {1: 100}
    assert percentiles({1: 0}, descending=True) == {1: 100}


def test_percentile_ties_share_their_average_rank():
    # ascending ranks 1, 2, 3, 4; the two 20s share (2 + 3) / 2 = 2.5
    # 100 * (rank - 1) / (n - 1): 0, 100 * 1.5 / 3 = 50, 50, 100
    assert percentiles({1: 10, 2: 20, 3: 20, 4: 40}) == {1: 0, 2: 50, 3: 50, 4: 100}


def test_percentile_general_case_is_exact():
    # 5 values, n - 1 = 4: ranks 1..5 -> 0, 25, 50, 75, 100; order of the input is irrelevant
    assert percentiles({7: 30, 3: 10, 9: 50, 1: 20, 5: 40}) == {3: 0, 1: 25, 7: 50, 5: 75, 9: 100}
    # 4 values, three tied at the bottom: ranks 1, 2, 3 -> average 2 -> 100 * 1 / 3
    assert percentiles({1: 0, 2: 0, 3: 0, 4: 9}) == {1: F(100, 3), 2: F(100, 3), 3: F(100, 3), 4: 100}


def test_percentile_descending_when_less_is_better():
    # complaints: fewer is better, so rank descending: 5 complaints rank 1 (0), 0 complaints rank 4 (100);
    # the two 2s share ranks 2 and 3 -> 50
    assert percentiles({1: 0, 2: 2, 3: 2, 4: 5}, descending=True) == {1: 100, 2: 50, 3: 50, 4: 0}


def test_competition_ranks_share_the_better_rank():
    assert competition_ranks({1: 10, 2: 8, 3: 8, 4: 5}) == {1: 1, 2: 2, 3: 2, 4: 4}
    assert competition_ranks({1: 3, 2: 3, 3: 3}) == {1: 1, 2: 1, 3: 1}
    assert competition_ranks({1: F(1, 3), 2: F(2, 6), 3: F(1, 2)}) == {3: 1, 1: 2, 2: 2}


def test_median_odd_and_even():
    assert median([D("3"), D("1"), D("2")]) == D("2")
    assert median([D("4"), D("1"), D("3"), D("2")]) == D("2.5")
    # exact for money: the mean of 100.00 and 100.01 is 100.005, not rounded
    assert median([D("100.00"), D("100.01")]) == D("100.005")
    assert median([D("-270"), D("-120"), D("3790"), D("7160"), D("9480"), D("20160")]) == D("5475")
    assert median([]) is None


@pytest.mark.parametrize(
    "n, pct, expected",
    [
        (7, 20, 2),  # 1.4 -> 2
        (5, 20, 1),  # 1.0 -> 1
        (6, 20, 2),  # 1.2 -> 2
        (10, 20, 2),
        (6, 50, 3),
        (7, 50, 4),  # 3.5 -> 4
        (5, 10, 1),  # 0.5 -> 1
        (11, 10, 2),  # 1.1 -> 2
        (1, 20, 1),
        (0, 20, 0),
    ],
)
def test_top_share_count_is_the_ceiling(n, pct, expected):
    assert top_share_count(n, pct) == expected


# --- the whole scoring of a small population -----------------------------------------------


@pytest.fixture
def population():
    """Five customers with orders and one prospect; cost model: 10 per order, 100 per complaint."""
    return [
        # S1: 2 of 4 invoices on time (50%), growth 0%, biggest revenue
        fig("S1", "10000", "8000", service="500", orders=5, prior="10000", invoices=(4, 2), complaints=2, tenure=1),
        # S2: all invoices on time, growth +50%
        fig("S2", "6000", "3000", service="200", orders=2, prior="4000", invoices=(2, 2), tenure=2),
        # S3: no invoices (payment 50), no prior revenue (growth 'new', 50), rating 2
        fig("S3", "4000", "2000", service="100", orders=4, potential=2, tenure=0),
        # S4: makes a loss, loyal (tenure 5)
        fig("S4", "3000", "2900", service="200", orders=3, prior="3000", invoices=(1, 1), complaints=1, tenure=5),
        # S5: makes a loss, not protected
        fig("S5", "1000", "900", service="150", orders=1, prior="2000", invoices=(1, 0), potential=2, tenure=1),
        # S6: no orders in the window (prospect), one complaint
        fig("S6", orders=0, complaints=1, tenure=7, strategic=True),
    ]


def score(population, **kwargs):
    facts = score_population(
        population, weights=DEFAULT, order_handling_cost=D("10"), complaint_handling_cost=D("100"), **kwargs
    )
    return by_code(population), facts


def test_cost_to_serve_and_profit(population):
    c, _facts = score(population)
    # cost to serve = service cost + orders x 10 + complaints x 100
    assert c["S1"].cost_to_serve == D("750")  # 500 + 5 x 10 + 2 x 100
    assert c["S1"].profit == D("1250")  # (10000 - 8000) - 750
    assert c["S2"].cost_to_serve == D("220")  # 200 + 2 x 10
    assert c["S2"].profit == D("2780")  # 3000 - 220
    assert c["S3"].cost_to_serve == D("140")  # 100 + 4 x 10
    assert c["S3"].profit == D("1860")  # 2000 - 140
    assert c["S4"].cost_to_serve == D("330")  # 200 + 3 x 10 + 1 x 100
    assert c["S4"].profit == D("-230")  # 100 - 330
    assert c["S5"].cost_to_serve == D("160")  # 150 + 1 x 10
    assert c["S5"].profit == D("-60")  # 100 - 160
    assert c["S6"].cost_to_serve == D("100")  # 0 + 0 x 10 + 1 x 100


def test_percentiles_of_each_factor(population):
    c, facts = score(population)
    assert facts["n"] == 5
    # n = 5 with orders, so 100 * (rank - 1) / 4 = 25 * (rank - 1)
    # profit ascending: S4 -230, S5 -60, S1 1250, S3 1860, S2 2780
    assert {k: c[k].percentile("profit") for k in c if k != "S6"} == {"S4": 0, "S5": 25, "S1": 50, "S3": 75, "S2": 100}
    # revenue ascending: S5 1000, S4 3000, S3 4000, S2 6000, S1 10000
    assert {k: c[k].percentile("revenue") for k in c if k != "S6"} == {"S5": 0, "S4": 25, "S3": 50, "S2": 75, "S1": 100}
    # payment on-time %: S1 50, S2 100, S4 100, S5 0; S3 has no invoices -> 50.
    # Among the 4 known: S5 rank 1 -> 0, S1 rank 2 -> 100/3, S2 and S4 share 3 and 4 -> 3.5 -> 100 * 2.5 / 3
    assert c["S5"].percentile("payment") == 0
    assert c["S1"].percentile("payment") == F(100, 3)
    assert c["S2"].percentile("payment") == c["S4"].percentile("payment") == F(250, 3)
    assert c["S3"].percentile("payment") == 50
    # growth %: S1 0, S2 +50, S4 0, S5 -50; S3 'new' (no prior revenue) -> 50
    # Among the 4 known: S5 rank 1 -> 0, S1 and S4 share 2 and 3 -> 2.5 -> 50, S2 rank 4 -> 100
    assert c["S3"].growth_pct is None
    assert c["S1"].growth_pct == 0 and c["S2"].growth_pct == 50 and c["S5"].growth_pct == -50
    assert {k: c[k].percentile("growth") for k in c if k != "S6"} == {"S5": 0, "S1": 50, "S4": 50, "S2": 100, "S3": 50}
    # potential rating: S3 and S5 rate 2 (ranks 1, 2 -> 1.5 -> 12.5), S1, S2, S4 rate 3 (ranks 3-5 -> 4 -> 75)
    assert {k: c[k].percentile("potential") for k in c if k != "S6"} == {
        "S3": F(25, 2),
        "S5": F(25, 2),
        "S1": 75,
        "S2": 75,
        "S4": 75,
    }
    # a prospect is outside the population: no percentiles
    assert c["S6"].percentiles == {}


def test_scores_are_the_weighted_mean_of_percentiles(population):
    c, _facts = score(population)
    # score = (35 profit + 25 revenue + 20 payment + 20 growth) / 100
    # S1: (35 x 50 + 25 x 100 + 20 x 100/3 + 20 x 50) / 100 = (5250 + 2000/3) / 100 = 355/6 = 59.1667
    assert c["S1"].score == F(355, 6)
    # S2: (35 x 100 + 25 x 75 + 20 x 250/3 + 20 x 100) / 100 = (7375 + 5000/3) / 100 = 1085/12 = 90.4167
    assert c["S2"].score == F(1085, 12)
    # S3: (35 x 75 + 25 x 50 + 20 x 50 + 20 x 50) / 100 = 5875 / 100 = 235/4 = 58.75
    assert c["S3"].score == F(235, 4)
    # S4: (35 x 0 + 25 x 25 + 20 x 250/3 + 20 x 50) / 100 = (1625 + 5000/3) / 100 = 395/12 = 32.9167
    assert c["S4"].score == F(395, 12)
    # S5: (35 x 25 + 25 x 0 + 20 x 0 + 20 x 0) / 100 = 875 / 100 = 35/4 = 8.75
    assert c["S5"].score == F(35, 4)
    assert c["S6"].score is None and c["S6"].rank is None


def test_ranks_tiers_quadrants_protection_and_actions(population):
    c, facts = score(population)
    # ranks by score: S2 90.4, S1 59.2, S3 58.75, S4 32.9, S5 8.75 (drains are ranked too)
    assert {k: c[k].rank for k in c} == {"S2": 1, "S1": 2, "S3": 3, "S4": 4, "S5": 5, "S6": None}
    # S4 and S5 lose money -> D. The other m = 3: A if rank <= ceil(0.6) = 1, B if <= ceil(1.5) = 2.
    # S6 has a negative profit too (a complaint, no orders) but no orders: P, not D.
    assert c["S6"].profit == D("-100")
    assert {k: c[k].tier for k in c} == {"S2": "A", "S1": "B", "S3": "C", "S4": "D", "S5": "D", "S6": "P"}
    # median profit of the 5 with orders: -230, -60, 1250, 1860, 2780 -> 1250
    assert facts["median_profit"] == D("1250")
    # current: profit >= 1250 -> S1 (equal), S2, S3. future: (growth pct + potential pct) / 2 >= 50:
    # S1 (50 + 75) / 2 = 62.5 yes; S2 (100 + 75) / 2 yes; S3 (50 + 12.5) / 2 = 31.25 no;
    # S4 (50 + 75) / 2 = 62.5 yes; S5 (0 + 12.5) / 2 no
    assert {k: c[k].quadrant for k in c} == {
        "S1": "champion",
        "S2": "champion",
        "S3": "harvest",
        "S4": "star",
        "S5": "exit",
        "S6": "",
    }
    # big: the top ceil(0.1 x 5) = 1 by revenue -> S1; S2 growth 50% >= 30 -> potential; S4 tenure 5 -> loyal.
    # S6 is strategic with tenure 7 but a prospect: no protection is computed for it.
    assert {k: c[k].protection for k in c} == {
        "S1": ["big"],
        "S2": ["potential"],
        "S3": [],
        "S4": ["loyal"],
        "S5": [],
        "S6": [],
    }
    # D: review when protected (S4), else reduce (S5); A/B/C by quadrant; P none.
    assert {k: c[k].action for k in c} == {
        "S1": "invest",
        "S2": "invest",
        "S3": "harvest",
        "S4": "review",
        "S5": "reduce",
        "S6": "",
    }


def test_quadrant_actions_and_protection_boundaries():
    """All six profitable, all with revenue 1300 (so 'big' goes to the first by code)."""
    people = by_code(
        [
            # growth (1300 - 650) / 650 = +100%
            fig("Q1", "1300", "800", prior="650", potential=3, tenure=0),
            # growth (1300 - 1000) / 1000 = exactly +30% -> potential
            fig("Q2", "1300", "900", prior="1000", potential=1, tenure=0),
            # tenure exactly 3 -> loyal
            fig("Q3", "1300", "1000", prior="1300", potential=1, tenure=3),
            # rating exactly 4 -> potential
            fig("Q4", "1300", "1100", prior="1300", potential=4, tenure=2),
            # strategic flag
            fig("Q5", "1300", "1200", prior="1300", potential=1, strategic=True),
            # tenure 2, rating 1, growth 0: nothing protects it
            fig("Q6", "1300", "1250", prior="1300", potential=1, tenure=2),
        ]
    )
    facts = score_population(list(people.values()), weights=DEFAULT)
    c = people
    # profits 500, 400, 300, 200, 100, 50: median (300 + 200) / 2 = 250 -> current: Q1, Q2, Q3
    assert facts["median_profit"] == D("250")
    # n = 6, 20 * (rank - 1). growth: Q3-Q6 at 0% share ranks 1-4 -> 2.5 -> 30; Q2 30% -> 80; Q1 -> 100
    assert [c[k].percentile("growth") for k in sorted(c)] == [100, 80, 30, 30, 30, 30]
    # potential: Q2, Q3, Q5, Q6 rate 1 -> ranks 1-4 -> 30; Q1 (3) -> 80; Q4 (4) -> 100
    assert [c[k].percentile("potential") for k in sorted(c)] == [80, 30, 30, 100, 30, 30]
    # future: Q1 (100 + 80) / 2 = 90, Q2 (80 + 30) / 2 = 55, Q3 30, Q4 (30 + 100) / 2 = 65, Q5 30, Q6 30
    assert {k: c[k].quadrant for k in c} == {
        "Q1": "champion",
        "Q2": "champion",
        "Q3": "harvest",
        "Q4": "star",
        "Q5": "exit",
        "Q6": "exit",
    }
    # big: ceil(0.1 x 6) = 1, all revenues equal -> the first by code, Q1 (also growth 100% -> potential)
    assert {k: c[k].protection for k in c} == {
        "Q1": ["big", "potential"],
        "Q2": ["potential"],
        "Q3": ["loyal"],
        "Q4": ["potential"],
        "Q5": ["strategic"],
        "Q6": [],
    }
    # champion invest, harvest harvest, star develop, exit: review when protected, else reduce
    assert {k: c[k].action for k in c} == {
        "Q1": "invest",
        "Q2": "invest",
        "Q3": "harvest",
        "Q4": "develop",
        "Q5": "review",
        "Q6": "reduce",
    }
    assert {c[k].tier for k in c} <= {"A", "B", "C"}


def test_big_takes_ceil_of_ten_percent_by_revenue_ties_by_code():
    # n = 11 -> ceil(1.1) = 2 big: B1 (top revenue), then B2 and B3 tie at 900 -> B2 by code
    people = by_code(
        [fig("B1", "1000", "0")]
        + [fig(f"B{i}", "900", "0") for i in (3, 2)]
        + [fig(f"B{i}", str(50 * i), "0") for i in range(4, 12)]  # 200 .. 550
    )
    score_population(list(people.values()), weights={"revenue": 1})
    assert {k for k, c in people.items() if "big" in c.protection} == {"B1", "B2"}


def test_ties_share_the_better_rank_and_both_go_to_the_better_tier():
    # weights: revenue only, so the score is the revenue percentile. n = 7 with orders, 100 (r - 1) / 6.
    people = by_code(
        [
            fig("X1", "1000", "1100"),  # a loss: D, but ranked first
            fig("T1", "600", "0"),
            fig("T2", "500", "0"),
            fig("T3", "400", "0"),
            fig("T4", "400", "0"),
            fig("T5", "300", "0"),
            fig("T6", "200", "0"),
        ]
    )
    score_population(list(people.values()), weights={"revenue": 1})
    c = people
    # X1 rank 7 -> 100; T1 -> 250/3; T2 -> 200/3; T3, T4 share ranks 3, 4 -> 3.5 -> 125/3; T5 -> 50/3; T6 -> 0
    assert c["T3"].score == c["T4"].score == F(125, 3)
    assert [c[k].score for k in ("X1", "T1", "T2", "T5", "T6")] == [100, F(250, 3), F(200, 3), F(50, 3), 0]
    assert {k: c[k].rank for k in c} == {"X1": 1, "T1": 2, "T2": 3, "T3": 4, "T4": 4, "T5": 6, "T6": 7}
    # tiers rank the m = 6 non-drain: T1 1, T2 2, T3 3, T4 3, T5 5, T6 6.
    # A: rank <= ceil(1.2) = 2; B: rank <= ceil(3) = 3 -> the tie puts both T3 and T4 in B (4 in A+B)
    assert {k: c[k].tier for k in c} == {"X1": "D", "T1": "A", "T2": "A", "T3": "B", "T4": "B", "T5": "C", "T6": "C"}


def test_a_tie_at_the_core_boundary_makes_both_core():
    people = by_code(
        [
            fig("U1", "600", "0"),
            fig("U2", "500", "0"),
            fig("U3", "500", "0"),
            fig("U4", "400", "0"),
            fig("U5", "300", "0"),
            fig("U6", "200", "0"),
        ]
    )
    score_population(list(people.values()), weights={"revenue": 1})
    # m = 6: A <= ceil(1.2) = 2, B <= ceil(3) = 3. Ranks: U1 1, U2 2, U3 2, U4 4 -> U2 and U3 both A, U4 not B.
    assert {k: c.rank for k, c in people.items()} == {"U1": 1, "U2": 2, "U3": 2, "U4": 4, "U5": 5, "U6": 6}
    assert {k: c.tier for k, c in people.items()} == {"U1": "A", "U2": "A", "U3": "A", "U4": "C", "U5": "C", "U6": "C"}


def test_zero_profit_is_not_a_drain_and_custom_tier_rules_apply():
    people = by_code([fig("Z1", "500", "500"), fig("Z2", "400", "0"), fig("Z3", "300", "0"), fig("Z4", "200", "0")])
    score_population(list(people.values()), weights={"revenue": 1}, core_pct=50, key_pct=75)
    # Z1: profit exactly 0 is not < 0, so it is ranked for tiers: m = 4, A <= ceil(2) = 2, B <= ceil(3) = 3
    assert people["Z1"].profit == 0
    assert {k: c.tier for k, c in people.items()} == {"Z1": "A", "Z2": "A", "Z3": "B", "Z4": "C"}


def test_complaints_factor_ranks_fewer_as_better_and_missing_data_scores_50():
    people = by_code(
        [
            fig("M1", "100", "0", complaints=0, invoices=(2, 2)),
            fig("M2", "100", "0", complaints=3, invoices=(2, 1)),
            fig("M3", "100", "0", complaints=1),  # no invoices -> payment 50
        ]
    )
    score_population(list(people.values()), weights={"complaints": 1, "payment": 3})
    # complaints descending: M2 (3) rank 1 -> 0, M3 (1) -> 50, M1 (0) -> 100
    assert [people[k].percentile("complaints") for k in ("M1", "M2", "M3")] == [100, 0, 50]
    # payment among the 2 known: M2 50% -> 0, M1 100% -> 100; M3 missing -> 50
    assert [people[k].percentile("payment") for k in ("M1", "M2", "M3")] == [100, 0, 50]
    # scores: (1 x complaints + 3 x payment) / 4 -> M1 100, M2 0, M3 50
    assert [people[k].score for k in ("M1", "M2", "M3")] == [100, 0, 50]


def test_a_single_customer_scores_100_on_every_factor():
    people = by_code([fig("O1", "100", "50", invoices=(1, 0), prior="200"), fig("P1", orders=0)])
    facts = score_population(list(people.values()), weights=DEFAULT)
    assert facts["n"] == 1
    assert people["O1"].score == 100 and people["O1"].rank == 1 and people["O1"].tier == "A"
    assert people["P1"].tier == "P" and people["P1"].action == ""


# --- the scoring model: at most five factors ----------------------------------------------

SIX = [["profit", 30], ["revenue", 20], ["payment", 15], ["growth", 15], ["delivery", 10], ["satisfaction", 10]]
SIXTH_REFUSED = "A scoring model has at most five factors: more than five is noise. Remove one first."


def test_a_sixth_factor_is_refused_with_a_clear_message():
    with pytest.raises(ValidationError) as refused:
        validate_factors(SIX)
    assert refused.value.message_dict == {"factors": [SIXTH_REFUSED]}


def test_a_sixth_factor_is_refused_by_the_model_and_the_form():
    with pytest.raises(ValidationError) as refused:
        ScoringModel(factors=SIX).full_clean()
    assert refused.value.message_dict["factors"] == [SIXTH_REFUSED]
    form = ScoringModelForm(data={factor: weight for factor, weight in SIX})
    assert not form.is_valid()
    assert form.non_field_errors() == [SIXTH_REFUSED]


def test_five_factors_are_accepted():
    validate_factors(SIX[:5])
    ScoringModel(factors=SIX[:5]).full_clean()
    form = ScoringModelForm(data={factor: weight for factor, weight in SIX[:5]})
    assert form.is_valid(), form.errors


@pytest.mark.parametrize(
    "factors",
    [
        [],  # at least one
        [["loyalty", 10]],  # unknown factor
        [["profit", 10], ["profit", 20]],  # duplicate
        [["profit", 0]],  # zero weight
        [["profit", -5]],  # negative weight
        [["profit", 1.5]],  # not a whole number
    ],
)
def test_bad_scoring_models_are_refused(factors):
    with pytest.raises(ValidationError) as refused:
        ScoringModel(factors=factors).full_clean()
    assert "factors" in refused.value.message_dict
