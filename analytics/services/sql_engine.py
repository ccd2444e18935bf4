"""The analysis run computed inside PostgreSQL: one set-based statement instead of 100,000 Python objects.

`results_and_company` runs a single `WITH ... INSERT INTO <the run's partition> ... SELECT` that
reads each customer's running totals at three month ends and the orders of at most half a month of
edge days per boundary (_boundary), so its reading does not grow with the order history; the
window's sums are differences of running sums (the window ends at as_of, the prior window the day
before the window starts). It computes every per-customer figure, percentile,
score, rank, tier, quadrant, protection and action with window functions, writes the rows, and
returns in the same statement the aggregates the company figures need (sums, top-n, lists, the
whale curve's points). The Python engine (metrics.py + scoring.py + company.py) is the reference:
tests/analytics/test_engine_equivalence.py proves both store the same values.

Exactness, as in scoring.py:
- money is `numeric`, exact;
- ratios are divided with 40 decimal places (`HI`): two different ratios of money amounts (at most
  16 digits each) differ by more than 1e-32, so they never compare equal, and equal ratios always
  give the same digits (PostgreSQL rounds a quotient correctly at the scale it keeps);
- a percentile is the integer pair (q, d), percentile = 50 q / d, ranked with rank() and the count of
  ties; the score is compared as the integer sum(w q L / d) over L = lcm(d), like `score_population`;
- stored values are rounded half away from zero (PostgreSQL's round(numeric), Python's ROUND_HALF_UP).
"""
import datetime
import json
import logging
from decimal import Decimal

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from complaints.models import State
from crm.models import Order

from ..models import CompanyMonth, CustomerResult, CustomerRunningTotal, Factor, Tier
from ..totals import month_start, running_extend
from .metrics import Window, next_month

logger = logging.getLogger(__name__)
HI = "numeric(1000, 40)"  # the scale ratios are divided at
LIST_LIMIT = 500
WORK_MEM = "128MB"

# How each factor's raw value is named in the `fig` CTE; None = missing data (percentile 50).
FACTOR_COLUMN = {
    Factor.PROFIT: "profit",
    Factor.REVENUE: "revenue",
    Factor.MARGIN: "margin_x",
    Factor.PAYMENT: "payment_x",
    Factor.DELIVERY: "delivery_x",
    Factor.GROWTH: "growth_x",
    Factor.POTENTIAL: "growth_potential",
    Factor.SATISFACTION: "survey_x",
    Factor.COMPLAINTS: "complaints",
    Factor.TENURE: "tenure_years",
    Factor.REFERRALS: "referrals",
}
LESS_IS_BETTER = {Factor.COMPLAINTS}


def _boundary(day: datetime.date) -> tuple[datetime.date, list[datetime.date], int]:
    """Running sums through `day` as (running-total month, edge days, sign): that month's row plus
    (+1) or minus (-1) the orders of the edge days, whichever reads fewer days."""
    month = month_start(day)
    last = next_month(month) - datetime.timedelta(days=1)
    if day == last:
        return month, [], -1
    inside, outside = day.day, (last - day).days
    if inside <= outside:
        before = month_start(month - datetime.timedelta(days=1))
        return before, [month + datetime.timedelta(days=i) for i in range(inside)], 1
    return month, [day + datetime.timedelta(days=i) for i in range(1, outside + 1)], -1


