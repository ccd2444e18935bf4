"""The analytics core: the one place where a run's figures are decided (DESIGN section 5).

A reader (readers.py: set-based SQL on PostgreSQL, the ORM elsewhere) hands over a `Book`, one narrow
row per customer as columns of integers: money in cents, counts, days (day numbers since 1970-01-01).
Everything else is decided here, on whole columns: cost to serve and profit, the stored ratios,
percentiles, scores, ranks, tiers, quadrants, protection, actions, and the company figures.
tests/analytics/reference.py is the plain-Python reference the core is checked against.

Exact, so ties are ties and two correct implementations agree to the cent:
- money is integer cents; a ratio p / q is ranked by its exact value (ratio_ranks) and stored rounded
  half away from zero by integer division (half_up);
- a percentile is the pair (q, d) with percentile = 50 q / d, a score one integer over a common
  denominator, so equal scores compare equal;
- numpy computes on 64-bit integers, and on Python integers (object arrays) where a product could
  leave 64 bits.
"""

import bisect
import datetime
import math
from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal
from fractions import Fraction

import numpy as np

from ..models import Action, Factor, Protection, Quadrant, Tier

NULL = -(2**63)  # a missing value in an integer column (no invoice, no order, no date)
EPOCH = datetime.date(1970, 1, 1).toordinal()
EXACT = Context(prec=50)
FOUR = Decimal("0.0001")
LIST_LIMIT = 500  # customers listed per finding (dormant, declining, neglected); counts are complete
LESS_IS_BETTER = {Factor.COMPLAINTS.value}
# Codes of the text columns, as storage writes them (index into these tuples).
TIERS = tuple(Tier.values)
QUADRANTS = ("", *Quadrant.values)
ACTIONS = ("", *Action.values)
REASONS = (Protection.LOYAL.value, Protection.BIG.value, Protection.POTENTIAL.value, Protection.STRATEGIC.value)
PROTECTIONS = tuple(";".join(r for bit, r in enumerate(REASONS) if mask >> bit & 1) for mask in range(16))

# What a reader returns for each customer (plus `code` and `churn_reason`, texts). Money in cents; dates
# as day numbers; NULL where lacking.
BOOK = (
    "customer_id",
    "orders",  # counted orders in the window (not cancelled or returned)
    "revenue",
    "cost_of_goods",
    "service_cost",
    "error_orders",
    "dated",  # window orders with both promised_on and delivered_on
    "on_time_deliveries",
    "prior_revenue",
    "invoices_on_time",  # payment, as DESIGN defines it
    "late_invoices",
    "days_late",
    "overdue_amount",
    "complaints",
    "survey_total",
    "survey_count",
    "referrals",
    "growth_potential",
    "strategic",
    "since",
    "first_order_on",  # first counted order on or before as_of
    "last_order_on",  # last counted order on or before as_of
    "last_contact_on",  # last interaction on or before as_of
    "churned_on",
)
# The stored columns of a customer's result, with their scale: 2 money (cents), 4 a figure kept to 4
# places (value x 10**4), 0 a whole number, "date" a day number, or the tuple its code indexes.
RESULT = {
    "revenue": 2,
    "cost_of_goods": 2,
    "gross_margin": 2,
    "cost_to_serve": 2,
    "profit": 2,
    "prior_revenue": 2,
    "orders": 0,
    "average_order_value": 4,
    "margin_pct": 4,
    "on_time_delivery_pct": 4,
    "error_pct": 4,
    "on_time_payment_pct": 4,
    "average_days_late": 4,
    "overdue_amount": 2,
    "growth_pct": 4,
    "complaints": 0,
    "average_survey_score": 4,
    "referrals": 0,
    "tenure_years": 0,
    "days_since_last_order": 0,
    "days_since_last_interaction": 0,
    "first_order_on": "date",
    "score": 4,
    "rank": 0,
    "tier": TIERS,
    "quadrant": QUADRANTS,
    "protection": PROTECTIONS,
    "action": ACTIONS,
}


# ------------------------------------------------------------------------------------------ windows


