"""The reference implementation of the analysis (DESIGN section 5): plain Python, one customer at a time.

It was the production engine before analytics/services/core.py; it stays here, apart from production
code, as what the core is checked against (tests/analytics/test_core.py): the core computes on whole
columns and integer keys, this on exact Decimals and Fractions, customer by customer, and both must store
the same values to the cent. `reference_run` reads the database itself (ORM, through the monthly totals
and the edge days' orders), scores and returns what a run stores: every result row and the company JSON.
"""

import bisect
import datetime
import json
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal
from fractions import Fraction

from django.db.models import Case, Count, DateField, DurationField, ExpressionWrapper, F, Max, Min, Q, Sum, Value, When
from django.utils import timezone

from analytics.models import Action, CustomerMonth, Factor, Protection, Quadrant, Tier
from complaints.models import Complaint, State
from complaints.selectors import complaint_period_kpis
from crm.models import Customer, Interaction, Invoice, Order, Survey


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


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


NOT_COUNTED_COMPLAINTS = (State.REJECTED, State.DUPLICATE)


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


def next_month(month: datetime.date) -> datetime.date:
    return (month + datetime.timedelta(days=32)).replace(day=1)


def split_range(start: datetime.date, end: datetime.date) -> tuple[list[datetime.date], list[tuple]]:
    """Whole calendar months inside [start, end], and the partial day ranges left at the edges."""
    first_whole = start if start.day == 1 else next_month(start)
    months, month = [], first_whole
    while next_month(month) - datetime.timedelta(days=1) <= end:
        months.append(month)
        month = next_month(month)
    if not months:
        return [], [(start, end)]
    edges = []
    if start < months[0]:
        edges.append((start, months[0] - datetime.timedelta(days=1)))
    after = next_month(months[-1])
    if after <= end:
        edges.append((after, end))
    return months, edges


ORDER_SUMS = ("revenue", "cost", "service_cost", "orders", "error_orders", "dated_deliveries", "on_time_deliveries")


def order_sums(start: datetime.date, end: datetime.date, *, customers: Q, fields=ORDER_SUMS) -> dict[int, dict]:
    """Counted-order sums per customer for [start, end]: monthly totals plus edge-day orders."""
    months, edges = split_range(start, end)
    dated = Q(promised_on__isnull=False, delivered_on__isnull=False)
    monthly = {
        "revenue": Sum("revenue"),
        "cost": Sum("cost"),
        "service_cost": Sum("service_cost"),
        "orders": Sum("orders"),
        "error_orders": Sum("error_orders"),
        "dated_deliveries": Sum("dated_deliveries"),
        "on_time_deliveries": Sum("on_time_deliveries"),
    }
    daily = {
        "revenue": Sum("revenue"),
        "cost": Sum("cost"),
        "service_cost": Sum("service_cost"),
        "orders": Count("id"),
        "error_orders": Count("id", filter=Q(entry_error=True)),
        "dated_deliveries": Count("id", filter=dated),
        "on_time_deliveries": Count("id", filter=dated & Q(delivered_on__lte=F("promised_on"))),
    }
    sums: dict[int, dict] = {}
    if months:
        rows = (
            CustomerMonth.objects.filter(customers, month__gte=months[0], month__lte=months[-1])
            .values("customer_id")
            .annotate(**{name: monthly[name] for name in fields})
            .order_by()
        )
        sums = {row.pop("customer_id"): row for row in rows}
    for edge_start, edge_end in edges:  # a few days of orders: few rows to merge
        rows = (
            Order.objects.filter(
                customers, ordered_on__gte=edge_start, ordered_on__lte=edge_end, status__in=Order.COUNTED_STATUSES
            )
            .values("customer_id")
            .annotate(**{name: daily[name] for name in fields})
            .order_by()
        )
        for row in rows:
            target = sums.setdefault(row.pop("customer_id"), dict.fromkeys(fields, 0))
            for key, value in row.items():
                target[key] += value or 0
    return sums