def build_sql(*, run_id: int, window: Window, weights: dict[str, int], core_pct: int, key_pct: int,
              order_handling_cost: Decimal, complaint_handling_cost: Decimal,
              previous_run_id: int | None, previous_started_at) -> tuple[str, dict]:  # fmt: skip
    """The statement and its parameters. It inserts the run's rows and returns one row of company aggregates."""
    as_of = window.as_of
    params: dict = {
        "run_id": run_id, "as_of": as_of, "start": window.start, "end": window.end,
        "ohc": order_handling_cost, "chc": complaint_handling_cost, "core_pct": core_pct, "key_pct": key_pct,
        "counted": [s.value for s in Order.COUNTED_STATUSES],
        "not_counted_complaints": [State.REJECTED.value, State.DUPLICATE.value],
        "tz": timezone.get_current_timezone_name(), "weight_total": sum(weights.values()),
        "prev_run": previous_run_id, "prev_started": previous_started_at,
    }  # fmt: skip
    # Sums over [start, end] = running(end) - running(start - 1 day), each read as a running-total row
    # plus or minus the orders of a few edge days (_boundary).
    if window.end != as_of or window.prior_end != window.start - datetime.timedelta(days=1):
        raise ValueError("the SQL engine needs a window ending at as_of and a prior window ending the day before it")
    d_month, d_days, d_sign = _boundary(as_of)
    s_month, s_days, s_sign = _boundary(window.start - datetime.timedelta(days=1))
    p_month, p_days, p_sign = _boundary(window.prior_start - datetime.timedelta(days=1))
    params.update(d_month=d_month, d_days=d_days, s_month=s_month, s_days=s_days, p_month=p_month, p_days=p_days)
    # ARPU's months: the company's monthly revenue; as_of's month up to as_of only.
    this_month = month_start(as_of)
    month_over = next_month(this_month) - datetime.timedelta(days=1) == as_of
    params["arpu_first"] = month_start(this_month - datetime.timedelta(days=320))  # 11 months before
    params["arpu_last"] = this_month if month_over else month_start(this_month - datetime.timedelta(days=1))
    params["this_month"] = this_month

    needed = sorted(set(weights) | {Factor.GROWTH, Factor.POTENTIAL})
    for factor, weight in weights.items():
        params[f"w_{factor}"] = weight

    # Percentile pairs: q = 2 * avg_rank - 2, d = n - 1; (2, 1) when n = 1, (1, 1) when missing. With
    # r = rank() and c = count(*) over the same ordering (c counts the value's ties too: c = r + ties - 1),
    # avg_rank = (r + c) / 2, so q = r + c - 2: one sort per factor.
    pct_columns, pct_windows = [], []
    for factor in needed:
        column = FACTOR_COLUMN[factor]
        order = "DESC" if factor in LESS_IS_BETTER else "ASC"
        spec = f"(PARTITION BY {column} IS NULL ORDER BY {column} {order})"
        pct_windows.append(
            f"rank() OVER {spec} AS r_{factor}, count(*) OVER {spec} AS c_{factor}"
        )
        pct_columns.append(
            f"CASE WHEN {column} IS NULL THEN 1 WHEN n_{factor} = 1 THEN 2 ELSE r_{factor} + c_{factor} - 2 END AS q_{factor}, "
            f"CASE WHEN {column} IS NULL OR n_{factor} = 1 THEN 1 ELSE n_{factor} - 1 END AS d_{factor}, "
            f"greatest(n_{factor} - 1, 1) AS dd_{factor}"
        )
    # L = lcm of the factors' denominators (the same on every row: computed once, in `common`).
    lcm = f"max(dd_{list(weights)[0]})::numeric"
    for factor in list(weights)[1:]:
        lcm = f"lcm({lcm}, max(dd_{factor})::numeric)"
    key = " + ".join(f"%(w_{f})s * q_{f} * div(common.l, d_{f})" for f in weights)
    percentiles_json = ", ".join(
        f"'{f}', round((50 * q_{f})::numeric(1000, 30) / d_{f}, 6)::text" for f in needed
    )

    def cum(alias: str, edge: str, sign: int, column: str) -> str:
        return f"(coalesce({alias}.{column}, 0) {'+' if sign > 0 else '-'} coalesce({edge}.{column}, 0))"

    def edge_cte(name: str, days_param: str) -> str:
        return f"""{name} AS (
    SELECT o.customer_id, sum(o.revenue) AS revenue, sum(o.cost) AS cost, sum(o.service_cost) AS service_cost,
           count(*) AS orders, count(*) FILTER (WHERE o.entry_error) AS error_orders,
           count(*) FILTER (WHERE o.promised_on IS NOT NULL AND o.delivered_on IS NOT NULL) AS dated_deliveries,
           count(*) FILTER (WHERE o.delivered_on <= o.promised_on) AS on_time_deliveries,
           min(o.ordered_on) AS first, max(o.ordered_on) AS last
    FROM crm_order o WHERE o.status = ANY(%(counted)s) AND o.ordered_on = ANY(%({days_param})s::date[])
    GROUP BY o.customer_id
)"""

    sums = {
        column: f"{cum('rd', 'ed', d_sign, column)} - {cum('rs', 'es', s_sign, column)}"
        for column in ("revenue", "cost", "service_cost", "orders", "error_orders", "dated_deliveries", "on_time_deliveries")
    }
    prior_revenue = f"{cum('rs', 'es', s_sign, 'revenue')} - {cum('rp', 'ep', p_sign, 'revenue')}"
    if d_sign > 0:  # as_of's month: the running row of the month before, plus the days up to as_of
        first_order = "coalesce(rd.first_order_on, ed.first)"
        last_order = "coalesce(ed.last, rd.last_order_on)"
    else:  # the running row of as_of's month, less the days after as_of (orders dated after as_of, if any)
        first_order = "CASE WHEN rd.first_order_on <= %(as_of)s THEN rd.first_order_on END"
        last_order = """CASE WHEN rd.last_order_on <= %(as_of)s THEN rd.last_order_on
                WHEN rd.first_order_on <= %(as_of)s THEN (
                    SELECT max(o.ordered_on) FROM crm_order o
                    WHERE o.customer_id = c.id AND o.ordered_on <= %(as_of)s AND o.status = ANY(%(counted)s)) END"""
    partial = "0" if d_sign > 0 else (
        f"(SELECT coalesce(sum(revenue), 0) FROM {CompanyMonth._meta.db_table} WHERE month = %(this_month)s)"
    )
    running = CustomerRunningTotal._meta.db_table
    factor_columns = "".join(
        f", {FACTOR_COLUMN[f]}" for f in needed if FACTOR_COLUMN[f] not in ("profit", "revenue", "growth_x", "growth_potential")
    )

    sql = f"""
WITH
{edge_cte("ed", "d_days")},
{edge_cte("es", "s_days")},
{edge_cte("ep", "p_days")},
by_month AS (
    SELECT month, revenue FROM {CompanyMonth._meta.db_table} WHERE month BETWEEN %(arpu_first)s AND %(arpu_last)s
    UNION ALL
    SELECT %(this_month)s, {partial} {'+' if d_sign > 0 else '-'} (SELECT coalesce(sum(revenue), 0) FROM ed)
    WHERE %(this_month)s > %(arpu_last)s
),
pay AS (
    SELECT customer_id,
           count(*) FILTER (WHERE paid_on <= %(as_of)s AND paid_on <= due_on) AS on_time,
           count(*) FILTER (WHERE (paid_on <= %(as_of)s AND paid_on > due_on)
                               OR ((paid_on IS NULL OR paid_on > %(as_of)s) AND due_on < %(as_of)s)) AS late,
           coalesce(sum(amount) FILTER (WHERE (paid_on IS NULL OR paid_on > %(as_of)s) AND due_on < %(as_of)s), 0)
               AS overdue_amount,
           coalesce(sum(CASE WHEN paid_on <= %(as_of)s THEN paid_on ELSE %(as_of)s END - due_on)
                    FILTER (WHERE (paid_on <= %(as_of)s AND paid_on > due_on)
                                  OR ((paid_on IS NULL OR paid_on > %(as_of)s) AND due_on < %(as_of)s)), 0) AS days_late
    FROM crm_invoice WHERE due_on BETWEEN %(start)s AND %(end)s GROUP BY customer_id
),
compl AS (
    SELECT customer_id, count(*) AS n FROM complaints_complaint
    WHERE (received_at AT TIME ZONE %(tz)s)::date BETWEEN %(start)s AND %(end)s
      AND NOT (state = ANY(%(not_counted_complaints)s))
    GROUP BY customer_id
),
surv AS (
    SELECT customer_id, sum(score) AS total, count(*) AS n FROM crm_survey
    WHERE answered_on BETWEEN %(start)s AND %(end)s GROUP BY customer_id
),
contact AS (
    SELECT customer_id, max(occurred_on) AS last FROM crm_interaction WHERE occurred_on <= %(as_of)s GROUP BY customer_id
),
refs AS (
    SELECT referred_by_id AS customer_id, count(*) AS n FROM crm_customer WHERE referred_by_id IS NOT NULL
    GROUP BY referred_by_id
),
raw AS (
    SELECT c.id AS customer_id, c.code, c.since, c.growth_potential, c.strategic, c.churned_on, c.churn_reason,
           {sums["revenue"]} AS revenue, {sums["cost"]} AS cost_of_goods,
           {sums["service_cost"]} AS service_cost, {sums["orders"]} AS orders,
           {sums["error_orders"]} AS error_orders, {sums["dated_deliveries"]} AS dated,
           {sums["on_time_deliveries"]} AS on_time_deliveries, {prior_revenue} AS prior_revenue,
           coalesce(pay.on_time, 0) AS invoices_on_time, coalesce(pay.late, 0) AS late_invoices,
           coalesce(pay.overdue_amount, 0) AS overdue_amount, coalesce(pay.days_late, 0) AS days_late,
           coalesce(compl.n, 0) AS complaints, coalesce(surv.total, 0) AS survey_total,
           coalesce(surv.n, 0) AS survey_count, coalesce(refs.n, 0) AS referrals,
           {first_order} AS first_order_on, {last_order} AS last_order_on, contact.last AS last_contact
    FROM crm_customer c
    LEFT JOIN {running} rd ON rd.customer_id = c.id AND rd.month = %(d_month)s
    LEFT JOIN {running} rs ON rs.customer_id = c.id AND rs.month = %(s_month)s
    LEFT JOIN {running} rp ON rp.customer_id = c.id AND rp.month = %(p_month)s
    LEFT JOIN ed ON ed.customer_id = c.id
    LEFT JOIN es ON es.customer_id = c.id
    LEFT JOIN ep ON ep.customer_id = c.id
    LEFT JOIN pay ON pay.customer_id = c.id
    LEFT JOIN compl ON compl.customer_id = c.id
    LEFT JOIN surv ON surv.customer_id = c.id
    LEFT JOIN contact ON contact.customer_id = c.id
    LEFT JOIN refs ON refs.customer_id = c.id
),
fig AS (
    SELECT raw.*,
           revenue - cost_of_goods AS gross_margin,
           service_cost + orders * %(ohc)s + complaints * %(chc)s AS cost_to_serve,
           revenue - cost_of_goods - (service_cost + orders * %(ohc)s + complaints * %(chc)s) AS profit,
           invoices_on_time + late_invoices AS invoices_counted,
           CASE WHEN revenue <> 0 THEN (revenue - cost_of_goods)::{HI} * 100 / revenue END AS margin_x,
           CASE WHEN invoices_on_time + late_invoices <> 0
                THEN invoices_on_time::{HI} * 100 / (invoices_on_time + late_invoices) END AS payment_x,
           CASE WHEN dated <> 0 THEN on_time_deliveries::{HI} * 100 / dated END AS delivery_x,
           CASE WHEN prior_revenue <> 0 THEN (revenue - prior_revenue)::{HI} * 100 / prior_revenue END AS growth_x,
           CASE WHEN survey_count <> 0 THEN survey_total::{HI} / survey_count END AS survey_x,
           CASE WHEN coalesce(since, first_order_on) IS NULL THEN NULL
                WHEN coalesce(since, first_order_on) > %(as_of)s THEN 0
                ELSE extract(year FROM %(as_of)s::date)::int - extract(year FROM coalesce(since, first_order_on))::int
                     - CASE WHEN to_char(%(as_of)s::date, 'MMDD') < to_char(coalesce(since, first_order_on), 'MMDD')
                            THEN 1 ELSE 0 END
           END AS tenure_years
    FROM raw
),
pop0 AS (
    SELECT customer_id, code, profit, revenue, growth_x, growth_potential{factor_columns},
           {", ".join(pct_windows)}
    FROM fig WHERE orders > 0
),
counts AS (
    -- The population and each factor's known values, counted once (not a window over every row).
    SELECT count(*) AS n, {", ".join(f"count({FACTOR_COLUMN[f]}) AS n_{f}" for f in needed)} FROM fig WHERE orders > 0
),
pop1 AS (
    SELECT pop0.*, counts.*, {", ".join(pct_columns)} FROM pop0 CROSS JOIN counts
),
common AS (SELECT {lcm} AS l FROM pop1),
pop2 AS (
    SELECT pop1.*, {key} AS score_key, common.l * %(weight_total)s AS score_den FROM pop1 CROSS JOIN common
),
med AS (
    SELECT CASE WHEN count(*) = 0 THEN NULL
                WHEN count(*) %% 2 = 1 THEN max(profit) FILTER (WHERE rn = (cnt + 1) / 2)
                ELSE sum(profit) FILTER (WHERE rn IN (cnt / 2, cnt / 2 + 1))::numeric(1000, 4) / 2 END AS median
    FROM (SELECT profit, row_number() OVER (ORDER BY profit) AS rn, count(*) OVER () AS cnt FROM pop1) m
),
pop3 AS (
    SELECT pop2.*,
           rank() OVER (ORDER BY score_key DESC) AS score_rank,
           CASE WHEN profit >= 0 THEN rank() OVER (PARTITION BY profit >= 0 ORDER BY score_key DESC) END AS nd_rank,
           count(*) FILTER (WHERE profit >= 0) OVER () AS m,
           row_number() OVER (ORDER BY revenue DESC, code COLLATE "C") AS revenue_rn,
           row_number() OVER (ORDER BY profit DESC, code COLLATE "C") AS profit_rn,
           sum(profit) OVER (ORDER BY profit DESC, code COLLATE "C" ROWS UNBOUNDED PRECEDING) AS running_profit,
           profit >= (SELECT median FROM med) AS current_value,
           q_growth * d_potential + q_potential * d_growth >= 2 * d_growth * d_potential AS future_value
    FROM pop2
),
res AS (
    SELECT f.customer_id, f.code, f.churned_on, f.churn_reason, f.revenue, f.cost_of_goods, f.gross_margin, f.cost_to_serve,
           f.profit, f.prior_revenue, f.orders,
           round(f.revenue::{HI} / nullif(f.orders, 0), 4) AS average_order_value,
           round(f.margin_x, 4) AS margin_pct, round(f.delivery_x, 4) AS on_time_delivery_pct,
           round(CASE WHEN f.orders <> 0 THEN f.error_orders::{HI} * 100 / f.orders END, 4) AS error_pct,
           round(f.payment_x, 4) AS on_time_payment_pct,
           round(CASE WHEN f.late_invoices <> 0 THEN f.days_late::{HI} / f.late_invoices END, 4) AS average_days_late,
           f.overdue_amount, f.growth_x, round(f.growth_x, 4) AS growth_pct, f.complaints,
           round(f.survey_x, 4) AS average_survey_score, f.referrals, f.tenure_years,
           %(as_of)s::date - f.last_order_on AS days_since_last_order,
           %(as_of)s::date - f.last_contact AS days_since_last_interaction,
           f.first_order_on,
           CASE WHEN p.customer_id IS NULL THEN '{{}}'::jsonb ELSE jsonb_build_object({percentiles_json}) END
               AS percentiles,
           round((50 * p.score_key)::numeric(1000, 30) / p.score_den, 4) AS score,
           p.score_rank AS rank,
           CASE WHEN p.customer_id IS NULL THEN '{Tier.P}'
                WHEN p.profit < 0 THEN '{Tier.D}'
                WHEN p.nd_rank <= (%(core_pct)s * p.m + 99) / 100 THEN '{Tier.A}'
                WHEN p.nd_rank <= (%(key_pct)s * p.m + 99) / 100 THEN '{Tier.B}'
                ELSE '{Tier.C}' END AS tier,
           CASE WHEN p.customer_id IS NULL THEN ''
                WHEN p.current_value AND p.future_value THEN 'champion'
                WHEN p.future_value THEN 'star'
                WHEN p.current_value THEN 'harvest'
                ELSE 'exit' END AS quadrant,
           CASE WHEN p.customer_id IS NULL THEN '' ELSE concat_ws(';',
                CASE WHEN f.tenure_years >= 3 THEN 'loyal' END,
                CASE WHEN p.revenue_rn <= (p.n + 9) / 10 THEN 'big' END,
                CASE WHEN f.growth_potential >= 4 OR f.growth_x >= 30 THEN 'potential' END,
                CASE WHEN f.strategic THEN 'strategic' END) END AS protection,
           p.customer_id IS NOT NULL AS has_orders, p.n, p.revenue_rn, p.profit_rn, p.running_profit,
           p.revenue_rn <= (p.n * 20 + 99) / 100 AS top20  -- the first ceil(n / 5) by revenue
    FROM fig f
    LEFT JOIN pop3 p ON p.customer_id = f.customer_id
),
final AS (
    SELECT res.*,
           CASE WHEN NOT has_orders THEN ''
                WHEN tier = '{Tier.D}' OR quadrant = 'exit' THEN CASE WHEN protection <> '' THEN 'review' ELSE 'reduce' END
                WHEN quadrant = 'champion' THEN 'invest'
                WHEN quadrant = 'star' THEN 'develop'
                ELSE 'harvest' END AS action
    FROM res
),
ins AS (
    INSERT INTO {partition_table(run_id)} (
        run_id, customer_id, revenue, cost_of_goods, gross_margin, cost_to_serve, profit, prior_revenue, orders,
        average_order_value, margin_pct, on_time_delivery_pct, error_pct, on_time_payment_pct, average_days_late,
        overdue_amount, growth_pct, complaints, average_survey_score, referrals, tenure_years,
        days_since_last_order, days_since_last_interaction, first_order_on, percentiles, score, rank, tier,
        quadrant, protection, action)
    SELECT %(run_id)s, customer_id, revenue, cost_of_goods, gross_margin, cost_to_serve, profit, prior_revenue, orders,
        average_order_value, margin_pct, on_time_delivery_pct, error_pct, on_time_payment_pct, average_days_late,
        overdue_amount, growth_pct, complaints, average_survey_score, referrals, tenure_years,
        days_since_last_order, days_since_last_interaction, first_order_on, percentiles, score, rank, tier,
        quadrant, protection, action
    FROM final
    RETURNING 1
),
pop AS (SELECT * FROM final WHERE has_orders),
whale AS (
    SELECT profit_rn, running_profit, n,
           round(running_profit::numeric(1000, 30) * 100 / nullif(sum(profit) OVER (), 0), 4) AS share
    FROM pop
),
whale_peak AS (
    SELECT share AS peak, profit_rn AS peak_at FROM whale WHERE share IS NOT NULL
    ORDER BY share DESC, profit_rn LIMIT 1
),
prev AS (
    SELECT pr.customer_id, pr.tier FROM analytics_customerresult pr JOIN crm_customer pc ON pc.id = pr.customer_id
    WHERE pr.run_id = %(prev_run)s AND pc.created_at <= %(prev_started)s
)
SELECT
    (SELECT count(*) FROM ins) AS written,
    (SELECT count(*) FROM final) AS customers,
    (SELECT count(*) FROM pop) AS with_orders,
    (SELECT median FROM med) AS median_profit,
    (SELECT json_object_agg(tier, n) FROM (SELECT tier, count(*) AS n FROM final GROUP BY tier) t) AS tiers,
    (SELECT json_build_object(
        'revenue', sum(revenue)::text, 'profit', sum(profit)::text, 'sum_sq', sum(revenue * revenue)::text,
        'top1', (sum(revenue) FILTER (WHERE revenue_rn = 1))::text,
        'top5', (sum(revenue) FILTER (WHERE revenue_rn <= 5))::text,
        'top20_count', count(*) FILTER (WHERE top20),
        'top20_revenue', (sum(revenue) FILTER (WHERE top20))::text,
        'top20_profit', (sum(profit) FILTER (WHERE top20))::text,
        'growing', count(*) FILTER (WHERE top20 AND growth_x > 5),
        'declining', count(*) FILTER (WHERE top20 AND growth_x < -5),
        'flat', count(*) FILTER (WHERE top20 AND growth_x BETWEEN -5 AND 5),
        'new', count(*) FILTER (WHERE top20 AND growth_x IS NULL)) FROM pop) AS totals,
    (SELECT json_agg(json_build_array(customer_id, growth_pct::text) ORDER BY growth_x, code COLLATE "C")
     FROM (SELECT customer_id, growth_pct, growth_x, code FROM pop
           WHERE top20 AND growth_x < -5
           ORDER BY growth_x, code COLLATE "C" LIMIT {LIST_LIMIT}) d) AS declining,
    (SELECT json_agg(json_build_array(profit_rn, running_profit::text) ORDER BY profit_rn) FROM whale
     WHERE profit_rn %% greatest(1, n / 400) = 0 OR profit_rn = n
        OR profit_rn = (SELECT peak_at FROM whale_peak)) AS whale_points,
    (SELECT json_build_array(peak::text, peak_at) FROM whale_peak) AS whale_peak,
    (SELECT count(*) FROM final WHERE days_since_last_order >= 180 AND NOT coalesce(churned_on <= %(as_of)s, false))
        AS dormant_count,
    (SELECT json_agg(json_build_array(customer_id, days_since_last_order) ORDER BY days_since_last_order DESC, code COLLATE "C")
     FROM (SELECT customer_id, days_since_last_order, code FROM final
           WHERE days_since_last_order >= 180 AND NOT coalesce(churned_on <= %(as_of)s, false)
           ORDER BY days_since_last_order DESC, code COLLATE "C" LIMIT {LIST_LIMIT}) d) AS dormant,
    (SELECT count(*) FROM final WHERE tier IN ('{Tier.A}', '{Tier.B}')
        AND (days_since_last_interaction IS NULL OR days_since_last_interaction >= 60)) AS neglected_count,
    (SELECT json_agg(customer_id ORDER BY revenue DESC, code COLLATE "C")
     FROM (SELECT customer_id, revenue, code FROM final WHERE tier IN ('{Tier.A}', '{Tier.B}')
           AND (days_since_last_interaction IS NULL OR days_since_last_interaction >= 60)
           ORDER BY revenue DESC, code COLLATE "C" LIMIT {LIST_LIMIT}) g) AS neglected,
    (SELECT json_object_agg(migration, n) FROM (
        SELECT coalesce(prev.tier, 'new') || '>' || final.tier AS migration, count(*) AS n
        FROM final LEFT JOIN prev ON prev.customer_id = final.customer_id GROUP BY 1) m
     WHERE EXISTS (SELECT 1 FROM prev)) AS migration,
    (SELECT json_agg(json_build_array(first_order_on, n) ORDER BY first_order_on)
     FROM (SELECT first_order_on, count(*) AS n FROM final WHERE first_order_on IS NOT NULL GROUP BY 1) f)
        AS first_orders,
    (SELECT json_object_agg(month, revenue::text) FROM by_month) AS month_revenue,
    (SELECT json_agg(json_build_array(customer_id, churned_on, churn_reason, first_order_on)) FROM final
     WHERE churned_on IS NOT NULL) AS churned
"""
    return sql, params