@dataclass(frozen=True)
class Window:
    """The 12 months ending at as_of (both days included) and the 12 months before."""

    as_of: datetime.date
    start: datetime.date
    end: datetime.date
    prior_start: datetime.date
    prior_end: datetime.date

    @classmethod
    def ending(cls, as_of: datetime.date) -> "Window":
        start = shift_years(as_of, -1) + datetime.timedelta(days=1)
        prior_start = shift_years(as_of, -2) + datetime.timedelta(days=1)
        return cls(as_of, start, as_of, prior_start, start - datetime.timedelta(days=1))


def shift_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def next_month(month: datetime.date) -> datetime.date:
    return (month + datetime.timedelta(days=32)).replace(day=1)


def month_ends(as_of: datetime.date, months: int = 12) -> list[tuple[datetime.date, datetime.date]]:
    """The last `months` calendar months up to as_of's: (first day, last day counted)."""
    first, result = month_start(as_of), []
    for _ in range(months):
        result.append((first, min(next_month(first) - datetime.timedelta(days=1), as_of)))
        first = month_start(first - datetime.timedelta(days=1))
    return result[::-1]


def day_number(value: datetime.date | None) -> int:
    return NULL if value is None else value.toordinal() - EPOCH


def date_of(number: int) -> datetime.date | None:
    return None if number == NULL else datetime.date.fromordinal(int(number) + EPOCH)


# ------------------------------------------------------------------------------- exact arithmetic


