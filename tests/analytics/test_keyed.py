"""keyed.py, the SQL engine's scoring on integer keys: its helpers agree with scoring.py's reference
definitions and with exact fractions. (The whole engine against the Python one: test_engine_equivalence.)"""

import random
from fractions import Fraction

import pytest

from analytics.services import keyed, scoring


def test_ratio_keys_order_ratios_exactly_even_with_18_digit_denominators():
    rng = random.Random(7)
    big = 10**18
    pairs = [(rng.randint(-big, big), rng.choice([-1, 1]) * rng.randint(1, big)) for _ in range(300)]
    # Ratios one apart in the last place of huge denominators, and the same ratio written three ways.
    pairs += [(big - 1, big), (big - 2, big - 1), (1, 2), (2, 4), (-3, -6), (0, 5), (7, 0)]
    keys = keyed.ratio_keys(pairs)
    assert keys[-1] is None  # no denominator: the factor's data is lacking
    exact = [Fraction(p, q) for p, q in pairs[:-1]]
    for i in range(len(exact)):
        for j in range(len(exact)):
            assert (keys[i] < keys[j]) == (exact[i] < exact[j]), (pairs[i], pairs[j])
            assert (keys[i] == keys[j]) == (exact[i] == exact[j]), (pairs[i], pairs[j])
    assert keys[-5] == keys[-4] == keys[-3]  # 1/2, 2/4, -3/-6


@pytest.mark.parametrize("descending", [False, True])
def test_percentiles_are_the_reference_pairs(descending):
    rng = random.Random(11 + descending)
    for size in (0, 1, 2, 3, 50, 400):
        values = [rng.choice([None, rng.randint(-5, 5), rng.randint(-(10**12), 10**12)]) for _ in range(size)]
        q, d = keyed.percentiles(values, descending=descending)
        reference = scoring.percentile_pairs(
            {i: v for i, v in enumerate(values) if v is not None}, descending=descending
        )
        assert {i: (q[i], d) for i in range(size) if q[i] is not None} == reference
        assert all((q[i] is None) == (values[i] is None) for i in range(size))


def test_competition_ranks_are_the_reference_ranks():
    rng = random.Random(3)
    keys = [rng.randint(0, 40) for _ in range(500)]
    positions = [i for i in range(500) if i % 3]
    assert keyed.competition_ranks(keys, positions) == scoring.competition_ranks({i: keys[i] for i in positions})
    assert keyed.competition_ranks([5, 9, 9, 1], range(4)) == {0: 3, 1: 1, 2: 1, 3: 4}


@pytest.mark.parametrize(
    ("numerator", "denominator", "places", "expected"),
    [
        (1, 8, 2, "0.13"),  # 0.125: half away from zero
        (-1, 8, 2, "-0.13"),
        (1, -8, 2, "-0.13"),
        (-1, -8, 2, "0.13"),
        (1, 3, 4, "0.3333"),
        (-2, 3, 4, "-0.6667"),
        (-1, 30000, 4, "0.0000"),  # no negative zero, as PostgreSQL prints it
        (-5, 10000, 4, "-0.0005"),
        (-1250, 100, 4, "-12.5000"),
    ],
)
def test_rounded_and_fixed_round_half_away_from_zero(numerator, denominator, places, expected):
    assert keyed.fixed(keyed.rounded(numerator, denominator, places), places) == expected


@pytest.mark.parametrize(
    ("numerator", "denominator", "constant", "expected"),
    [(30, 1, 30, 0), (31, 1, 30, 1), (-60, -2, 30, 0), (-61, -2, 30, 1), (-59, -2, 30, -1), (11, -2, -5, -1)],
)
def test_compare_is_exact_for_either_sign_of_the_denominator(numerator, denominator, constant, expected):
    assert keyed.compare(numerator, denominator, constant) == expected


def test_fixed_half_up_is_fixed_of_rounded_for_many_values():
    rng = random.Random(5)
    for denominator, places in [(1, 6), (3, 6), (7, 4), (99_999, 6), (2 * 3 * 5 * 7 * 11 * 100, 4)]:
        numerators = [rng.randint(0, 10**9) for _ in range(200)] + [0, denominator // 2, 5 * denominator]
        expected = [keyed.fixed(keyed.rounded(x, denominator, places), places) for x in numerators]
        assert keyed.fixed_half_up(numerators, denominator, places) == expected
    assert keyed.fixed_half_up([1, 3], 8, 2) == ["0.13", "0.38"]  # 0.125 and 0.375 round up