RESULTS = CustomerResult._meta.db_table


def partition_table(run_id: int) -> str:
    """The run's own table: written without indexes, then attached as its partition of the results
    (migration 0009), when PostgreSQL builds each index in one sorted pass."""
    return f"{RESULTS}_r{int(run_id)}"


def drop_result_partitions(run_ids) -> None:
    """Drops the partitions of runs that go; waits at most 2 s for readers (a later run tries again)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s AND c.relname = ANY(%s)",
            [RESULTS, [partition_table(pk) for pk in run_ids]],
        )
        names = [row[0] for row in cursor.fetchall()]
    for name in names:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
                cursor.execute(f"DROP TABLE {name}")
        except OperationalError:
            logger.warning("results of an old run (%s) stay until the next run: readers held the table", name)


def results_and_company(**kwargs) -> dict:
    """Runs the statement; returns its one row as a dict (JSON columns parsed, money as Decimal strings).
    The run's rows go into a table of their own, attached as the run's partition in the same transaction."""
    with transaction.atomic():
        running_extend(kwargs["window"].as_of)  # running totals reach as_of's month (a new month: once)
    sql, params = build_sql(**kwargs)
    run_id, partition = kwargs["run_id"], partition_table(kwargs["run_id"])
    with transaction.atomic(), connection.cursor() as cursor:
        # For this statement only: no JIT (compiling a plan this size costs seconds, more than it saves),
        # and room for its sorts and intermediate results (100,000 rows) in memory instead of on disk.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        # Merge joins: the inputs (customers, running totals, the per-customer aggregates) come sorted by
        # customer; hash joins of 100,000 rows took about a second longer on the benchmark.
        cursor.execute("SET LOCAL enable_hashjoin = off")
        cursor.execute(f"DROP TABLE IF EXISTS {partition}")
        cursor.execute(f"CREATE TABLE {partition} (LIKE {RESULTS} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        # The check lets ATTACH skip its scan of the rows.
        cursor.execute(f"ALTER TABLE {partition} ADD CONSTRAINT {partition}_run CHECK (run_id = {int(run_id)})")
        cursor.execute(sql, params)
        columns = [col[0] for col in cursor.description]
        row = dict(zip(columns, cursor.fetchone()))
        cursor.execute(f"ALTER TABLE {RESULTS} ATTACH PARTITION {partition} FOR VALUES IN ({int(run_id)})")
    for name, value in row.items():
        if isinstance(value, str) and name not in ("median_profit",):
            row[name] = json.loads(value)
    return row


def _decimal(value) -> Decimal:
    return Decimal(value) if value is not None else Decimal("0")


def company_figures(row: dict, window: Window, run_id: int) -> dict:
    """The company JSON (same keys, shapes and values as company.company_figures) from the statement's row."""
    from .company import arpu_and_churn, herfindahl, money, pct, to_json

    n = row["with_orders"]
    t = row["totals"] or {}
    total, total_profit = _decimal(t.get("revenue")), _decimal(t.get("profit"))
    top1 = pct(_decimal(t.get("top1")), total) if n else None
    hhi = herfindahl(_decimal(t.get("sum_sq")), total)
    if n and total_profit:
        # The statement returns the running profit at the curve's points only (every n // 400, the last, the peak).
        points = [(index, Decimal(running)) for index, running in row["whale_points"]]
        _peak_share, peak_at = row["whale_peak"]
        whale = {
            "peak_pct": pct(dict(points)[peak_at], total_profit),
            "peak_customers": peak_at,
            "curve": [[str(pct(index, n)), str(pct(running, total_profit))] for index, running in points],
        }
    else:
        whale = {"peak_pct": None, "peak_customers": None, "curve": []}
    first_orders = []
    for day, count in row["first_orders"] or []:
        first_orders.extend([datetime.date.fromisoformat(day)] * count)
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT coalesce(sum(cm.revenue), 0) FROM crm_customer c
               JOIN analytics_customermonth cm ON cm.customer_id = c.id
                AND cm.month >= (date_trunc('month', c.churned_on) - interval '1 year')::date
                AND cm.month < date_trunc('month', c.churned_on)::date
               WHERE c.churned_on BETWEEN %s AND %s""",
            [window.start, window.end],
        )
        lost = cursor.fetchone()[0]
    churn_rows = [
        (pk, datetime.date.fromisoformat(day), reason, datetime.date.fromisoformat(first) if first else None)
        for pk, day, reason, first in row["churned"] or []
    ]
    revenue = {datetime.date.fromisoformat(month): Decimal(value) for month, value in (row["month_revenue"] or {}).items()}
    tiers = row["tiers"] or {}
    top20 = t.get("top20_count", 0)
    figures = {
        "as_of": window.as_of.isoformat(),
        "window": [window.start.isoformat(), window.end.isoformat()],
        "prior_window": [window.prior_start.isoformat(), window.prior_end.isoformat()],
        "customers": row["customers"],
        "customers_with_orders": n,
        "median_profit": money(row["median_profit"]),
        "tiers": {tier: tiers.get(tier, 0) for tier in Tier.values},
        "revenue": money(total),
        "profit": money(total_profit),
        "top1_share_pct": top1,
        "top5_share_pct": pct(_decimal(t.get("top5")), total),
        "hhi": hhi,
        "concentration_alert": bool((top1 is not None and top1 > 25) or (hhi is not None and hhi > 2500)),
        "top20_count": top20,
        "top20_revenue_share_pct": pct(_decimal(t.get("top20_revenue")), total),
        "top20_profit_share_pct": pct(_decimal(t.get("top20_profit")), total_profit),
        "whale": whale,
        **arpu_and_churn(window, first_orders, churn_rows, revenue, lost),
        "dormant_count": row["dormant_count"],
        "dormant": row["dormant"] or [],
        "top20_trend": {
            "counts": {key: t.get(key, 0) for key in ("growing", "flat", "declining", "new")},
            "declining": row["declining"] or [],
        },
        "tier_migration": row["migration"] or {},
        "neglected_count": row["neglected_count"],
        "neglected": row["neglected"] or [],
    }
    return to_json(figures)