def order_span(as_of: datetime.date, *, customers: Q) -> dict[int, tuple]:
    """(first, last) counted order day on or before as_of, per customer."""
    this_month = month_start(as_of)
    span: dict[int, list] = {}
    history = (
        CustomerMonth.objects.filter(customers, month__lt=this_month)
        .values("customer_id")
        .annotate(first=Min("first_order_on"), last=Max("last_order_on"))
        .order_by()
    )
    recent = (
        Order.objects.filter(
            customers, ordered_on__gte=this_month, ordered_on__lte=as_of, status__in=Order.COUNTED_STATUSES
        )
        .values("customer_id")
        .annotate(first=Min("ordered_on"), last=Max("ordered_on"))
        .order_by()
    )
    for row in list(history) + list(recent):
        first, last = span.setdefault(row["customer_id"], [row["first"], row["last"]])
        span[row["customer_id"]] = [min(first, row["first"]), max(last, row["last"])]
    return {key: tuple(value) for key, value in span.items()}


def payment_facts(window: Window, *, customers: Q) -> dict[int, dict]:
    """Invoices due in the window. On time: paid on or before due_on. Late: paid after due_on, or
    unpaid (as of as_of) and due before as_of. Unpaid and not yet due: not counted. Days late run
    to the payment, or to as_of while unpaid. Overdue amount: the late ones still unpaid at as_of."""
    as_of = window.as_of
    unpaid = Q(paid_on__isnull=True) | Q(paid_on__gt=as_of)
    paid = Q(paid_on__isnull=False) & Q(paid_on__lte=as_of)
    on_time = paid & Q(paid_on__lte=F("due_on"))
    paid_late = paid & Q(paid_on__gt=F("due_on"))
    overdue = unpaid & Q(due_on__lt=as_of)
    # Days late run to the payment, or to as_of while unpaid; the database sums the durations.
    settled = Case(When(paid, then=F("paid_on")), default=Value(as_of), output_field=DateField())
    late_days = ExpressionWrapper(settled - F("due_on"), output_field=DurationField())
    rows = (
        Invoice.objects.filter(customers, due_on__gte=window.start, due_on__lte=window.end)
        .values("customer_id")
        .annotate(
            on_time=Count("id", filter=on_time),
            paid_late=Count("id", filter=paid_late),
            overdue=Count("id", filter=overdue),
            overdue_amount=Sum("amount", filter=overdue),
            days_late=Sum(late_days, filter=paid_late | overdue),
        )
        .order_by()
    )
    return {
        row["customer_id"]: {
            "on_time": row["on_time"],
            "late": row["paid_late"] + row["overdue"],
            "overdue_amount": row["overdue_amount"] or Decimal("0"),
            "days_late": row["days_late"].days if row["days_late"] else 0,
        }
        for row in rows
    }


def grouped_counts(queryset, **aggregates) -> dict[int, dict]:
    return {row.pop("customer_id"): row for row in queryset.values("customer_id").annotate(**aggregates).order_by()}


def tenure_years(since: datetime.date | None, as_of: datetime.date) -> int | None:
    if since is None or since > as_of:
        return None if since is None else 0
    years = as_of.year - since.year
    if (as_of.month, as_of.day) < (since.month, since.day):
        years -= 1
    return years


