"""Scores, ranks, tiers and the company aggregates from narrow integer keys: the SQL engine's middle step.

The SQL engine (sql_engine.py) reads each customer's inputs inside PostgreSQL, fetches one narrow row
per customer (money in integer cents, counts, days) and hands it here; what comes back is one row of
scores per customer with orders (written back with COPY) and the aggregates the company figures need.
PostgreSQL sorted wide rows of 40-digit numerics for each percentile and rank (about 4 s at 100,000
customers); Python sorts integers in tens of milliseconds.

Exact, like scoring.py, whose definitions this follows (tests/analytics/test_engine_equivalence.py
proves both engines store the same values):
- money is integer cents;
- a ratio p / q is ranked by the integer floor(p * 2**s / q) (ratio_keys): monotone, equal for equal
  ratios, different for different ones;
- comparisons of a ratio with a constant are cross-multiplied; roundings are integer divisions.
"""

import datetime
import itertools
import math
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from ..models import Action, Factor, Protection, Quadrant, Tier
from .scoring import EXACT, LESS_IS_BETTER, MISSING, top_share_count

LIST_LIMIT = 500
# The models' words as plain strings (an enum member's .value costs an attribute lookup per customer).
CHAMPION, STAR, HARVEST, EXIT = (
    Quadrant.CHAMPION.value,
    Quadrant.STAR.value,
    Quadrant.HARVEST.value,
    Quadrant.EXIT.value,
)
LOYAL, BIG, POTENTIAL_REASON, STRATEGIC_REASON = (
    Protection.LOYAL.value,
    Protection.BIG.value,
    Protection.POTENTIAL.value,
    Protection.STRATEGIC.value,
)
INVEST, DEVELOP, HARVEST_ACTION, REDUCE, REVIEW = (
    Action.INVEST.value,
    Action.DEVELOP.value,
    Action.HARVEST.value,
    Action.REDUCE.value,
    Action.REVIEW.value,
)

# The columns of one fetched row, in order (sql_engine.build_sql's `fetch` statement selects them).
FIELDS = (
    "customer_id",
    "code",
    "orders",
    "revenue",
    "cost_of_goods",
    "service_cost",
    "prior_revenue",
    "invoices_on_time",
    "late_invoices",
    "dated",
    "on_time_deliveries",
    "survey_total",
    "survey_count",
    "complaints",
    "referrals",
    "tenure_years",
    "growth_potential",
    "strategic",
    "days_since_last_order",
    "days_since_last_interaction",
    "churned_on",
    "churn_reason",
    "first_order_on",
)
(
    ID,
    CODE,
    ORDERS,
    REVENUE,
    COGS,
    SERVICE,
    PRIOR,
    ON_TIME,
    LATE,
    DATED,
    ON_TIME_DELIVERIES,
    SURVEY_TOTAL,
    SURVEY_COUNT,
    COMPLAINTS,
    REFERRALS,
    TENURE,
    POTENTIAL,
    STRATEGIC,
    SINCE_ORDER,
    SINCE_CONTACT,
    CHURNED_ON,
    CHURN_REASON,
    FIRST_ORDER,
) = range(len(FIELDS))


