"""The published run's figures on crm's customer pages: the list's columns, filters and sorts, the
export's columns and the customer page's value block. crm imports no analytics: AnalyticsConfig.ready()
registers these into crm.extensions (`register`)."""

import datetime
import re

import django_filters
import django_tables2 as tables
from django.db.models import Exists, F, FilteredRelation, OuterRef, Q, QuerySet
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.display import label, money, number
from crm import extensions
from crm.filters import CustomerFilter
from crm.models import Customer, Order
from crm.tables import CustomerTable

from .models import Action, AnalysisRun, CustomerResult, Protection, Quadrant, Tier
from .services.runs import published_run

# The run's figures each listed customer carries (CustomerResult's fields, annotated by the same names).
PUBLISHED_FIGURES = ("revenue", "profit", "score", "rank", "tier", "quadrant", "action", "protection")
FIGURE_FILTERS = ("tier", "quadrant", "action", "protection", "moved")
MOVE = re.compile(r"^(new|[A-Z])>([A-Z])$")  # a tier migration: "A>B" (tier before > tier now), "new>C"
ANY_PROTECTION = "any"
CHURN_PERIOD = re.compile(r"^(\d{4})-(?:(\d{2})|Q([1-4]))$")  # a month ("2026-03") or a quarter ("2026-Q1")


