"""The Trends and churn page: the top 20% against the year before, churn by month and quarter, why
customers left, the dormant ones, and ARPU by month. All from the run's company figures
(services/core.py), for the whole company."""

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import display
from core.charts import chart_texts
from crm.models import Customer

from ..models import AnalysisRun, CustomerResult
from ..services.core import Window
from .cards import (
    COUNT_AXIS,
    Card,
    Scope,
    cents,
    chart,
    count_bars,
    currency,
    list_query,
    number,
    pct_of,
    shown,
    side_by_side,
)

GOOD, NEUTRAL, BAD, NEW = "#1b7f5a", "#8a94a6", "#c0392b", "#c9a227"
LISTED = 25  # a list card shows its first rows; its CSV has all the run listed


def listed_customers(run: AnalysisRun, listed: list, figure: str) -> list[tuple]:
    """(customer id, code, name, the run's `figure`, the value the run listed) for the run's listed
    [customer id, value] pairs, in their order (one query)."""
    found = CustomerResult.objects.filter(run_id=run.pk, customer_id__in=[pk for pk, _v in listed])
    found = {pk: rest for pk, *rest in found.values_list("customer_id", "customer__code", "customer__name", figure)}
    return [(pk, *found.get(pk, ("", "", None)), value) for pk, value in listed]


class Top20TrendCard(Card):
    name = "top20_trend"
    title = gettext_lazy("Top-20% trend")
    help = gettext_lazy("The top 20 percent of customers by revenue, against their revenue the year before.")
    empty = gettext_lazy("The top-20% trend needs customers with orders. Import orders, then recompute.")
    GROUPS = (
        ("growing", gettext_lazy("Growing (over +5%)"), GOOD),
        ("flat", gettext_lazy("Flat (±5%)"), NEUTRAL),
        ("declining", gettext_lazy("Declining (over −5%)"), BAD),
        ("new", gettext_lazy("New (no prior revenue)"), NEW),
    )

    def rows(self, run: AnalysisRun, company: dict, scope: Scope) -> dict | None:
        """The counts per trend, and the declining customers (id, code, name, revenue, growth %)."""
        trend = company.get("top20_trend") or {}
        counts = trend.get("counts") or {}
        if not sum(counts.values()):
            return None
        return {"counts": counts, "declining": listed_customers(run, trend.get("declining") or [], "revenue")}

    def figure(self, trend: dict) -> dict:
        labels, colours = chart_texts(label for _k, label, _c in self.GROUPS), [c for _k, _l, c in self.GROUPS]
        bars = count_bars(labels, [trend["counts"].get(key, 0) for key, _l, _c in self.GROUPS], colours)
        return chart([bars], height=300, yaxis={"title": {"text": _("Customers")}, **COUNT_AXIS})

    def reading(self, trend: dict) -> list[str]:
        counts = {key: f"{trend['counts'].get(key, 0):,}" for key, _l, _c in self.GROUPS}
        text = _(
            "Of the top 20%% by revenue (%(total)s customers), %(growing)s are growing, %(flat)s flat, "
            "%(declining)s declining and %(new)s new."
        )
        reading = [text % (counts | {"total": f"{sum(trend['counts'].values()):,}"})]
        if trend["declining"]:
            _pk, code, name, _revenue, growth = trend["declining"][0]
            reading.append(
                _("The steepest fall: %(customer)s, %(growth)s%% against the year before. Ask why.")
                % {"customer": f"{code} {name}", "growth": number(Decimal(growth))}
            )
        return reading

    def csv(self, trend: dict) -> tuple[list, list]:
        rows = [[code, name, cents(revenue), growth] for _pk, code, name, revenue, growth in trend["declining"]]
        return [_("Code"), _("Name"), _("Revenue"), _("Growth %")], rows

    def table(self, trend: dict) -> list[dict]:
        return [
            {"customer": pk, "cells": [code, name, display.money(revenue), display.number(Decimal(growth), 1) + "%"]}
            for pk, code, name, revenue, growth in trend["declining"][:LISTED]
        ]

    def extra(self, trend: dict) -> dict:
        return {"counts": trend["counts"], "count": trend["counts"].get("declining", 0)}


