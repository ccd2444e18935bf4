"""The published run's figures on crm's customer pages: the list's columns, filters and sorts, the
export's columns and the customer page's value block. crm imports no analytics: AnalyticsConfig.ready()
registers these into crm.extensions (`register`)."""

import django_filters
import django_tables2 as tables
from django.db.models import F, FilteredRelation, Q, QuerySet
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.display import label, money, number
from crm import extensions
from crm.filters import CustomerFilter
from crm.models import Customer
from crm.tables import CustomerTable

from .models import Action, AnalysisRun, CustomerResult, Protection, Quadrant, Tier
from .services.runs import published_run

# The run's figures each listed customer carries (CustomerResult's fields, annotated by the same names).
PUBLISHED_FIGURES = ("revenue", "profit", "score", "rank", "tier", "quadrant", "action", "protection")
FIGURE_FILTERS = ("tier", "quadrant", "action")


class CustomerValueFilter(CustomerFilter):
    """With a published run: filter on its tier, quadrant and action too."""

    tier = django_filters.ChoiceFilter(choices=Tier.choices, label=_("Tier"), empty_label=_("All tiers"))
    quadrant = django_filters.ChoiceFilter(
        choices=Quadrant.choices, label=_("Quadrant"), empty_label=_("All quadrants")
    )
    action = django_filters.ChoiceFilter(choices=Action.choices, label=_("Action"), empty_label=_("All actions"))

    class Meta(CustomerFilter.Meta):
        fields = CustomerFilter.Meta.fields + list(FIGURE_FILTERS)


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
