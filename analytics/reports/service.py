"""The Service and satisfaction page: the complaint KPIs of the run's 12 months as they stood when the
run was computed (kept with its company figures, as every other figure of the run), the open backlog
read live (it is about now, not about the run), and the satisfaction surveys answered in the run's 12
months. The complaint KPIs page (complaints:kpis) has the KPIs live, for any recent period."""

import datetime
from decimal import Decimal

from django.db.models import Avg, Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from complaints.models import Category
from complaints.selectors import complaint_backlog
from core import display
from core.charts import chart_texts
from crm.models import Survey
from notifications.models import SurveyInvitation

from ..models import AnalysisRun
from ..services import readers
from .cards import COUNT_AXIS, Card, Scope, chart, count_bars, number, pct_of, side_by_side

# ------------------------------------------------------------------------------------ complaint KPIs


BACKLOG = (
    ("d0_1", gettext_lazy("0–1 days"), "#8a94a6"),
    ("d1_3", gettext_lazy("1–3 days"), "#c9a227"),
    ("d3_7", gettext_lazy("3–7 days"), "#e67e22"),
    ("d7_plus", gettext_lazy("7+ days"), "#c0392b"),
)
PERCENTS = ("sla_compliance_pct", "reopen_rate_pct", "recurrence_rate_pct")


class ServiceCard(Card):
    name = "service"
    title = gettext_lazy("Service KPIs")
    help = gettext_lazy(
        "Complaints received in the run's 12 months, as they stood when the run was computed. "
        "Live figures for any recent period are on the complaints' KPIs page."
    )

    def rows(self, run: AnalysisRun, company: dict, scope: Scope) -> dict:
        """The KPIs the run kept with its company figures (readers.read_service_figures); a run
        published before they were kept has them read now, once (the card is then stored)."""
        figures = company.get("service")
        if figures is None:
            figures = readers.read_service_figures(run.window_start, run.window_end)
        return {key: Decimal(value) if isinstance(value, str) else value for key, value in figures.items()}

    def figure(self, kpis: dict) -> None:
        return None  # the tiles say it

    def reading(self, kpis: dict) -> list[str]:
        if not kpis["complaints"]:
            return [_("No complaints were received in the 12 months.")]
        text = _(
            "%(count)s complaints in the 12 months: SLA compliance %(sla)s%%, first response in %(first)s "
            "hours (median), %(ratio)s complaints per 100 orders."
        )
        figures = ("sla_compliance_pct", "first_response_median_hours", "complaints_per_100_orders")
        sla, first, ratio = ("—" if kpis[key] is None else kpis[key] for key in figures)
        return [text % {"count": f"{kpis['complaints']:,}", "sla": sla, "first": first, "ratio": ratio}]

    @staticmethod
    def tiles(kpis: dict) -> list[list[str]]:
        """The KPI tiles: [label, value as text]."""
        pct = {key: "—" if kpis[key] is None else f"{kpis[key]}%" for key in PERCENTS}
        tiles = [
            (_("Complaints received"), f"{kpis['complaints']:,}"),
            (
                _("First response, median / 90th percentile (hours)"),
                f"{kpis['first_response_median_hours'] or '—'} / {kpis['first_response_p90_hours'] or '—'}",
            ),
            (
                _("Resolution, median / 90th percentile (hours)"),
                f"{kpis['resolution_median_hours'] or '—'} / {kpis['resolution_p90_hours'] or '—'}",
            ),
            (_("SLA compliance"), pct["sla_compliance_pct"]),
            (_("Reopen rate"), pct["reopen_rate_pct"]),
            (_("Recurrence rate (same problem within 90 days)"), pct["recurrence_rate_pct"]),
            (_("Complaints per 100 orders"), kpis["complaints_per_100_orders"] or "—"),
            (_("Satisfaction after a complaint (1–5)"), kpis["post_complaint_satisfaction"] or "—"),
        ]
        return [[str(label), str(value)] for label, value in tiles]

    def csv(self, kpis: dict) -> tuple[list, list]:
        return [_("Figure"), _("Value")], self.tiles(kpis)

    def extra(self, kpis: dict) -> dict:
        return {"tiles": self.tiles(kpis), "live": "complaints:kpis"}