def customer_figures(window: Window, *, id_range: tuple[int, int] | None = None) -> Iterator[CustomerFigures]:
    """The raw figures of every customer (or of ids in [low, high]) for the window."""
    customers = Q()
    people = Customer.objects.all()
    if id_range is not None:
        customers = Q(customer_id__gte=id_range[0], customer_id__lte=id_range[1])
        people = people.filter(pk__gte=id_range[0], pk__lte=id_range[1])
    current = order_sums(window.start, window.end, customers=customers)
    prior = order_sums(window.prior_start, window.prior_end, customers=customers, fields=("revenue",))
    span = order_span(window.as_of, customers=customers)
    payments = payment_facts(window, customers=customers)
    complaints = grouped_counts(
        Complaint.objects.filter(
            customers, received_at__date__gte=window.start, received_at__date__lte=window.end
        ).exclude(state__in=NOT_COUNTED_COMPLAINTS),
        n=Count("id"),
    )
    surveys = grouped_counts(
        Survey.objects.filter(customers, answered_on__gte=window.start, answered_on__lte=window.end),
        total=Sum("score"),
        n=Count("id"),
    )
    interactions = grouped_counts(
        Interaction.objects.filter(customers, occurred_on__lte=window.as_of), last=Max("occurred_on")
    )
    referral_filter = Q(referred_by__isnull=False)
    if id_range is not None:
        referral_filter &= Q(referred_by_id__gte=id_range[0], referred_by_id__lte=id_range[1])
    referrals = {
        row["referred_by_id"]: row["n"]
        for row in Customer.objects.filter(referral_filter).values("referred_by_id").annotate(n=Count("id")).order_by()
    }
    for pk, code, since, potential, strategic in (
        people.values_list("pk", "code", "since", "growth_potential", "strategic")
        .order_by("pk")
        .iterator(chunk_size=10000)
    ):
        sums = current.get(pk, {})
        first_last = span.get(pk)
        pay = payments.get(pk)
        survey = surveys.get(pk)
        last_contact = interactions.get(pk, {}).get("last")
        yield CustomerFigures(
            customer_id=pk,
            code=code,
            revenue=sums.get("revenue", Decimal("0")),
            cost_of_goods=sums.get("cost", Decimal("0")),
            service_cost=sums.get("service_cost", Decimal("0")),
            orders=sums.get("orders", 0),
            error_orders=sums.get("error_orders", 0),
            dated_deliveries=sums.get("dated_deliveries", 0),
            on_time_deliveries=sums.get("on_time_deliveries", 0),
            prior_revenue=prior.get(pk, {}).get("revenue", Decimal("0")),
            invoices_counted=(pay["on_time"] + pay["late"]) if pay else 0,
            invoices_on_time=pay["on_time"] if pay else 0,
            late_invoices=pay["late"] if pay else 0,
            days_late_total=pay["days_late"] if pay else 0,
            overdue_amount=pay["overdue_amount"] if pay else Decimal("0"),
            complaints=complaints.get(pk, {}).get("n", 0),
            survey_total=survey["total"] if survey else 0,
            survey_count=survey["n"] if survey else 0,
            referrals=referrals.get(pk, 0),
            tenure_years=tenure_years(since or (first_last[0] if first_last else None), window.as_of),
            growth_potential=potential,
            strategic=strategic,
            days_since_last_order=(window.as_of - first_last[1]).days if first_last else None,
            first_order_on=first_last[0] if first_last else None,
            days_since_last_interaction=(window.as_of - last_contact).days if last_contact else None,
        )


FOUR = Decimal("0.0001")
LIST_LIMIT = 500  # customers listed per finding (dormant, declining, neglected); counts are complete


def pct(part, whole) -> Decimal | None:
    if not whole:
        return None
    return EXACT.divide(Decimal(part) * 100, Decimal(whole)).quantize(FOUR, rounding=ROUND_HALF_UP)


def money(value: Decimal | None) -> str | None:
    """Stored exact, with at least two places (DESIGN: money is rounded half-up to 0.01 only when
    shown; see `shown_money`). 6000 -> "6000.00", 100.005 -> "100.005"."""
    if value is None:
        return None
    exact = Decimal(value).normalize()
    return str(exact.quantize(Decimal("0.01")) if exact.as_tuple().exponent > -2 else exact)


def shown_money(value: str | None) -> str | None:
    """A stored money figure as people see it: rounded half-up to 0.01."""
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def by_revenue(population: list[CustomerFigures]) -> list[CustomerFigures]:
    return sorted(population, key=lambda c: (-c.revenue, c.code))


def herfindahl(sum_of_squares: Decimal, total: Decimal) -> Decimal | None:
    """HHI = sum of squared revenue shares x 10,000 = 10,000 x sum(r^2) / total^2, exact before rounding."""
    if not total:
        return None
    return EXACT.divide(sum_of_squares * 10000, total * total).quantize(FOUR, rounding=ROUND_HALF_UP)