def top_share_count(n: int, pct: int) -> int:
    """The first ceil(pct% of n) customers."""
    return -(-pct * n // 100)


def _wide(*bounds: int) -> bool:
    return max(bounds, default=0) >= 2**62


def _ints(values) -> np.ndarray:
    values = np.asarray(values)
    return values if values.dtype == object else values.astype(np.int64)


def _big(values) -> int:
    return int(np.abs(values).max()) if len(values) else 0


def half_up(num, den, places: int) -> np.ndarray:
    """num / den x 10**places, rounded half away from zero (ROUND_HALF_UP, PostgreSQL's round); NULL
    where den is 0. Exact: integer division, on Python integers when 64 bits could overflow."""
    num, den = np.broadcast_arrays(_ints(num), _ints(den))
    known = den != 0
    unit = 10**places
    if _wide(2 * _big(num) * unit + _big(den)):
        num, den = num.astype(object), den.astype(object)
    den = np.where(known, den, 1)
    value = (2 * abs(num) * unit + abs(den)) // (2 * abs(den))
    value = np.where((num < 0) != (den < 0), -value, value)
    return np.where(known, value, NULL).astype(np.int64)


def _dense(order: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Dense ranks (0, 1, 1, 2) from an ascending order and, along it, where a new value starts."""
    dense = np.empty(len(order), dtype=np.int64)
    dense[order] = np.cumsum(new) - 1
    return dense


def _exactly(order: np.ndarray, new: np.ndarray, exact) -> None:
    """Within each run of positions the float order could not tell apart (new False), orders them by
    their exact values `exact(i)` (Python numbers) and marks where an exact value changes; in place."""
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(order))
    for start, end in zip(starts[ends - starts > 1].tolist(), ends[ends - starts > 1].tolist(), strict=True):
        segment = sorted((exact(i), i) for i in order[start:end].tolist())
        order[start:end] = [i for _value, i in segment]
        new[start + 1 : end] = [a[0] != b[0] for a, b in zip(segment, segment[1:], strict=False)]


def ratio_ranks(num, den) -> np.ndarray:
    """Integers that order the ratios num / den as their values, equal exactly for equal ratios; NULL
    where den is 0. Sorted by float (correctly rounded division is monotone, so floats never reverse
    two ratios); equal floats, or terms past 2**53, are told apart by exact fractions."""
    num, den = np.asarray(num, dtype=np.int64), np.asarray(den, dtype=np.int64)
    known = den != 0
    p, q = np.where(den < 0, -num, num)[known], np.abs(den[known])
    g = np.gcd(p, q)
    p, q = p // g, q // g  # equal ratios, equal pairs
    values = p / q
    order = np.argsort(values, kind="stable")
    new = np.ones(len(order), dtype=bool)
    same_pair = (p[order][1:] == p[order][:-1]) & (q[order][1:] == q[order][:-1])
    if _big(p) < 2**53 and _big(q) < 2**53:
        new[1:] = values[order][1:] != values[order][:-1]
        if np.any(~new[1:] & ~same_pair):  # different ratios sharing a float
            _exactly(order, new, lambda i: Fraction(int(p[i]), int(q[i])))
    else:  # floats may round two ratios together: exact fractions
        new[1:] = False
        _exactly(order, new, lambda i: Fraction(int(p[i]), int(q[i])))
    result = np.full(len(num), NULL, dtype=np.int64)
    result[known] = _dense(order, new)
    return result


def percentile_pairs(values: np.ndarray, *, descending: bool = False) -> tuple[np.ndarray, int]:
    """Percentile `100 (avg_rank - 1) / (n - 1)` of each known value (1-based ascending ranks, ties
    averaged; 100 when n = 1) as (q, d) with percentile = 50 q / d: q = 2 avg_rank - 2, which is the
    value's first plus its last position in the sorted values, d = n - 1. q is NULL where unknown."""
    known = values != NULL
    v = -values[known] if descending else values[known]
    q = np.full(len(values), NULL, dtype=np.int64)
    if len(v) <= 1:
        q[known] = 2
        return q, 1
    first, last = _group_ends(v)
    q[known] = first + last
    return q, len(v) - 1


def _group_ends(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each key's first and last position among the keys sorted ascending."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    new = np.ones(len(keys), dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    group = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(keys)) - 1
    first, last = np.empty(len(keys), dtype=np.int64), np.empty(len(keys), dtype=np.int64)
    first[order], last[order] = starts[group], ends[group]
    return first, last


def descending_ranks(keys: np.ndarray) -> np.ndarray:
    """Competition ranks, descending: equal keys share the better rank (1, 2, 2, 4): 1 + the number of
    larger keys."""
    return len(keys) - _group_ends(keys)[1] if len(keys) else np.zeros(0, dtype=np.int64)


def score_keys(terms: list[tuple[np.ndarray, int, int]], n: int) -> tuple[np.ndarray, np.ndarray, object]:
    """Scores from the factors' (q, d, weight): score = 50 / W x sum(w q / d), q / d = 1 where q is NULL.
    Returns dense ranks of the exact scores, the scores x 10**4 rounded half-up, and `exact(i)`, the
    score of position i as a Fraction. Ordered by float sums; where two are within 1e-9 (exact ties and
    near ties: floats cannot tell them apart) by exact fractions; rounding exact near the half."""
    total = sum(w for _q, _d, w in terms)
    common = math.lcm(1, *(d for _q, d, _w in terms))
    approx = np.zeros(n)
    for q, d, w in terms:
        approx += w * np.where(q != NULL, q / d, 1.0)

    def key(i: int) -> int:  # the score over the common denominator 50 / (W lcm(d))
        return sum(w * (int(q[i]) * (common // d) if q[i] != NULL else common) for q, d, w in terms)

    def exact(i: int) -> Fraction:
        return Fraction(50 * key(i), total * common)

    order = np.argsort(approx, kind="stable")
    new = np.ones(n, dtype=bool)
    new[1:] = np.diff(approx[order]) > 1e-9
    _exactly(order, new, key)
    scaled = approx * (50 * 10**4 / total)
    shown = np.floor(scaled + 0.5).astype(np.int64)
    for i in np.flatnonzero(np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6).tolist():
        value = exact(i) * 10**4
        shown[i] = (2 * value.numerator + value.denominator) // (2 * value.denominator)
    return _dense(order, new), shown, exact


def cents(value: int) -> Decimal:
    return Decimal(int(value)).scaleb(-2)


def fixed(value: int, places: int) -> str:
    """The integer value / 10**places as text with exactly `places` decimals ("-12.5000")."""
    sign, (whole, part) = "-" if value < 0 else "", divmod(abs(int(value)), 10**places)
    return f"{sign}{whole}.{part:0{places}d}"


def pct(part, whole) -> Decimal | None:
    if not whole:
        return None
    return EXACT.divide(Decimal(part) * 100, Decimal(whole)).quantize(FOUR, rounding=ROUND_HALF_UP)


def money(value: Decimal | None) -> str | None:
    """Stored exact, with at least two places (rounded half-up to 0.01 only when shown: shown_money).
    6000 -> "6000.00", 100.005 -> "100.005"."""
    if value is None:
        return None
    exact = Decimal(value).normalize()
    return str(exact.quantize(Decimal("0.01")) if exact.as_tuple().exponent > -2 else exact)


def shown_money(value: str | None) -> str | None:
    """A stored money figure as people see it: rounded half-up to 0.01."""
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def to_json(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    return value


# ---------------------------------------------------------------------------------------- the book


class Book:
    """One narrow row per customer, as columns (BOOK, int64) plus the texts `code` and `churn_reason`."""

    def __init__(self, *, code, churn_reason, **columns):
        self.code, self.churn_reason = list(code), list(churn_reason)
        self.columns = {name: np.asarray(columns[name], dtype=np.int64).reshape(-1) for name in BOOK}

    def __getattr__(self, name):
        try:
            return self.__dict__["columns"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __len__(self):
        return len(self.code)


def tenure_years(since: np.ndarray, as_of: datetime.date) -> np.ndarray:
    """Whole years from `since` to as_of; 0 when since is later; NULL without since."""
    known = since != NULL
    days = np.where(known, since, 0).astype("datetime64[D]")
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970
    months = days.astype("datetime64[M]")
    month = months.astype(np.int64) % 12 + 1
    dom = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    whole = as_of.year - years - ((as_of.month * 100 + as_of.day) < (month * 100 + dom))
    whole = np.where(since > day_number(as_of), 0, whole)
    return np.where(known, whole, NULL)


# ---------------------------------------------------------------------------------------- scoring


@dataclass
class Scored:
    """What the core decided: every stored column (RESULT), the percentiles, and the facts behind them."""

    columns: dict  # name -> int64 array over every customer, scaled as RESULT says
    percentiles: dict  # factor -> percentile x 10**6 per customer (NULL for prospects)
    pairs: dict  # factor -> (q, d): the exact percentiles (q NULL where lacking)
    exact_score: object  # position among customers with orders -> the score as a Fraction
    with_orders: np.ndarray  # bool, per customer
    twice_median: int | None  # twice the median profit, in cents
    code_rank: np.ndarray


def _factor_values(book: Book, factor: str, profit: np.ndarray, tenure: np.ndarray) -> np.ndarray:
    """What each customer ranks on for a factor (exact integer keys); NULL where the data is lacking."""
    b = book
    return {
        Factor.PROFIT: lambda: profit,
        Factor.REVENUE: lambda: b.revenue,
        Factor.MARGIN: lambda: ratio_ranks(b.revenue - b.cost_of_goods, b.revenue),
        Factor.PAYMENT: lambda: ratio_ranks(b.invoices_on_time, b.invoices_on_time + b.late_invoices),
        Factor.DELIVERY: lambda: ratio_ranks(b.on_time_deliveries, b.dated),
        Factor.GROWTH: lambda: ratio_ranks(b.revenue - b.prior_revenue, b.prior_revenue),
        Factor.POTENTIAL: lambda: b.growth_potential,
        Factor.SATISFACTION: lambda: ratio_ranks(b.survey_total, b.survey_count),
        Factor.COMPLAINTS: lambda: b.complaints,
        Factor.TENURE: lambda: tenure,
        Factor.REFERRALS: lambda: b.referrals,
    }[Factor(factor)]()


def score(
    book: Book,
    *,
    as_of: datetime.date,
    weights: dict[str, int],
    core_pct: int = 20,
    key_pct: int = 50,
    order_handling_cents: int = 0,
    complaint_handling_cents: int = 0,
) -> Scored:
    """Every stored figure of every customer: DESIGN section 5's per-customer definitions and scoring."""
    b, n_all = book, len(book)
    cost_to_serve = b.service_cost + b.orders * order_handling_cents + b.complaints * complaint_handling_cents
    gross_margin = b.revenue - b.cost_of_goods
    profit = gross_margin - cost_to_serve
    tenure = tenure_years(np.where(b.since != NULL, b.since, b.first_order_on), as_of)
    today = day_number(as_of)
    columns = {
        "revenue": b.revenue,
        "cost_of_goods": b.cost_of_goods,
        "gross_margin": gross_margin,
        "cost_to_serve": cost_to_serve,
        "profit": profit,
        "prior_revenue": b.prior_revenue,
        "orders": b.orders,
        "average_order_value": half_up(b.revenue, b.orders * 100, 4),
        "margin_pct": half_up(gross_margin * 100, b.revenue, 4),
        "on_time_delivery_pct": half_up(b.on_time_deliveries * 100, b.dated, 4),
        "error_pct": half_up(b.error_orders * 100, b.orders, 4),
        "on_time_payment_pct": half_up(b.invoices_on_time * 100, b.invoices_on_time + b.late_invoices, 4),
        "average_days_late": half_up(b.days_late, b.late_invoices, 4),
        "overdue_amount": b.overdue_amount,
        "growth_pct": half_up((b.revenue - b.prior_revenue) * 100, b.prior_revenue, 4),
        "complaints": b.complaints,
        "average_survey_score": half_up(b.survey_total, b.survey_count, 4),
        "referrals": b.referrals,
        "tenure_years": tenure,
        "days_since_last_order": np.where(b.last_order_on != NULL, today - b.last_order_on, NULL),
        "days_since_last_interaction": np.where(b.last_contact_on != NULL, today - b.last_contact_on, NULL),
        "first_order_on": b.first_order_on,
    }
    code_rank = np.empty(n_all, dtype=np.int64)
    code_rank[np.argsort(np.array(b.code, dtype=str), kind="stable")] = np.arange(n_all)
    has = b.orders > 0
    n = int(has.sum())

    # Percentiles of every factor the score or the quadrant needs, among customers with orders.
    weights = {str(Factor(f).value): int(w) for f, w in weights.items()}
    needed = sorted(set(weights) | {Factor.GROWTH.value, Factor.POTENTIAL.value})
    pairs = {}
    for f in needed:
        values = _factor_values(b, f, profit, tenure)[has]
        pairs[f] = percentile_pairs(values, descending=f in LESS_IS_BETTER)
    percentiles = {}
    for f, (q, d) in pairs.items():
        shown = np.where(q != NULL, half_up(50 * np.where(q != NULL, q, 0), d, 6), 50 * 10**6)
        percentiles[f] = _spread(shown, has)

    dense, shown, exact_score = score_keys([(pairs[f][0], pairs[f][1], w) for f, w in weights.items()], n)
    columns["score"] = _spread(shown, has)
    columns["rank"] = _spread(descending_ranks(dense), has)

    # Tiers: P without orders; D for losses; among the rest (m), the same ranking decides A, B, C.
    p = profit[has]
    tier = np.full(n, TIERS.index(Tier.D), dtype=np.int64)
    rest = p >= 0
    m = int(rest.sum())
    rest_rank = descending_ranks(dense[rest])
    tier[rest] = np.where(
        rest_rank <= top_share_count(m, core_pct),
        TIERS.index(Tier.A),
        np.where(rest_rank <= top_share_count(m, key_pct), TIERS.index(Tier.B), TIERS.index(Tier.C)),
    )

    # Quadrants: current = profit >= the median profit; future = mean of the growth and potential
    # percentiles >= 50, i.e. qg / dg + qp / dp >= 2.
    ordered = np.sort(p)
    twice_median = (
        None if not n else 2 * int(ordered[n // 2]) if n % 2 else int(ordered[n // 2 - 1]) + int(ordered[n // 2])
    )
    current = 2 * p >= (twice_median or 0)
    (qg, dg), (qp, dp) = pairs[Factor.GROWTH.value], pairs[Factor.POTENTIAL.value]
    gq, gd = np.where(qg != NULL, qg, 1), np.where(qg != NULL, dg, 1)
    pq, pd = np.where(qp != NULL, qp, 1), np.where(qp != NULL, dp, 1)
    future = gq * pd + pq * gd >= 2 * gd * pd
    quadrant = np.where(current, np.where(future, 1, 3), np.where(future, 2, 4))  # QUADRANTS' order

    # Protection (bits in REASONS' order): loyal, big, potential, strategic.
    big = np.zeros(n, dtype=bool)
    big[np.lexsort((code_rank[has], -b.revenue[has]))[: top_share_count(n, 10)]] = True
    rev, prior = b.revenue[has], b.prior_revenue[has]
    growing = (prior != 0) & ((rev - prior) * 100 * np.sign(prior) >= 30 * np.abs(prior))
    protection = (
        (tenure[has] >= 3) * 1 + big * 2 + ((b.growth_potential[has] >= 4) | growing) * 4 + (b.strategic[has] != 0) * 8
    )

    # Actions: D, or exit: review when protected, else reduce; A, B and C follow their quadrant.
    by_quadrant = np.array([ACTIONS.index(a) for a in ("", Action.INVEST, Action.DEVELOP, Action.HARVEST, "")])
    reduce = ACTIONS.index(Action.REVIEW), ACTIONS.index(Action.REDUCE)
    drain_or_exit = (tier == TIERS.index(Tier.D)) | (quadrant == 4)
    action = np.where(drain_or_exit, np.where(protection > 0, *reduce), by_quadrant[quadrant])

    columns["tier"] = _spread(tier, has, TIERS.index(Tier.P))
    columns["quadrant"] = _spread(quadrant, has, 0)
    columns["protection"] = _spread(protection, has, 0)
    columns["action"] = _spread(action, has, 0)
    return Scored(columns, percentiles, pairs, exact_score, has, twice_median, code_rank)


def _spread(values: np.ndarray, has: np.ndarray, other: int = NULL) -> np.ndarray:
    """A column over customers with orders, spread over every customer (`other` for the rest)."""
    result = np.full(len(has), other, dtype=np.int64)
    result[has] = values
    return result


# -------------------------------------------------------------------------------- company figures


def company(
    book: Book,
    scored: Scored,
    window: Window,
    *,
    previous_tiers: dict[int, str],
    month_revenue: dict[datetime.date, Decimal],
    revenue_lost: Decimal,
) -> dict:
    """The company figures of the run (DESIGN section 5, company level), as the run stores them.

    From the reader besides the book: the company's revenue by month (as_of's month up to as_of) and the
    revenue the customers churned in the window brought in the 12 whole months before their churn month."""
    b, has, cols = book, scored.with_orders, scored.columns
    ids, code_rank = b.customer_id, scored.code_rank
    tiers = [TIERS[t] for t in cols["tier"].tolist()]
    pop = np.flatnonzero(has)
    n = len(pop)
    top20 = pop[_by_revenue(b.revenue[pop], code_rank[pop])[: top_share_count(n, 20)]]
    # Dormant (no order in 180 days, not churned), neglected (A or B, no interaction in 60 days).
    since_order, since_contact = cols["days_since_last_order"], cols["days_since_last_interaction"]
    churned = (b.churned_on != NULL) & (b.churned_on <= day_number(window.as_of))
    dormant = np.flatnonzero((since_order != NULL) & (since_order >= 180) & ~churned)
    dormant = dormant[np.lexsort((code_rank[dormant], -since_order[dormant]))]
    ab = np.isin(cols["tier"], [TIERS.index(Tier.A), TIERS.index(Tier.B)])
    neglected = np.flatnonzero(ab & ((since_contact == NULL) | (since_contact >= 60)))
    neglected = neglected[np.lexsort((code_rank[neglected], -b.revenue[neglected]))]
    migration = {}
    if previous_tiers:
        migration = dict(
            Counter(f"{previous_tiers.get(i, 'new')}>{t}" for i, t in zip(ids.tolist(), tiers, strict=True))
        )

    firsts = b.first_order_on[b.first_order_on != NULL]
    churn_rows = [
        (int(ids[i]), date_of(b.churned_on[i]), b.churn_reason[i], date_of(b.first_order_on[i]))
        for i in np.flatnonzero(b.churned_on != NULL).tolist()
    ]
    figures = {
        "as_of": window.as_of.isoformat(),
        "window": [window.start.isoformat(), window.end.isoformat()],
        "prior_window": [window.prior_start.isoformat(), window.prior_end.isoformat()],
        "customers": len(b),
        "customers_with_orders": n,
        "median_profit": money(None if scored.twice_median is None else EXACT.divide(cents(scored.twice_median), 2)),
        "tiers": {tier: tiers.count(tier) for tier in Tier.values},
        **concentration(b.revenue[pop], cols["profit"][pop], code_rank[pop]),
        "whale": whale_curve(cols["profit"][pop], code_rank[pop]),
        **arpu_and_churn(window, sorted(date_of(d) for d in firsts.tolist()), churn_rows, month_revenue, revenue_lost),
        "dormant_count": len(dormant),
        "dormant": [[int(ids[i]), int(since_order[i])] for i in dormant[:LIST_LIMIT]],
        "top20_trend": top20_trend(book, scored, top20),
        "tier_migration": migration,
        "neglected_count": len(neglected),
        "neglected": [int(ids[i]) for i in neglected[:LIST_LIMIT]],
    }
    return to_json(figures)


def _by_revenue(revenue: np.ndarray, code_rank: np.ndarray) -> np.ndarray:
    """Positions by revenue descending, ties by code."""
    return np.lexsort((code_rank, -revenue))


def concentration(revenue: np.ndarray, profit: np.ndarray, code_rank: np.ndarray) -> dict:
    """Revenue and profit, top-1 and top-5 revenue shares, HHI (sum of squared revenue shares x 10,000,
    exact before rounding), the concentration alert, and the top 20%'s shares of revenue and profit."""
    n = len(revenue)
    ranked = _by_revenue(revenue, code_rank)
    top20 = ranked[: top_share_count(n, 20)]
    total, total_profit = sum(revenue.tolist()), sum(profit.tolist())
    top1 = pct(int(revenue[ranked[0]]), total) if n else None
    squares = Decimal(sum(r * r for r in revenue.tolist())) * 10000
    hhi = EXACT.divide(squares, Decimal(total * total)).quantize(FOUR, rounding=ROUND_HALF_UP) if total else None
    return {
        "revenue": money(cents(total)),
        "profit": money(cents(total_profit)),
        "top1_share_pct": top1,
        "top5_share_pct": pct(sum(revenue[ranked[:5]].tolist()), total),
        "hhi": hhi,
        "concentration_alert": bool((top1 is not None and top1 > 25) or (hhi is not None and hhi > 2500)),
        "top20_count": len(top20),
        "top20_revenue_share_pct": pct(sum(revenue[top20].tolist()), total),
        "top20_profit_share_pct": pct(sum(profit[top20].tolist()), total_profit),
    }


def whale_curve(profit: np.ndarray, code_rank: np.ndarray, points: int = 400) -> dict:
    """Customers by profit, descending (ties by code); cumulative profit as % of total. The peak is how
    much more than the total the profitable customers earn before the loss-makers eat it (its first
    index on ties). The curve has a point every n // points customers, the last one and the peak."""
    n = len(profit)
    running = np.cumsum(profit[np.lexsort((code_rank, -profit))]) if n else profit
    total = int(running[-1]) if n else 0
    if not total:
        return {"peak_pct": None, "peak_customers": None, "curve": []}
    peak_at = int(np.argmax(half_up(running * 100, total, 4))) + 1
    step = max(1, n // points)
    shown = sorted({*range(step, n + 1, step), n, peak_at})
    return {
        "peak_pct": pct(int(running[peak_at - 1]), total),
        "peak_customers": peak_at,
        "curve": [[str(pct(index, n)), str(pct(int(running[index - 1]), total))] for index in shown],
    }


def top20_trend(book: Book, scored: Scored, top20: np.ndarray) -> dict:
    """The top 20% by revenue: growing (> +5%), declining (< -5%), flat, or new (no prior revenue)."""
    growth = scored.columns["growth_pct"][top20]
    rev, prior = book.revenue[top20], book.prior_revenue[top20]
    change = (rev - prior) * 100 * np.sign(prior)  # compared with +-5 x prior, exactly
    counts = {
        "growing": int(((prior != 0) & (change > 5 * np.abs(prior))).sum()),
        "flat": int(((prior != 0) & (change <= 5 * np.abs(prior)) & (change >= -5 * np.abs(prior))).sum()),
        "declining": int(((prior != 0) & (change < -5 * np.abs(prior))).sum()),
        "new": int((prior == 0).sum()),
    }
    down = np.flatnonzero((prior != 0) & (change < -5 * np.abs(prior)))
    exact = ratio_ranks(rev[down] - prior[down], prior[down])
    down = down[np.lexsort((scored.code_rank[top20][down], exact))]
    return {
        "counts": counts,
        "declining": [[int(book.customer_id[top20][i]), fixed(growth[i], 4)] for i in down[:LIST_LIMIT]],
    }


def active_on(day: datetime.date, first_orders: list[datetime.date], churned: list[datetime.date]) -> int:
    """Customers whose first order is on or before `day` and who had not churned by it."""
    return bisect.bisect_right(first_orders, day) - bisect.bisect_right(churned, day)


def arpu_and_churn(window: Window, first_orders: list, churn_rows: list[tuple], revenue: dict, lost: Decimal) -> dict:
    """Monthly ARPU and churn by month and quarter, from: every customer's first counted order day
    (sorted), the churned customers as (pk, churned_on, reason, first order day or None), the company's
    revenue by month and the revenue lost."""
    # Churned customers that had ever ordered leave the active count on their churn day.
    churned_days = sorted(day for _pk, day, _reason, first in churn_rows if first is not None and first <= day)
    months = month_ends(window.as_of)
    arpu = []
    for first, last in months:
        active = active_on(last, first_orders, churned_days)
        total = revenue.get(first, Decimal("0"))
        arpu.append(
            {
                "month": first.strftime("%Y-%m"),
                "revenue": money(total),
                "active": active,
                # A quotient has no exact decimal form: stored as shown, half-up to the cent.
                "arpu": shown_money(EXACT.divide(total, Decimal(active))) if active else None,
            }
        )

    def churn_rate(start: datetime.date, end: datetime.date) -> dict:
        churned = sum(1 for _pk, day, _r, first in churn_rows if start <= day <= end and first and first <= day)
        active = active_on(start - datetime.timedelta(days=1), first_orders, churned_days)
        return {"churned": churned, "active_at_start": active, "rate_pct": pct(churned, active)}

    by_month = [{"period": first.strftime("%Y-%m"), **churn_rate(first, last)} for first, last in months]
    quarters = []
    for first, _last in months:
        q_start = first.replace(month=3 * ((first.month - 1) // 3) + 1)
        if quarters and quarters[-1][0] == q_start:
            continue
        q_end = min(next_month(next_month(next_month(q_start))) - datetime.timedelta(days=1), window.as_of)
        quarters.append(
            (q_start, {"period": f"{q_start.year}-Q{(q_start.month - 1) // 3 + 1}", **churn_rate(q_start, q_end)})
        )
    in_window = [reason for _pk, day, reason, _first in churn_rows if window.start <= day <= window.end]
    return {
        "arpu": arpu,
        "churn_by_month": by_month,
        "churn_by_quarter": [quarter for _start, quarter in quarters],
        "churn_reasons": dict(Counter(reason or "other" for reason in in_window)),
        "churned_in_window": len(in_window),
        "revenue_lost": money(lost),
    }