def ratio_keys(pairs: list[tuple[int, int]]) -> list[int | None]:
    """Integers ordering the ratios p / q exactly as their values (None where q = 0): floor(p 2**s / q),
    with 2**s at least the square of the largest |q|, so two different ratios (which differ by at
    least 1 / (q1 q2)) never share a key and equal ratios always do."""
    largest = max((abs(q) for _p, q in pairs), default=0)
    shift = 2 * largest.bit_length() + 1
    return [(p << shift) // q if q else None for p, q in pairs]


def growth_keys(rows) -> list[int | None]:
    return ratio_keys([(r[REVENUE] - r[PRIOR], r[PRIOR]) for r in rows])


def compare(numerator: int, denominator: int, constant: int) -> int:
    """The sign of numerator / denominator - constant, exactly (denominator non-zero)."""
    difference = numerator - constant * denominator
    return (difference > 0) - (difference < 0) if denominator > 0 else (difference < 0) - (difference > 0)


def rounded(numerator: int, denominator: int, places: int) -> int:
    """numerator / denominator * 10**places rounded half away from zero (PostgreSQL's round, ROUND_HALF_UP)."""
    scaled, negative = abs(numerator) * 10**places, (numerator < 0) != (denominator < 0)
    value = (2 * scaled + abs(denominator)) // (2 * abs(denominator))
    return -value if negative else value


def fixed(value: int, places: int) -> str:
    """The integer value / 10**places as text with exactly `places` decimals ("-12.5000")."""
    sign = "-" if value < 0 else ""
    whole, part = divmod(abs(value), 10**places)
    return f"{sign}{whole}.{part:0{places}d}"


def fixed_half_up(numerators: list[int], denominator: int, places: int) -> list[str]:
    """fixed(rounded(x, denominator, places), places) for many x >= 0 over one denominator > 0, at the
    cost of one expression per value (100,000 customers times six percentiles and a score)."""
    unit, twice = 10**places, 2 * denominator
    return [f"{v // unit}.{v % unit:0{places}d}" for v in ((2 * x * unit + denominator) // twice for x in numerators)]


def cents(value: int) -> Decimal:
    return Decimal(value).scaleb(-2)


def _values(rows, factor: str, profit: list) -> list:
    """The value each customer's factor ranks (exact integer keys), None where the data is lacking."""
    if factor == Factor.PROFIT:
        return profit
    if factor == Factor.REVENUE:
        return [r[REVENUE] for r in rows]
    if factor == Factor.MARGIN:
        return ratio_keys([(r[REVENUE] - r[COGS], r[REVENUE]) for r in rows])
    if factor == Factor.PAYMENT:
        return ratio_keys([(r[ON_TIME], r[ON_TIME] + r[LATE]) for r in rows])
    if factor == Factor.DELIVERY:
        return ratio_keys([(r[ON_TIME_DELIVERIES], r[DATED]) for r in rows])
    if factor == Factor.GROWTH:
        return growth_keys(rows)
    if factor == Factor.SATISFACTION:
        return ratio_keys([(r[SURVEY_TOTAL], r[SURVEY_COUNT]) for r in rows])
    column = {
        Factor.POTENTIAL: POTENTIAL,
        Factor.COMPLAINTS: COMPLAINTS,
        Factor.TENURE: TENURE,
        Factor.REFERRALS: REFERRALS,
    }[factor]
    return [r[column] for r in rows]


def percentiles(values: list, *, descending: bool) -> tuple[list, int]:
    """scoring.percentile_pairs over a list: (q per position, None where the value is lacking; d).
    The percentile is 50 q / d; one d serves every known value (n - 1, or 1 when n = 1). Twice the
    average rank of a value, minus 2, is its first position plus its last in the sorted values."""
    counts = Counter(values)
    n = len(values) - counts.pop(None, 0)
    if n <= 1:
        return [None if v is None else 2 for v in values], 1
    ordered = sorted(counts, reverse=descending)
    sizes = list(map(counts.__getitem__, ordered))
    # A value's first position is the number of values before it; its last, that plus its count, less one.
    q = dict(
        zip(
            ordered,
            [2 * first + size - 1 for first, size in zip(itertools.accumulate(sizes, initial=0), sizes, strict=False)],
            strict=False,
        )
    )
    q[None] = None
    return list(map(q.__getitem__, values)), n - 1


def competition_ranks(keys: list, positions) -> dict:
    """scoring.competition_ranks (descending, ties share the better rank) of the keys at the given
    positions: 1 + the number of larger keys, the first position of the key in descending order."""
    ordered = sorted((keys[i] for i in positions), reverse=True)
    first = {k: i for i, k in zip(range(len(ordered), 0, -1), reversed(ordered), strict=False)}
    return {i: first[keys[i]] for i in positions}


def by_key_then_code(keys: list, codes: list, *, descending: bool) -> list:
    """Positions ordered by key (descending or not), then by code (code points, like COLLATE "C")."""
    order = sorted(range(len(keys)), key=codes.__getitem__)
    order.sort(key=keys.__getitem__, reverse=descending)  # stable: equal keys keep the code order
    return order


@dataclass
class Scored:
    """What score decided: the rows to write, and what `company` needs for the aggregates."""

    rows: list  # (customer_id, percentiles JSON text, score, rank, tier, quadrant, protection, action)
    fetched: list  # every fetched row
    population: list  # the fetched rows of customers with orders, in fetched order
    by_revenue: list  # positions in population, by revenue descending, then by code
    revenue: list
    profit: list
    codes: list
    tiers: list  # per position in population
    median: Decimal | None

    def company(self, *, as_of: datetime.date, previous_tiers: dict | None) -> dict:
        """The aggregates sql_engine.company_figures reads. Apart from score, so that the SQL engine can
        compute them while PostgreSQL writes and indexes the run's rows."""
        tiers = dict.fromkeys((r[ID] for r in self.fetched), Tier.P.value)
        tiers.update(zip((r[ID] for r in self.population), self.tiers, strict=False))
        company = _company(
            self.fetched,
            self.population,
            self.by_revenue,
            self.revenue,
            self.profit,
            self.codes,
            tiers,
            as_of=as_of,
            previous_tiers=previous_tiers,
        )
        company.update(customers=len(self.fetched), with_orders=len(self.population), median_profit=self.median)
        return company


def score(
    rows: list[tuple],
    *,
    weights: dict[str, int],
    core_pct: int,
    key_pct: int,
    order_handling_cents: int,
    complaint_handling_cents: int,
) -> Scored:
    """Everything scoring.score_population decides, from the fetched rows (Scored.company: the aggregates)."""
    population = [r for r in rows if r[ORDERS] > 0]
    n = len(population)
    ohc, chc = order_handling_cents, complaint_handling_cents
    profit = [r[REVENUE] - r[COGS] - (r[SERVICE] + r[ORDERS] * ohc + r[COMPLAINTS] * chc) for r in population]
    revenue = [r[REVENUE] for r in population]
    codes = [r[CODE] for r in population]

    # Percentiles of every factor the score or the quadrant needs, as (q, d); the missing ones (1, 1).
    weights = {str(f): w for f, w in weights.items()}
    needed = sorted(set(weights) | {Factor.GROWTH.value, Factor.POTENTIAL.value})
    q, d, pieces = {}, {}, []
    for f in needed:
        q[f], d[f] = percentiles(_values(population, f, profit), descending=f in LESS_IS_BETTER)
        distinct = [value for value in set(q[f]) if value is not None]  # the text once per distinct q
        text = dict(
            zip(
                distinct,
                map(f'"{f}": "%s"'.__mod__, fixed_half_up([50 * value for value in distinct], d[f], 6)),
                strict=False,
            )
        )
        text[None] = f'"{f}": "{fixed_half_up([50 * MISSING[0]], MISSING[1], 6)[0]}"'
        pieces.append(list(map(text.__getitem__, q[f])))
    percentile_json = list(map("{%s}".__mod__, map(", ".join, zip(*pieces, strict=False))))

    # score = sum(w * 50 * q / d) / W over the common denominator L = lcm(d): the integer key
    # sum(w * q * L / d) orders customers exactly as the score does.
    common = math.lcm(*(d[f] for f in weights if any(v is not None for v in q[f])), 1)
    total_weight = sum(weights.values())
    contributions = []
    for f, weight in weights.items():
        known, lacking = weight * (common // d[f]), weight * MISSING[0] * (common // MISSING[1])
        contributions.append([known * v if v is not None else lacking for v in q[f]])
    score_keys = list(map(sum, zip(*contributions, strict=False))) if n else []
    den = common * total_weight
    scores = fixed_half_up([50 * key for key in score_keys], den, 4)
    ranks = competition_ranks(score_keys, range(n))

    # Tiers: D for losses; among the rest (m), the same ranking decides A, B, C.
    drain = Tier.D.value
    tiers = [drain if p < 0 else "" for p in profit]
    non_drain = [i for i in range(n) if profit[i] >= 0]
    core, key_count = top_share_count(len(non_drain), core_pct), top_share_count(len(non_drain), key_pct)
    a, b, c = Tier.A.value, Tier.B.value, Tier.C.value
    for position, rank in competition_ranks(score_keys, non_drain).items():
        tiers[position] = a if rank <= core else b if rank <= key_count else c

    ordered_profits = sorted(profit)
    if n:
        middle = n // 2
        twice_median = 2 * ordered_profits[middle] if n % 2 else ordered_profits[middle - 1] + ordered_profits[middle]
        median = cents(ordered_profits[middle]) if n % 2 else EXACT.divide(cents(twice_median), Decimal(2))
    else:
        twice_median, median = None, None
    by_revenue = by_key_then_code(revenue, codes, descending=True)
    big = set(by_revenue[: top_share_count(n, 10)])

    qg, dg = q[Factor.GROWTH.value], d[Factor.GROWTH.value]
    qp, dp = q[Factor.POTENTIAL.value], d[Factor.POTENTIAL.value]
    written = []
    for i, r in enumerate(population):
        current = 2 * profit[i] >= twice_median
        g, gd = (qg[i], dg) if qg[i] is not None else MISSING
        p, pd = (qp[i], dp) if qp[i] is not None else MISSING
        future = g * pd + p * gd >= 2 * gd * pd
        quadrant = CHAMPION if current and future else STAR if future else HARVEST if current else EXIT
        reasons = []
        if r[TENURE] is not None and r[TENURE] >= 3:
            reasons.append(LOYAL)
        if i in big:
            reasons.append(BIG)
        if (r[POTENTIAL] or 0) >= 4 or (r[PRIOR] and compare((r[REVENUE] - r[PRIOR]) * 100, r[PRIOR], 30) >= 0):
            reasons.append(POTENTIAL_REASON)
        if r[STRATEGIC]:
            reasons.append(STRATEGIC_REASON)
        if tiers[i] == drain or quadrant == EXIT:
            action = REVIEW if reasons else REDUCE
        else:
            action = INVEST if quadrant == CHAMPION else DEVELOP if quadrant == STAR else HARVEST_ACTION
        written.append((r[ID], percentile_json[i], scores[i], ranks[i], tiers[i], quadrant, ";".join(reasons), action))

    return Scored(
        rows=written,
        fetched=rows,
        population=population,
        by_revenue=by_revenue,
        revenue=revenue,
        profit=profit,
        codes=codes,
        tiers=tiers,
        median=median,
    )


def _growth_pct(r) -> str:
    return fixed(rounded((r[REVENUE] - r[PRIOR]) * 100, r[PRIOR], 4), 4)


def _company(rows, population, by_revenue, revenue, profit, codes, tiers, *, as_of, previous_tiers) -> dict:
    """The aggregates of the run's rows, as sql_engine.company_figures reads them."""
    n = len(population)
    top20_count = top_share_count(n, 20)
    top20 = by_revenue[:top20_count]
    trend = Counter()
    declining = []
    for i in top20:
        r = population[i]
        if not r[PRIOR]:
            trend["new"] += 1
            continue
        growth = (r[REVENUE] - r[PRIOR]) * 100
        if compare(growth, r[PRIOR], -5) < 0:
            trend["declining"] += 1
            declining.append(r)
        elif compare(growth, r[PRIOR], 5) > 0:
            trend["growing"] += 1
        else:
            trend["flat"] += 1
    declining = [
        r
        for _key, _code, r in sorted(
            zip(growth_keys(declining), (r[CODE] for r in declining), declining, strict=False),
            key=lambda item: item[:2],
        )
    ]
    totals = {
        "revenue": cents(sum(revenue)) if n else None,
        "profit": cents(sum(profit)) if n else None,
        "sum_sq": Decimal(sum(v * v for v in revenue)).scaleb(-4) if n else None,
        "top1": cents(revenue[by_revenue[0]]) if n else None,
        "top5": cents(sum(revenue[i] for i in by_revenue[:5])) if n else None,
        "top20_count": top20_count,
        "top20_revenue": cents(sum(revenue[i] for i in top20)) if n else None,
        "top20_profit": cents(sum(profit[i] for i in top20)) if n else None,
        **{key: trend[key] for key in ("growing", "declining", "flat", "new")},
    }

    # The whale curve: cumulative profit, best customers first; the peak is the largest share (rounded
    # to 4 places, as shown), the earliest on ties.
    cumulative = list(itertools.accumulate(profit[i] for i in by_key_then_code(profit, codes, descending=True)))
    total_profit = cumulative[-1] if n else 0
    peak = None
    if total_profit:
        shares = [rounded(running * 100, total_profit, 4) for running in cumulative]
        best = max(shares)
        peak = (best, shares.index(best) + 1)
    step = max(1, n // 400)
    points = {index: cumulative[index - 1] for index in range(step, n + 1, step)}
    if n:
        points[n] = cumulative[n - 1]
    if peak:
        points[peak[1]] = cumulative[peak[1] - 1]

    dormant = sorted(
        (
            r
            for r in rows
            if r[SINCE_ORDER] is not None
            and r[SINCE_ORDER] >= 180
            and not (r[CHURNED_ON] is not None and r[CHURNED_ON] <= as_of)
        ),
        key=lambda r: (-r[SINCE_ORDER], r[CODE]),
    )
    neglected = sorted(
        (
            r
            for r in rows
            if tiers[r[ID]] in (Tier.A.value, Tier.B.value) and (r[SINCE_CONTACT] is None or r[SINCE_CONTACT] >= 60)
        ),
        key=lambda r: (-r[REVENUE], r[CODE]),
    )
    if previous_tiers:
        migration = Counter(f"{previous_tiers.get(r[ID], 'new')}>{tiers[r[ID]]}" for r in rows)
    else:
        migration = None
    first_orders = Counter(r[FIRST_ORDER] for r in rows if r[FIRST_ORDER] is not None)
    return {
        "tiers": dict(Counter(tiers.values())),
        "totals": totals,
        "declining": [[r[ID], _growth_pct(r)] for r in declining[:LIST_LIMIT]],
        "whale_points": [[index, cents(points[index])] for index in sorted(points)],
        "whale_peak": [fixed(peak[0], 4), peak[1]] if peak else None,
        "dormant_count": len(dormant),
        "dormant": [[r[ID], r[SINCE_ORDER]] for r in dormant[:LIST_LIMIT]],
        "neglected_count": len(neglected),
        "neglected": [r[ID] for r in neglected[:LIST_LIMIT]],
        "migration": dict(migration) if migration is not None else None,
        "first_orders": [[day.isoformat(), count] for day, count in sorted(first_orders.items())],
        "churned": [
            [r[ID], r[CHURNED_ON].isoformat(), r[CHURN_REASON], r[FIRST_ORDER].isoformat() if r[FIRST_ORDER] else None]
            for r in rows
            if r[CHURNED_ON] is not None
        ],
    }