def churn_period(value: str) -> tuple[datetime.date, datetime.date] | None:
    """The first and last day of a churn chart's period ("2026-03", "2026-Q1"), or None."""
    found = CHURN_PERIOD.match(value or "")
    if not found:
        return None
    year, month, quarter = int(found[1]), found[2] and int(found[2]), found[3] and int(found[3])
    first_month, months = (month, 1) if month else (3 * quarter - 2, 3)
    if not 1 <= first_month <= 12:
        return None
    first = datetime.date(year, first_month, 1)
    after = datetime.date(year + (first_month + months - 1) // 12, (first_month + months - 1) % 12 + 1, 1)
    return first, after - datetime.timedelta(days=1)


class CustomerValueFilter(CustomerFilter):
    """With a published run: filter on its tier, quadrant, action and protection too, and on when
    customers churned: what the report charts' drill-downs ask for (static/js/reports.js)."""

    tier = django_filters.ChoiceFilter(choices=Tier.choices, label=_("Tier"), empty_label=_("All tiers"))
    quadrant = django_filters.ChoiceFilter(
        choices=Quadrant.choices, label=_("Quadrant"), empty_label=_("All quadrants")
    )
    action = django_filters.ChoiceFilter(choices=Action.choices, label=_("Action"), empty_label=_("All actions"))
    protection = django_filters.ChoiceFilter(
        choices=[(ANY_PROTECTION, _("Any protection")), *Protection.choices],
        method="protected_by",
        label=_("Protection"),
        empty_label=_("All customers"),
    )
    churned = django_filters.CharFilter(method="churned_in", label=_("Churned in (month or quarter)"))
    moved = django_filters.CharFilter(method="moved_between", label=_("Tier migration (before>now)"))
    churn_reason = django_filters.ChoiceFilter(
        choices=Customer.ChurnReason.choices, method="left_for", label=_("Churn reason"), empty_label=_("All reasons")
    )
    left = django_filters.CharFilter(method="left_between", label=_("Left between (first..last day)"))

    class Meta(CustomerFilter.Meta):
        fields = CustomerFilter.Meta.fields + list(FIGURE_FILTERS) + ["churned", "churn_reason", "left"]

    def protected_by(self, queryset, name, value):
        """Customers (or the run's rows) a protection reason covers: `value`, or any of them. The
        reasons are stored joined by ";" (services/core.py)."""
        if value == ANY_PROTECTION:
            return queryset.filter(protection__gt="")  # not exclude(""): a customer newer than the run has NULL
        return queryset.filter(
            Q(protection=value) | Q(protection__startswith=f"{value};") | Q(protection__contains=f";{value}")
        )

    def churned_in(self, queryset, name, value):
        """Customers who churned in the month or quarter ("2026-03", "2026-Q1") after ordering, as the
        churn chart counts them (services/core.py arpu_and_churn: a counted order on or before the
        churn day). Anything else matches no one."""
        period = churn_period(value)
        if period is None:
            return queryset.none()
        ordered = Order.objects.filter(
            customer=OuterRef("pk"), status__in=Order.COUNTED_STATUSES, ordered_on__lte=OuterRef("churned_on")
        )
        return queryset.filter(churned_on__range=period).filter(Exists(ordered))

    def left_for(self, queryset, name, value):
        """Customers who left for the reason; "other" takes in those left without one, as the
        reasons chart counts them (services/core.py: reason or "other")."""
        if value == Customer.ChurnReason.OTHER:
            return queryset.filter(Q(churn_reason=value) | Q(churn_reason="", churned_on__isnull=False))
        return queryset.filter(churn_reason=value)

    def left_between(self, queryset, name, value):
        """Customers whose churn day lies in "2025-07-01..2026-06-30" (both days included), as the
        reasons chart counts the run's window; anything else matches no one."""
        try:
            first, last = (datetime.date.fromisoformat(day) for day in (value or "").split(".."))
        except ValueError:
            return queryset.none()
        return queryset.filter(churned_on__range=(first, last))

    def moved_between(self, queryset, name, value):
        """Customers (or the published run's rows) whose tier went from one to another since the run
        before it, as the migration chart counts them (services/readers.previous_tiers: a customer
        the earlier run had only as a stand-in for a newer customer counts as new). "A>B", "new>C"."""
        found, run = MOVE.match(value or ""), published_run()
        previous = run and previous_published_run(run)
        if not found or previous is None:
            return queryset.none()
        before, now = found[1], found[2]
        customer = "customer_id" if queryset.model is CustomerResult else "pk"
        earlier = CustomerResult.objects.filter(
            run_id=previous.pk, customer_id=OuterRef(customer), customer__created_at__lte=previous.started_at
        )
        queryset = queryset.filter(tier=now)
        if before == "new":
            return queryset.filter(~Exists(earlier))
        return queryset.filter(Exists(earlier.filter(tier=before)))


class TierColumn(tables.Column):
    def render(self, value):
        return format_html('<span class="tier tier-{}">{}</span>', value, value)


class CustomerValueTable(CustomerTable):
    """The customer list with the published run's figures (only for roles that see money)."""

    revenue = tables.Column(verbose_name=_("Revenue (12 m)"), attrs={"td": {"class": "num"}, "th": {"class": "num"}})
    profit = tables.Column(verbose_name=_("Profit (12 m)"), attrs={"td": {"class": "num"}, "th": {"class": "num"}})
    score = tables.Column(verbose_name=_("Score"), attrs={"td": {"class": "num"}})
    rank = tables.Column(verbose_name=_("Rank"), attrs={"td": {"class": "num"}})
    tier = TierColumn(verbose_name=_("Tier"))
    quadrant = tables.Column(verbose_name=_("Quadrant"))
    action = tables.Column(verbose_name=_("Action"))
    protection = tables.Column(verbose_name=_("Protection"), orderable=False)

    class Meta(CustomerTable.Meta):
        fields = (
            "code",
            "name",
            "region",
            "owner",
            "status",
            "revenue",
            "profit",
            "score",
            "rank",
            "tier",
            "quadrant",
            "action",
            "protection",
        )
        sequence = fields
        exclude = ("kind", "industry", "since", "growth_potential", "strategic")

    def render_revenue(self, value):
        return money(value)

    def render_profit(self, value):
        return format_html('<span class="{}">{}</span>', "neg" if value < 0 else "", money(value))

    def render_score(self, value):
        return number(value, 1)

    def render_quadrant(self, value):
        return label(value, Quadrant)

    def render_action(self, value):
        return label(value, Action)

    def render_protection(self, value):
        return ", ".join(label(reason, Protection) for reason in value.split(";") if reason) or "—"


class PublishedRunFigures(extensions.CustomerFigures):
    """The published run's figures of every customer (each has a row in it: runs.run_add_prospects)."""

    filterset_class = CustomerValueFilter
    table_class = CustomerValueTable
    filter_names = FIGURE_FILTERS
    sortable = frozenset(PUBLISHED_FIGURES) - {"protection"}
    # Codes, as export_analytics writes them (DESIGN section 7).
    export_headers = ("revenue", "profit", "score", "rank", "tier", "quadrant", "action", "protected")

    def __init__(self, run_id: int):
        self.run_id = run_id

    @classmethod
    def shown_to(cls, user) -> "PublishedRunFigures | None":
        run = published_run()
        return cls(run.pk) if run is not None else None

    def annotate(self, customers: QuerySet, *, sorted_by_figure: bool) -> QuerySet:
        figures = customers.annotate(published=FilteredRelation("results", condition=Q(results__run_id=self.run_id)))
        if sorted_by_figure:
            # Every customer has a row in the published run, so an inner join loses no one, and
            # sorting on a figure walks the result index instead of sorting 100,000 joined rows.
            # Otherwise the outer join stays: PostgreSQL drops it from the page count. (The filter
            # sits between the annotations so that both use one join.)
            figures = figures.filter(published__run_id=self.run_id)
        return figures.annotate(**{name: F(f"published__{name}") for name in PUBLISHED_FIGURES})

    def count_queryset(self, filterset) -> QuerySet:
        """The run's rows for the figure filters: one per customer, counted without the customers."""
        results = CustomerResult.objects.filter(run_id=self.run_id)
        data = filterset.form.cleaned_data
        for name in self.filter_names:
            if data.get(name):
                results = filterset.filters[name].filter(results, data[name])
        return results

    @classmethod
    def export_values(cls, customer) -> list:
        if customer.tier is None:  # the customer arrived after the run
            return [""] * len(cls.export_headers)
        # Numbers stay numbers (a negative profit is not a formula) and become number cells in XLSX.
        return [
            customer.revenue,
            customer.profit,
            "" if customer.score is None else customer.score,
            customer.rank or "",
            customer.tier,
            customer.quadrant,
            customer.action,
            customer.protection,
        ]


def previous_published_run(run: AnalysisRun) -> AnalysisRun | None:
    """The run published before `run`: the one its tier migration compared with (runs.run_compute
    reads the published run's tiers before publishing its own)."""
    earlier = AnalysisRun.objects.filter(status=AnalysisRun.Status.SUCCEEDED, published_at__lt=run.published_at)
    return earlier.exclude(pk=run.pk).order_by("-published_at", "-id").defer("company", "timings").first()


def customer_value(customer: Customer, *, runs: int = 12) -> dict:
    """The customer's figures in the published run, and its tier in the last `runs` published runs."""
    history = list(
        CustomerResult.objects.filter(customer=customer, run__status=AnalysisRun.Status.SUCCEEDED)
        .select_related("run")
        .defer("run__company", "run__timings")  # the page reads run.as_of; these are ~15 KB of JSON per run
        .order_by("-run__published_at", "-run_id")[:runs]
    )
    return {"customer_value": history[0] if history else None, "tier_history": history[::-1]}


def register() -> None:
    """Called by AnalyticsConfig.ready()."""
    extensions.register_customer_figures(PublishedRunFigures)
    extensions.register_customer_panel(extensions.CustomerPanel(name="value", context=customer_value, money=True))
