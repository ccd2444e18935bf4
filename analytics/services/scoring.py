"""Percentiles, scores, ranks, tiers, quadrants, protection and actions (DESIGN section 5).

Pure functions over `CustomerFigures`, and exact, so ties are ties and two correct
implementations agree:
- ratios (margin %, growth %, on-time %) are Decimals to 50 significant digits, far more than
  two different ratios of 16-digit money amounts can share;
- a percentile is kept as the integer pair (q, d) with percentile = 50 * q / d, and a score as
  one integer over a common denominator, so equal scores compare equal.
"""

import math
from dataclasses import dataclass, field
from decimal import Context, Decimal
from fractions import Fraction

from ..models import Action, Factor, Protection, Quadrant, Tier

EXACT = Context(prec=50)
HUNDRED = Decimal(100)
MISSING = (1, 1)  # 50 * 1 / 1 = 50: a customer lacking a factor's data


def ratio(numerator, denominator) -> Decimal | None:
    if not denominator:
        return None
    return EXACT.divide(EXACT.multiply(Decimal(numerator), HUNDRED), Decimal(denominator))


@dataclass
class CustomerFigures:
    """Everything a run knows about one customer before scoring. Money is exact Decimal."""

    customer_id: int
    code: str
    revenue: Decimal = Decimal("0")
    cost_of_goods: Decimal = Decimal("0")
    service_cost: Decimal = Decimal("0")
    orders: int = 0
    error_orders: int = 0
    dated_deliveries: int = 0
    on_time_deliveries: int = 0
    prior_revenue: Decimal = Decimal("0")
    invoices_counted: int = 0  # on time + late + overdue unpaid, per the payment definition
    invoices_on_time: int = 0
    days_late_total: int = 0
    late_invoices: int = 0
    overdue_amount: Decimal = Decimal("0")
    complaints: int = 0
    survey_total: int = 0
    survey_count: int = 0
    referrals: int = 0
    tenure_years: int | None = None
    growth_potential: int = 3
    strategic: bool = False
    days_since_last_order: int | None = None
    first_order_on: object = None  # datetime.date of the first counted order on or before as_of
    days_since_last_interaction: int | None = None
    # Filled by `score_population`:
    cost_to_serve: Decimal = Decimal("0")
    percentiles: dict = field(default_factory=dict)
    score: Fraction | None = None
    rank: int | None = None
    tier: str = Tier.P
    quadrant: str = ""
    protection: list = field(default_factory=list)
    action: str = ""

    @property
    def has_orders(self) -> bool:
        return self.orders > 0

    @property
    def gross_margin(self) -> Decimal:
        return self.revenue - self.cost_of_goods

    @property
    def profit(self) -> Decimal:
        return self.gross_margin - self.cost_to_serve

    @property
    def margin_pct(self) -> Decimal | None:
        return ratio(self.gross_margin, self.revenue)

    @property
    def growth_pct(self) -> Decimal | None:
        return ratio(self.revenue - self.prior_revenue, self.prior_revenue)

    @property
    def on_time_payment_pct(self) -> Decimal | None:
        return ratio(self.invoices_on_time, self.invoices_counted)

    @property
    def average_days_late(self) -> Decimal | None:
        return EXACT.divide(Decimal(self.days_late_total), Decimal(self.late_invoices)) if self.late_invoices else None

    @property
    def on_time_delivery_pct(self) -> Decimal | None:
        return ratio(self.on_time_deliveries, self.dated_deliveries)

    @property
    def error_pct(self) -> Decimal | None:
        return ratio(self.error_orders, self.orders)

    @property
    def average_order_value(self) -> Decimal | None:
        return EXACT.divide(self.revenue, Decimal(self.orders)) if self.orders else None

    @property
    def average_survey_score(self) -> Decimal | None:
        return EXACT.divide(Decimal(self.survey_total), Decimal(self.survey_count)) if self.survey_count else None

    def percentile(self, factor: str) -> Fraction:
        q, d = self.percentiles[factor]
        return Fraction(50 * q, d)


def factor_value(figures: CustomerFigures, factor: str):
    """The raw value a factor ranks, or None when the customer lacks the data (then it scores 50)."""
    return {
        Factor.PROFIT: lambda: figures.profit,
        Factor.REVENUE: lambda: figures.revenue,
        Factor.MARGIN: lambda: figures.margin_pct,
        Factor.PAYMENT: lambda: figures.on_time_payment_pct,
        Factor.DELIVERY: lambda: figures.on_time_delivery_pct,
        Factor.GROWTH: lambda: figures.growth_pct,
        Factor.POTENTIAL: lambda: figures.growth_potential,
        Factor.SATISFACTION: lambda: figures.average_survey_score,
        Factor.COMPLAINTS: lambda: figures.complaints,
        Factor.TENURE: lambda: figures.tenure_years,
        Factor.REFERRALS: lambda: figures.referrals,
    }[factor]()


LESS_IS_BETTER = {Factor.COMPLAINTS}


def percentile_pairs(values: dict[int, object], *, descending: bool = False) -> dict[int, tuple[int, int]]:
    """Percentile `100 * (avg_rank - 1) / (n - 1)` (1-based ascending ranks, ties averaged; 100 when
    n = 1) as the pair (q, d) with percentile = 50 * q / d: q = 2 * avg_rank - 2, d = n - 1."""
    n = len(values)
    if n == 1:
        return {key: (2, 1) for key in values}
    ordered = sorted(values.items(), key=lambda item: item[1], reverse=descending)
    result, position = {}, 0
    while position < n:
        end = position
        while end + 1 < n and ordered[end + 1][1] == ordered[position][1]:
            end += 1
        q = (position + 1) + (end + 1) - 2  # twice the average rank, minus 2
        for key, _value in ordered[position : end + 1]:
            result[key] = (q, n - 1)
        position = end + 1
    return result