class ChurnCard(Card):
    name = "churn"
    title = gettext_lazy("Churn rate")
    help = gettext_lazy("Customers who left in the period / active customers at its start.")
    empty = gettext_lazy("No churn figures in this run.")

    def rows(self, run: AnalysisRun, company: dict, scope: Scope) -> dict | None:
        if not company.get("churn_by_month"):
            return None
        return {key: company.get(key) for key in ("churn_by_month", "churned_in_window", "revenue_lost")} | {
            "churn_by_quarter": company.get("churn_by_quarter") or []
        }

    def figure(self, churn: dict) -> dict:
        def hover(p: dict) -> str:
            text = _("%(churned)s churned of %(active)s active at the start")
            return text % {"churned": f"{p['churned']:,}", "active": f"{p['active_at_start']:,}"}

        # A click on a month (or quarter) lists the customers who churned in it (customdata: the list's query).
        bars = [
            {"type": "bar", "x": [p["period"] for p in periods], "y": [float(p["rate_pct"] or 0) for p in periods]}
            | {"marker": {"color": BAD}, "customdata": [list_query(churned=p["period"]) for p in periods]}
            | {"hovertext": [hover(p) for p in periods], "showlegend": False}
            | {"hovertemplate": "%{x}: %{y:.2f}%<br>%{hovertext}<extra></extra>"}
            for periods in (churn["churn_by_month"], churn["churn_by_quarter"])
        ]
        bars[1] |= {"xaxis": "x2", "yaxis": "y2"}
        layout = side_by_side([_("By month"), _("By quarter")], widths=(0.68, 0.32), spacing=0.08)
        for axis in ("xaxis", "xaxis2"):
            layout[axis]["type"] = "category"
        for axis in ("yaxis", "yaxis2"):
            layout[axis] |= {"ticksuffix": "%", "rangemode": "tozero"}
        return chart(bars, height=340, margin={"t": 64}, meta={"click": "list"}, **layout)

    def reading(self, churn: dict) -> list[str]:
        churned = churn["churned_in_window"] or 0
        if not churned:
            reading = [_("No customer churned in the 12 months.")]
        else:
            worst = max(churn["churn_by_month"], key=lambda p: Decimal(p["rate_pct"] or 0))
            rate = number(Decimal(worst["rate_pct"] or 0), 2)
            reading = [
                _("%(count)s customers churned in the 12 months; the monthly rate peaked at %(rate)s%% in %(month)s.")
                % {"count": f"{churned:,}", "rate": rate, "month": worst["period"]},
                _("They brought %(amount)s %(currency)s in their last 12 months before leaving.")
                % {"amount": shown(churn["revenue_lost"]), "currency": currency()},
            ]
        return [*reading, _("Lowering churn by 5 percent can raise profit by 25 to 85 percent.")]

    def csv(self, churn: dict) -> tuple[list, list]:
        periods = churn["churn_by_month"] + churn["churn_by_quarter"]
        rows = [[p["period"], p["churned"], p["active_at_start"], p["rate_pct"] or ""] for p in periods]
        return [_("Period"), _("Churned"), _("Active at the start"), _("Churn rate %")], rows

    def extra(self, churn: dict) -> dict:
        return {"churned": churn["churned_in_window"] or 0, "revenue_lost": churn["revenue_lost"]}


class ChurnReasonsCard(Card):
    name = "churn_reasons"
    title = gettext_lazy("Why customers left")
    empty = gettext_lazy("No customer churned in the 12 months, so there are no reasons to study.")

    def rows(self, run: AnalysisRun, company: dict, scope: Scope) -> list[tuple] | None:
        """(reason, its label, customers, the list's query for them) of the customers who churned in the
        run's window, commonest first."""
        ordered = sorted((company.get("churn_reasons") or {}).items(), key=lambda item: (-item[1], item[0]))
        window = Window.ending(run.as_of)
        left = f"{window.start.isoformat()}..{window.end.isoformat()}"
        return [
            (reason, display.label(reason, Customer.ChurnReason), n, list_query(churn_reason=reason, left=left))
            for reason, n in ordered
        ] or None

    def figure(self, reasons: list[tuple]) -> dict:
        bars = {"type": "bar", "orientation": "h", "marker": {"color": BAD}, "texttemplate": "%{x:,}"}
        bars |= {"x": [n for _r, _l, n, _q in reasons], "y": chart_texts(label for _r, label, _n, _q in reasons)}
        bars["customdata"] = [query for *_r, query in reasons]  # a click lists the customers who left for it
        return chart(
            [bars | {"hovertemplate": "%{y}: %{x:,}<extra></extra>"}],
            height=max(200, 34 * len(reasons) + 60),
            meta={"click": "list"},
            yaxis={"autorange": "reversed"},
            xaxis={"title": {"text": _("Customers")}, "tickformat": ",d"},
            margin={"l": 10},
        )

    def reading(self, reasons: list[tuple]) -> list[str]:
        _reason, label, n, _query = reasons[0]
        total = f"{sum(n for _r, _l, n, _q in reasons):,}"
        text = _("The main reason customers left: %(reason)s (%(count)s of %(total)s).")
        return [text % {"reason": label, "count": f"{n:,}", "total": total}]

    def csv(self, reasons: list[tuple]) -> tuple[list, list]:
        return [_("Reason"), _("Name"), _("Customers")], [[reason, label, n] for reason, label, n, _q in reasons]