class BacklogCard(Card):
    name = "backlog"
    title = gettext_lazy("Open complaints now")
    help = gettext_lazy("The complaints open now, by days since they were received: read live on every visit.")
    live = True  # about now, not about the run

    def rows(self, run: AnalysisRun, company: dict, scope: Scope) -> dict:
        return complaint_backlog(now=timezone.now())

    def figure(self, backlog: dict) -> dict:
        labels, colours = chart_texts(label for _k, label, _c in BACKLOG), [c for _k, _l, c in BACKLOG]
        bars = count_bars(labels, [backlog["backlog_by_age"][key] for key, _l, _c in BACKLOG], colours)
        return chart([bars], height=280, yaxis={"title": {"text": _("Open complaints")}, **COUNT_AXIS})

    def reading(self, backlog: dict) -> list[str]:
        open_now = sum(backlog["backlog_by_age"].values())
        text = _(
            "Open now: %(count)s. A customer loses about one percent per day that a problem stays open: "
            "%(days)s unresolved customer-days now."
        )
        return [text % {"count": f"{open_now:,}", "days": f"{backlog['unresolved_customer_days']:,}"}]

    def csv(self, backlog: dict) -> tuple[list, list]:
        rows = [[str(label), backlog["backlog_by_age"][key]] for key, label, _c in BACKLOG]
        return [_("Days open"), _("Open complaints")], [
            *rows,
            [_("Unresolved customer-days"), str(backlog["unresolved_customer_days"])],
        ]


# ------------------------------------------------------------------------------------ satisfaction


class SatisfactionCard(Card):
    name = "satisfaction"
    title = gettext_lazy("Satisfaction")
    help = gettext_lazy("Surveys on the 5-level scale answered in the run's 12 months.")
    empty = gettext_lazy("No survey was answered in the 12 months. Import surveys (manage.py import_data surveys …).")
    COLOURS = {1: "#c0392b", 2: "#e67e22", 3: "#95a5a6", 4: "#27ae60", 5: "#1b7f5a"}

    def rows(self, run: AnalysisRun, company: dict, scope: Scope) -> dict | None:
        """Surveys answered in the run's window: answers per level, and the mean score and answers by
        month (two queries)."""
        surveys = Survey.objects.filter(answered_on__gte=run.window_start, answered_on__lte=run.window_end)
        distribution = dict(surveys.order_by().values_list("score").annotate(n=Count("id")))
        if not distribution:
            return None
        monthly = surveys.annotate(month=TruncMonth("answered_on")).order_by("month").values("month")
        monthly = monthly.annotate(mean=Avg("score"), n=Count("id")).values_list("month", "mean", "n")
        return {"distribution": distribution, "monthly": list(monthly)}

    def figure(self, satisfaction: dict) -> dict:
        levels, monthly = list(Survey.Score), satisfaction["monthly"]
        answers = [satisfaction["distribution"].get(level.value, 0) for level in levels]
        colours = [self.COLOURS[level.value] for level in levels]
        answers = count_bars(chart_texts(level.label for level in levels), answers, colours, showlegend=False)
        means = {
            "type": "scatter",
            "x": [display.month(month) for month, _mean, _n in monthly],
            "y": [round(float(mean), 2) for _m, mean, _n in monthly],
            "customdata": [n for _m, _mean, n in monthly],
            "mode": "lines+markers",
            "line": {"color": "#1b7f5a", "width": 2.5},
            "hovertemplate": "%{x}: %{y:.2f}<br>" + _("%{customdata:,} answers") + "<extra></extra>",
        }
        titles = [_("Answers by level"), _("Mean score by month (1–5)")]
        layout = side_by_side(titles, widths=(0.45, 0.55), spacing=0.1)
        layout["xaxis"]["type"] = layout["xaxis2"]["type"] = "category"
        layout["yaxis2"]["range"] = [1, 5]
        means |= {"showlegend": False, "xaxis": "x2", "yaxis": "y2"}
        return chart([answers, means], height=320, margin={"t": 40}, **layout)

    def reading(self, satisfaction: dict) -> list[str]:
        distribution, monthly = satisfaction["distribution"], satisfaction["monthly"]
        total = sum(distribution.values())
        satisfied = number(pct_of(distribution.get(4, 0) + distribution.get(5, 0), total))
        unhappy = number(pct_of(distribution.get(1, 0) + distribution.get(2, 0), total))
        text = _(
            "Of %(total)s answers, %(satisfied)s%% were satisfied or highly satisfied and %(unhappy)s%% dissatisfied."
        )
        reading = [text % {"total": f"{total:,}", "satisfied": satisfied, "unhappy": unhappy}]
        if len(monthly) > 1:
            (first_month, first, _n), (last_month, last, _m) = monthly[0], monthly[-1]
            text = _("The mean score went from %(first)s in %(first_month)s to %(last)s in %(last_month)s.")
            first_month, last_month = display.month(first_month), display.month(last_month)
            figures = {"first": f"{first:.2f}", "last": f"{last:.2f}"}
            reading.append(text % (figures | {"first_month": first_month, "last_month": last_month}))
        return reading

    def csv(self, satisfaction: dict) -> tuple[list, list]:
        distribution = satisfaction["distribution"]
        rows = [[level.value, str(level.label), distribution.get(level.value, 0)] for level in Survey.Score]
        rows += [
            [month.strftime("%Y-%m"), _("mean %(score)s") % {"score": f"{mean:.2f}"}, n]
            for month, mean, n in satisfaction["monthly"]
        ]
        return [_("Level or month"), _("Name"), _("Answers")], rows

    def extra(self, satisfaction: dict) -> dict:
        return {"distribution": {str(k): v for k, v in satisfaction["distribution"].items()}}