def concentration(population: list[CustomerFigures]) -> dict:
    ranked = by_revenue(population)
    total = sum((c.revenue for c in ranked), Decimal("0"))
    n = len(ranked)
    top20 = ranked[: top_share_count(n, 20)]
    total_profit = sum((c.profit for c in ranked), Decimal("0"))
    hhi = herfindahl(sum((c.revenue * c.revenue for c in ranked), Decimal("0")), total)
    top1 = pct(ranked[0].revenue, total) if ranked else None
    return {
        "revenue": money(total),
        "profit": money(total_profit),
        "top1_share_pct": top1,
        "top5_share_pct": pct(sum((c.revenue for c in ranked[:5]), Decimal("0")), total),
        "hhi": hhi,
        "concentration_alert": bool((top1 is not None and top1 > 25) or (hhi is not None and hhi > 2500)),
        "top20_count": len(top20),
        "top20_revenue_share_pct": pct(sum((c.revenue for c in top20), Decimal("0")), total),
        "top20_profit_share_pct": pct(sum((c.profit for c in top20), Decimal("0")), total_profit),
    }


def whale_curve(population: list[CustomerFigures], points: int = 400) -> dict:
    """Customers by profit, descending (ties by code); cumulative profit as % of total. The peak is
    how much more than the total the profitable customers earn before the loss-makers eat it.
    The curve has a point every n // points customers, the last one and the peak (its first index)."""
    ranked = sorted(population, key=lambda c: (-c.profit, c.code))
    total = sum((c.profit for c in ranked), Decimal("0"))
    if not ranked or not total:
        return {"peak_pct": None, "peak_customers": None, "curve": []}
    running, shares = Decimal("0"), []
    for customer in ranked:
        running += customer.profit
        shares.append(running)
    return whale_from_running(len(ranked), total, shares, points=points)


