"""The executive report pages: which charts each section shows, and the filters they take."""

from dataclasses import dataclass

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.models import Industry, Region
from crm.selectors import sales_reps

from .charts import Scope

# Executive reports: executives and admins (given to the Executive group by migration 0007).
REPORTS_PERMISSION = "analytics.view_reports"
# The sales portfolio: whoever may see analysis results (sales, executives, admins; not service).
PORTFOLIO_PERMISSION = "analytics.view_customerresult"


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    charts: tuple[str, ...]
    filtered: bool


SECTIONS = {
    section.slug: section
    for section in (
        Section(
            "value",
            pgettext_lazy("report section", "Value"),
            ("profit_volume", "whale", "pareto", "concentration"),
            True,
        ),
        Section("tiers", _("Tiers"), ("tiers", "quadrants", "migration", "protected"), True),
        Section("trends", _("Trends and churn"), ("top20_trend", "churn", "churn_reasons", "dormant", "arpu"), False),
        Section("service", _("Service and satisfaction"), ("service", "satisfaction"), False),
    )
}


class ReportFilterForm(forms.Form):
    region = forms.ModelChoiceField(
        queryset=Region.objects.order_by("name"), required=False, label=_("Region"), empty_label=_("All regions")
    )
    industry = forms.ModelChoiceField(
        queryset=Industry.objects.order_by("name"), required=False, label=_("Industry"), empty_label=_("All industries")
    )
    owner = forms.ModelChoiceField(queryset=sales_reps(), required=False, label=_("Owner"), empty_label=_("All owners"))

    def scope(self) -> Scope:
        """The filters as a Scope (call after is_valid()); the whole company when nothing was asked."""
        if not self.is_bound:
            return Scope()
        data = self.cleaned_data
        return Scope(**{name: data[name].pk if data.get(name) else None for name in ("region", "industry", "owner")})


class PortfolioOwnerForm(forms.Form):
    """Executives and admins pick whose portfolio to read; sales reps always read their own."""

    owner = forms.ModelChoiceField(
        queryset=sales_reps(), required=False, label=_("Sales rep"), empty_label=_("Pick a sales rep")
    )