# ------------------------------------------------------------------------- surveys after complaints


class SurveyResponseCard(Card):
    name = "survey_response"
    title = gettext_lazy("Surveys after complaints, by category")
    help = gettext_lazy(
        "Satisfaction surveys e-mailed when a complaint closed in the run's 12 months: how many customers "
        "answered, and how satisfied they were (1–5), by complaint category. Read live."
    )
    empty = gettext_lazy(
        "No satisfaction survey was sent after a complaint in the 12 months. Closing a complaint with "
        "“E-mail the customer a satisfaction survey” ticked sends one."
    )
    live = True  # customers answer between runs

    def rows(self, run: AnalysisRun, company: dict, scope: Scope) -> list[tuple] | None:
        """(category, sent, answered, mean score) for the invitations sent in the run's window: one query."""
        zone = timezone.get_current_timezone()
        start = datetime.datetime.combine(run.window_start, datetime.time.min, tzinfo=zone)
        end = datetime.datetime.combine(run.window_end + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
        sent = SurveyInvitation.objects.filter(sent_at__gte=start, sent_at__lt=end)
        rows = (
            sent.order_by("complaint__category")
            .values_list("complaint__category")
            .annotate(
                sent=Count("id"),
                answered=Count("id", filter=Q(answered_at__isnull=False)),
                mean=Avg("survey__score"),
            )
        )
        order = {value: index for index, value in enumerate(Category.values)}
        return sorted(rows, key=lambda row: order.get(row[0], len(order))) or None

    @staticmethod
    def _rate(sent: int, answered: int):
        return pct_of(answered, sent)

    def figure(self, rows: list[tuple]) -> dict:
        labels = chart_texts(display.label(category, Category) for category, *_r in rows)
        rates = [round(float(self._rate(sent, answered)), 1) for _c, sent, answered, _m in rows]
        bars = {
            "type": "bar",
            "x": labels,
            "y": rates,
            "marker": {"color": "#2f6db5"},
            "customdata": [[answered, sent] for _c, sent, answered, _m in rows],
            "texttemplate": "%{y:.1f}%",
            "hovertemplate": "%{x}: %{y:.1f}%<br>"
            + _("%{customdata[0]:,} of %{customdata[1]:,} answered")
            + "<extra></extra>",
        }
        axis = {"title": {"text": _("Response rate (%)")}, "range": [0, 100], "ticksuffix": "%"}
        return chart([bars], height=300, yaxis=axis, xaxis={"type": "category"})

    def reading(self, rows: list[tuple]) -> list[str]:
        sent = sum(row[1] for row in rows)
        answered = sum(row[2] for row in rows)
        text = _("%(answered)s of %(sent)s customers answered the survey after their complaint (%(rate)s%%).")
        reading = [
            text % {"answered": f"{answered:,}", "sent": f"{sent:,}", "rate": number(self._rate(sent, answered))}
        ]
        scored = [row for row in rows if row[3] is not None]
        if scored:
            worst = min(scored, key=lambda row: row[3])
            text = _("The least satisfied after a complaint about %(category)s: %(score)s on average (1–5).")
            reading.append(text % {"category": display.label(worst[0], Category), "score": f"{worst[3]:.2f}"})
        return reading

    def csv(self, rows: list[tuple]) -> tuple[list, list]:
        columns = [_("Category"), _("Surveys sent"), _("Answered"), _("Response rate %"), _("Mean score (1–5)")]
        return columns, [
            [
                str(display.label(category, Category)),
                sent,
                answered,
                number(self._rate(sent, answered)),
                "" if mean is None else f"{mean:.2f}",
            ]
            for category, sent, answered, mean in rows
        ]


CARDS = (ServiceCard(), BacklogCard(), SatisfactionCard(), SurveyResponseCard())