def whale_from_running(n: int, total: Decimal, running: list[Decimal], *, points: int = 400) -> dict:
    """The whale figures from the running profit after each of the n customers."""
    shares = [pct(value, total) for value in running]
    peak = max(shares)
    peak_at = shares.index(peak) + 1
    step = max(1, n // points)
    curve = [
        [str(pct(index, n)), str(share)]
        for index, share in enumerate(shares, start=1)
        if index % step == 0 or index == n or index == peak_at
    ]
    return {"peak_pct": peak, "peak_customers": peak_at, "curve": curve}


def month_ends(as_of: datetime.date, months: int = 12) -> list[tuple[datetime.date, datetime.date]]:
    """The last `months` calendar months up to as_of's: (first day, last day counted)."""
    first = month_start(as_of)
    result = []
    for _ in range(months):
        last = min(next_month(first) - datetime.timedelta(days=1), as_of)
        result.append((first, last))
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    return result[::-1]


def active_on(day: datetime.date, first_orders: list[datetime.date], churned: list[datetime.date]) -> int:
    """Customers whose first order is on or before `day` and who had not churned by it."""
    return bisect.bisect_right(first_orders, day) - bisect.bisect_right(churned, day)


def churn_and_arpu(window: Window, first_order: dict[int, datetime.date]) -> dict:
    """Monthly ARPU and churn by month and by quarter, reasons and the revenue the churned brought."""
    churn_rows = [
        (pk, day, reason, first_order.get(pk))
        for pk, day, reason in Customer.objects.filter(churned_on__isnull=False).values_list(
            "pk", "churned_on", "churn_reason"
        )
    ]
    months = month_ends(window.as_of)
    revenue = dict(
        CustomerMonth.objects.filter(month__gte=months[0][0], month__lte=months[-1][0])
        .values("month")
        .annotate(total=Sum("revenue"))
        .order_by()
        .values_list("month", "total")
    )
    last_first, last_day = months[-1]
    if last_day < next_month(last_first) - datetime.timedelta(days=1):  # as_of mid-month: only the days up to it
        revenue[last_first] = Order.objects.filter(
            ordered_on__gte=last_first, ordered_on__lte=last_day, status__in=Order.COUNTED_STATUSES
        ).aggregate(total=Sum("revenue"))["total"] or Decimal("0")
    # Revenue lost: each churned customer's revenue in the 12 whole months before its churn month,
    # read in one query (the months of every churned customer since a year before the window).
    churn_month = {pk: month_start(day) for pk, day, _reason, _first in churn_rows if window.start <= day <= window.end}
    lost = Decimal("0")
    rows = CustomerMonth.objects.filter(
        customer_id__in=Customer.objects.filter(churned_on__gte=window.start, churned_on__lte=window.end).values("pk"),
        month__gte=month_start(window.start).replace(year=window.start.year - 1),
    ).values_list("customer_id", "month", "revenue")
    for pk, month, month_revenue in rows.iterator(chunk_size=10000):
        churned = churn_month[pk]
        if churned.replace(year=churned.year - 1) <= month < churned:
            lost += month_revenue
    return arpu_and_churn(window, sorted(first_order.values()), churn_rows, revenue, lost)


def arpu_and_churn(
    window: Window,
    first_orders: list[datetime.date],
    churn_rows: list[tuple],
    revenue: dict[datetime.date, Decimal],
    lost: Decimal,
) -> dict:
    """The ARPU and churn figures from: every customer's first counted order day (sorted), the churned
    customers as (pk, churned_on, reason, first order day or None), revenue by month, revenue lost."""
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
        churned = sum(
            1
            for _pk, day, _r, first_on in churn_rows
            if start <= day <= end and first_on is not None and first_on <= day
        )
        active = active_on(start - datetime.timedelta(days=1), first_orders, churned_days)
        return {"churned": churned, "active_at_start": active, "rate_pct": pct(churned, active)}

    by_month = [{"period": first.strftime("%Y-%m"), **churn_rate(first, last)} for first, last in months]
    quarters, seen = [], set()
    for first, _last in months:
        q_start = first.replace(month=3 * ((first.month - 1) // 3) + 1)
        if q_start in seen:
            continue
        seen.add(q_start)
        q_end = min((q_start + datetime.timedelta(days=95)).replace(day=1) - datetime.timedelta(days=1), window.as_of)
        quarters.append({"period": f"{q_start.year}-Q{(q_start.month - 1) // 3 + 1}", **churn_rate(q_start, q_end)})

    in_window = [(pk, day, reason) for pk, day, reason, _first in churn_rows if window.start <= day <= window.end]
    return {
        "arpu": arpu,
        "churn_by_month": by_month,
        "churn_by_quarter": quarters,
        "churn_reasons": dict(Counter(reason or "other" for _pk, _day, reason in in_window)),
        "churned_in_window": len(in_window),
        "revenue_lost": money(lost),
    }


def top20_trend(population: list[CustomerFigures]) -> dict:
    """The top 20% by revenue: growing (> +5%), declining (< -5%), flat, or new (no prior revenue)."""
    top = by_revenue(population)[: top_share_count(len(population), 20)]
    groups: dict[str, list] = {"growing": [], "flat": [], "declining": [], "new": []}
    for c in top:
        growth = c.growth_pct
        key = "new" if growth is None else "growing" if growth > 5 else "declining" if growth < -5 else "flat"
        groups[key].append(c)
    declining = sorted(groups["declining"], key=lambda c: (c.growth_pct, c.code))
    return {
        "counts": {key: len(members) for key, members in groups.items()},
        "declining": [
            [c.customer_id, str(c.growth_pct.quantize(FOUR, rounding=ROUND_HALF_UP))] for c in declining[:LIST_LIMIT]
        ],
    }


def company_figures(
    customers: list[CustomerFigures],
    window: Window,
    *,
    median_profit,
    previous_tiers: dict,
    first_order: dict[int, datetime.date],
    churned_ids: set[int],
) -> dict:
    population = [c for c in customers if c.has_orders]
    tiers = Counter(c.tier for c in customers)
    dormant = sorted(
        (
            c
            for c in customers
            if c.customer_id not in churned_ids
            and c.days_since_last_order is not None
            and c.days_since_last_order >= 180
        ),
        key=lambda c: (-(c.days_since_last_order or 0), c.code),
    )
    neglected = sorted(
        (
            c
            for c in customers
            if c.tier in (Tier.A, Tier.B)
            and (c.days_since_last_interaction is None or c.days_since_last_interaction >= 60)
        ),
        key=lambda c: (-c.revenue, c.code),
    )
    migration = Counter()
    if previous_tiers:
        for c in customers:
            migration[f"{previous_tiers.get(c.customer_id, 'new')}>{c.tier}"] += 1
    figures = {
        "as_of": window.as_of.isoformat(),
        "window": [window.start.isoformat(), window.end.isoformat()],
        "prior_window": [window.prior_start.isoformat(), window.prior_end.isoformat()],
        "customers": len(customers),
        "customers_with_orders": len(population),
        "median_profit": money(median_profit),
        "tiers": {tier: tiers.get(tier, 0) for tier in Tier.values},
        **concentration(population),
        "whale": whale_curve(population),
        **churn_and_arpu(window, first_order),
        "dormant_count": len(dormant),
        "dormant": [[c.customer_id, c.days_since_last_order] for c in dormant[:LIST_LIMIT]],
        "top20_trend": top20_trend(population),
        "tier_migration": dict(migration),
        "neglected_count": len(neglected),
        "neglected": [c.customer_id for c in neglected[:LIST_LIMIT]],
    }
    return to_json(figures)


def to_json(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    return value


# ------------------------------------------------------------------------------ a whole run, stored

SIX = Decimal("0.000001")


def _q(value, places=FOUR):
    return None if value is None else Decimal(value).quantize(places, rounding=ROUND_HALF_UP)


def stored_values(c: CustomerFigures) -> dict:
    """What a run stores for the customer (CustomerResult's fields), as the engine before the core wrote it."""
    return {
        "revenue": c.revenue,
        "cost_of_goods": c.cost_of_goods,
        "gross_margin": c.gross_margin,
        "cost_to_serve": c.cost_to_serve,
        "profit": c.profit,
        "prior_revenue": c.prior_revenue,
        "orders": c.orders,
        "average_order_value": _q(c.average_order_value),
        "margin_pct": _q(c.margin_pct),
        "on_time_delivery_pct": _q(c.on_time_delivery_pct),
        "error_pct": _q(c.error_pct),
        "on_time_payment_pct": _q(c.on_time_payment_pct),
        "average_days_late": _q(c.average_days_late),
        "overdue_amount": c.overdue_amount,
        "growth_pct": _q(c.growth_pct),
        "complaints": c.complaints,
        "average_survey_score": _q(c.average_survey_score),
        "referrals": c.referrals,
        "tenure_years": c.tenure_years,
        "days_since_last_order": c.days_since_last_order,
        "days_since_last_interaction": c.days_since_last_interaction,
        "first_order_on": c.first_order_on,
        "percentiles": {f: str(_q(Decimal(50 * q) / Decimal(d), SIX)) for f, (q, d) in c.percentiles.items()},
        "score": _q(Decimal(c.score.numerator) / Decimal(c.score.denominator)) if c.score is not None else None,
        "rank": c.rank,
        "tier": c.tier,
        "quadrant": c.quadrant,
        "protection": ";".join(c.protection),
        "action": c.action,
    }


def reference_run(
    window: Window,
    *,
    weights: dict,
    core_pct: int,
    key_pct: int,
    order_handling_cost: Decimal,
    complaint_handling_cost: Decimal,
    previous_tiers: dict,
) -> tuple[dict, dict]:
    """A whole run by the reference: ({customer id: stored values}, company JSON)."""
    customers = list(customer_figures(window))
    facts = score_population(
        customers,
        weights=weights,
        core_pct=core_pct,
        key_pct=key_pct,
        order_handling_cost=order_handling_cost,
        complaint_handling_cost=complaint_handling_cost,
    )
    churned = set(Customer.objects.filter(churned_on__lte=window.as_of).values_list("pk", flat=True))
    company = company_figures(
        customers,
        window,
        median_profit=facts["median_profit"],
        previous_tiers=previous_tiers,
        first_order={c.customer_id: c.first_order_on for c in customers if c.first_order_on},
        churned_ids=churned,
    )
    company["service"] = service_figures(window)
    return {c.customer_id: stored_values(c) for c in customers}, json.loads(json.dumps(company))


def service_figures(window: Window) -> dict:
    """The complaint KPIs of the complaints received on the window's days (local midnight to local
    midnight after as_of), the orders counted one by one rather than from the monthly totals, as
    text where they are decimals: what the run keeps for its service page."""
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(window.start, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(window.end + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    kpis = complaint_period_kpis(start=start, end=end)
    return {key: str(value) if isinstance(value, Decimal) else value for key, value in kpis.items()}
