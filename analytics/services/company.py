"""Company-level figures of a run (DESIGN section 5), from the scored customers.

Money is exact; shares and rates are Decimals rounded half-up to 4 places when stored.
"""

import bisect
import datetime
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Sum

from crm.models import Customer, Order

from ..models import CustomerMonth, Tier
from ..totals import month_start
from .metrics import Window, next_month
from .scoring import EXACT, CustomerFigures, top_share_count

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