def percentiles(values: dict[int, object], *, descending: bool = False) -> dict[int, Fraction]:
    return {key: Fraction(50 * q, d) for key, (q, d) in percentile_pairs(values, descending=descending).items()}


def competition_ranks(scores: dict[int, object]) -> dict[int, int]:
    """Descending, equal scores share the better rank: 1, 2, 2, 4."""
    ordered = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    ranks, previous, previous_rank = {}, None, 0
    for index, (key, score) in enumerate(ordered, start=1):
        rank = previous_rank if score == previous else index
        ranks[key] = rank
        previous, previous_rank = score, rank
    return ranks


def median(values: list[Decimal]) -> Decimal | None:
    """The usual median: the middle value, or the mean of the two middle ones (exact for money)."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else EXACT.divide(ordered[middle - 1] + ordered[middle], Decimal(2))


def top_share_count(n: int, pct: int) -> int:
    """The first ceil(pct% of n) customers."""
    return math.ceil(Fraction(pct, 100) * n)


def score_population(
    customers: list[CustomerFigures],
    *,
    weights: dict[str, int],
    core_pct: int = 20,
    key_pct: int = 50,
    order_handling_cost: Decimal = Decimal("0"),
    complaint_handling_cost: Decimal = Decimal("0"),
) -> dict:
    """Fills cost to serve, percentiles, score, rank, tier, quadrant, protection and action in place.

    Returns the population facts the company figures need (median profit, n).
    """
    for c in customers:
        c.cost_to_serve = c.service_cost + c.orders * order_handling_cost + c.complaints * complaint_handling_cost
    population = [c for c in customers if c.has_orders]
    by_id = {c.customer_id: c for c in population}

    # Percentiles of every factor the score or the quadrant needs.
    needed = set(weights) | {Factor.GROWTH, Factor.POTENTIAL}
    for factor in needed:
        known = {c.customer_id: v for c in population if (v := factor_value(c, factor)) is not None}
        ranked = percentile_pairs(known, descending=factor in LESS_IS_BETTER)
        for c in population:
            c.percentiles[factor] = ranked.get(c.customer_id, MISSING)

    # score = sum(w * 50 * q / d) / W; over the common denominator L = lcm(d), the integer
    # sum(w * q * L / d) orders customers exactly as the score does.
    common = math.lcm(*{c.percentiles[f][1] for c in population for f in weights}) if population else 1
    total_weight = sum(weights.values())
    score_keys = {}
    for c in population:
        key = sum(weight * c.percentiles[f][0] * (common // c.percentiles[f][1]) for f, weight in weights.items())
        score_keys[c.customer_id] = key
        c.score = Fraction(50 * key, common * total_weight)
    ranks = competition_ranks(score_keys)
    for customer_id, rank in ranks.items():
        by_id[customer_id].rank = rank

    # Tiers: D for losses; among the rest (m), the same ranking decides A, B, C.
    for c in population:
        c.tier = Tier.D if c.profit < 0 else ""
    non_drain = {c.customer_id: score_keys[c.customer_id] for c in population if c.tier != Tier.D}
    m = len(non_drain)
    core, key = top_share_count(m, core_pct), top_share_count(m, key_pct)
    for customer_id, rank in competition_ranks(non_drain).items():
        by_id[customer_id].tier = Tier.A if rank <= core else Tier.B if rank <= key else Tier.C

    # Quadrants.
    median_profit = median([c.profit for c in population])
    for c in population:
        current = c.profit >= median_profit
        future = (c.percentile(Factor.GROWTH) + c.percentile(Factor.POTENTIAL)) / 2 >= 50
        c.quadrant = (
            Quadrant.CHAMPION
            if current and future
            else Quadrant.STAR
            if future
            else Quadrant.HARVEST
            if current
            else Quadrant.EXIT
        )

    # Protection: loyal, big, potential, strategic.
    big = {
        c.customer_id
        for c in sorted(population, key=lambda c: (-c.revenue, c.code))[: top_share_count(len(population), 10)]
    }
    for c in population:
        reasons = []
        if c.tenure_years is not None and c.tenure_years >= 3:
            reasons.append(Protection.LOYAL)
        if c.customer_id in big:
            reasons.append(Protection.BIG)
        growth = c.growth_pct
        if c.growth_potential >= 4 or (growth is not None and growth >= 30):
            reasons.append(Protection.POTENTIAL)
        if c.strategic:
            reasons.append(Protection.STRATEGIC)
        c.protection = reasons

    # Actions.
    by_quadrant = {
        Quadrant.CHAMPION: Action.INVEST,
        Quadrant.STAR: Action.DEVELOP,
        Quadrant.HARVEST: Action.HARVEST,
        Quadrant.EXIT: Action.REDUCE,
    }
    for c in customers:
        if not c.has_orders:
            c.tier, c.quadrant, c.protection, c.action = Tier.P, "", [], ""
        elif c.tier == Tier.D or c.quadrant == Quadrant.EXIT:
            c.action = Action.REVIEW if c.protection else Action.REDUCE
        else:
            c.action = by_quadrant[c.quadrant]
    return {"n": len(population), "median_profit": median_profit}