class DormantCard(Card):
    name = "dormant"
    title = gettext_lazy("Dormant customers")
    help = gettext_lazy("No order for 180 days or more, not churned.")
    empty = gettext_lazy("No customer has gone 180 days without an order.")

    def rows(self, run: AnalysisRun, company: dict, scope: Scope) -> dict | None:
        """How many are dormant, and the longest silent the run listed (id, code, name, revenue the year
        before, days since the last order)."""
        count = company.get("dormant_count", 0)
        if not count:
            return None
        return {"count": count, "listed": listed_customers(run, company.get("dormant") or [], "prior_revenue")}

    def reading(self, dormant: dict) -> list[str]:
        count, listed = dormant["count"], len(dormant["listed"])
        text = _("%(count)s customers have not ordered for 180 days or more. Call them before they are lost.")
        reading = [text % {"count": f"{count:,}"}]
        if listed < count:
            reading.append(_("The %(shown)s longest silent are listed.") % {"shown": f"{listed:,}"})
        return reading

    def csv(self, dormant: dict) -> tuple[list, list]:
        columns = [_("Code"), _("Name"), _("Days since the last order"), _("Revenue in the year before")]
        return columns, [[code, name, days, cents(revenue)] for _pk, code, name, revenue, days in dormant["listed"]]

    def table(self, dormant: dict) -> list[dict]:
        return [
            {"customer": pk, "cells": [code, name, display.number(days), display.money(revenue)]}
            for pk, code, name, revenue, days in dormant["listed"][:LISTED]
        ]

    def extra(self, dormant: dict) -> dict:
        return {"count": dormant["count"]}


class ArpuCard(Card):
    name = "arpu"
    title = gettext_lazy("ARPU by month")
    help = gettext_lazy("Revenue in the month / active customers at its end.")
    empty = gettext_lazy("ARPU needs active customers with orders. Import orders, then recompute.")

    def rows(self, run: AnalysisRun, company: dict, scope: Scope) -> list[dict] | None:
        """The run's months: revenue, active customers at the month's end, ARPU."""
        months = company.get("arpu") or []
        return months if any(month.get("arpu") for month in months) else None

    def figure(self, months: list[dict]) -> dict:
        # The bars on the left axis and the ARPU line on the right one: Plotly draws the second axis on top.
        x = [m["month"] for m in months]
        active = {"type": "bar", "x": x, "y": [m["active"] for m in months], "name": _("Active customers")}
        active |= {"marker": {"color": "#dde3ea"}, "hovertemplate": "%{x}: %{y:,}<extra></extra>"}
        arpu = {
            "type": "scatter",
            "x": x,
            "y": [float(m["arpu"]) if m["arpu"] else None for m in months],
            "hovertext": [shown(m["arpu"]) if m["arpu"] else "" for m in months],
            "name": _("ARPU (%(currency)s)") % {"currency": currency()},
            "mode": "lines+markers",
            "line": {"color": "#2f6db5", "width": 2.5},
            "hovertemplate": "%{x}: %{hovertext}<extra></extra>",
        }
        right = {"anchor": "x", "overlaying": "y", "side": "right", "title": {"text": _("ARPU")}}
        return chart(
            [active | {"xaxis": "x", "yaxis": "y"}, arpu | {"xaxis": "x", "yaxis": "y2"}],
            height=320,
            xaxis={"anchor": "y", "domain": [0.0, 0.94], "type": "category"},
            yaxis={"anchor": "x", "domain": [0.0, 1.0], "title": {"text": _("Active customers")}, **COUNT_AXIS},
            yaxis2=right | {"separatethousands": True, "rangemode": "tozero", "showgrid": False},
        )

    def reading(self, months: list[dict]) -> list[str]:
        valued = [m for m in months if m.get("arpu")]
        first, last = valued[0], valued[-1]
        change = pct_of(Decimal(last["arpu"]) - Decimal(first["arpu"]), Decimal(first["arpu"]))
        text = _(
            "Average revenue per active customer was %(last)s %(currency)s in %(month)s, %(change)s%% against "
            "%(first_month)s."
        )
        figures = {"last": shown(last["arpu"]), "currency": currency(), "month": last["month"]}
        change = f"{change:+.1f}" if change is not None else "—"
        return [text % (figures | {"change": change, "first_month": first["month"]})]

    def csv(self, months: list[dict]) -> tuple[list, list]:
        rows = [[m["month"], m["revenue"], m["active"], m["arpu"] or ""] for m in months]
        return [_("Month"), _("Revenue"), _("Active customers"), _("ARPU")], rows


CARDS = (Top20TrendCard(), ChurnCard(), ChurnReasonsCard(), DormantCard(), ArpuCard())
