"""The core's exact arithmetic on whole columns (analytics/services/core.py) against exact fractions and
the reference's definitions (tests/analytics/reference.py). (Whole runs: test_engine_equivalence.)"""

import random
from fractions import Fraction

import numpy as np
import pytest

from analytics.services import core
from analytics.services.core import NULL

from . import reference


def test_ratio_ranks_order_ratios_exactly_even_with_18_digit_denominators():
    rng = random.Random(7)
    big = 10**18
    pairs = [(rng.randint(-big, big), rng.choice([-1, 1]) * rng.randint(1, big)) for _ in range(300)]
    # Ratios one apart in the last place of huge denominators, and the same ratio written three ways.
    pairs += [(big - 1, big), (big - 2, big - 1), (1, 2), (2, 4), (-3, -6), (0, 5), (7, 0)]
    keys = core.ratio_ranks([p for p, _q in pairs], [q for _p, q in pairs]).tolist()
    assert keys[-1] == NULL  # no denominator: the factor's data is lacking
    exact = [Fraction(p, q) for p, q in pairs[:-1]]
    for i in range(len(exact)):
        for j in range(len(exact)):
            assert (keys[i] < keys[j]) == (exact[i] < exact[j]), (pairs[i], pairs[j])
            assert (keys[i] == keys[j]) == (exact[i] == exact[j]), (pairs[i], pairs[j])
    assert keys[-5] == keys[-4] == keys[-3]  # 1/2, 2/4, -3/-6


def test_ratio_ranks_tell_apart_ratios_that_share_a_float():
    # 2**53 + 1 over 2**53 and 1 are different, yet equal as floats: the exact comparison decides.
    keys = core.ratio_ranks([2**53 + 1, 1, 2**53 + 2], [2**53, 1, 2**53]).tolist()
    assert keys == [1, 0, 2]


@pytest.mark.parametrize("descending", [False, True])
def test_percentiles_are_the_reference_pairs(descending):
    rng = random.Random(11 + descending)
    for size in (0, 1, 2, 3, 50, 400):
        values = [rng.choice([None, rng.randint(-5, 5), rng.randint(-(10**12), 10**12)]) for _ in range(size)]
        column = np.array([NULL if v is None else v for v in values], dtype=np.int64)
        q, d = core.percentile_pairs(column, descending=descending)
        expected = reference.percentile_pairs(
            {i: v for i, v in enumerate(values) if v is not None}, descending=descending
        )
        assert {i: (int(q[i]), d) for i in range(size) if q[i] != NULL} == expected
        assert all((q[i] == NULL) == (values[i] is None) for i in range(size))


def test_descending_ranks_are_the_reference_competition_ranks():
    rng = random.Random(3)
    keys = [rng.randint(0, 40) for _ in range(500)]
    ranks = core.descending_ranks(np.array(keys)).tolist()
    assert dict(enumerate(ranks)) == reference.competition_ranks(dict(enumerate(keys)))
    assert core.descending_ranks(np.array([5, 9, 9, 1])).tolist() == [3, 1, 1, 4]


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
        (10**15 + 1, 2, 4, "500000000000000.5000"),  # past 64 bits while rounding: Python integers
    ],
)
def test_half_up_rounds_half_away_from_zero(numerator, denominator, places, expected):
    assert core.fixed(core.half_up([numerator], [denominator], places)[0], places) == expected


def test_half_up_is_null_without_a_denominator():
    assert core.half_up([5, 7], [0, 2], 4).tolist() == [NULL, 35000]
