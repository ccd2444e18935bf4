"""The report pages, one module each: value, tiers, trends, service (the executive reports) and
portfolio (a sales rep's). In each module every card is a query and, apart, its figure, reading and
CSV over the rows that query read (cards.Card). analytics.selectors stores the built cards per run."""

from django.utils.translation import gettext_lazy, pgettext_lazy

from . import service, tiers, trends, value
from .cards import Card, Scope, Section

# Executive reports: executives and admins (given to the Executive group by migration 0007).
REPORTS_PERMISSION = "analytics.view_reports"
# The sales portfolio: whoever may see analysis results (sales, executives, admins; not service).
PORTFOLIO_PERMISSION = "analytics.view_customerresult"

SECTIONS = {
    section.slug: section
    for section in (
        Section("value", pgettext_lazy("report section", "Value"), value.CARDS, filtered=True),
        Section("tiers", gettext_lazy("Tiers"), tiers.CARDS, filtered=True),
        Section("trends", gettext_lazy("Trends and churn"), trends.CARDS, filtered=False),
        Section("service", gettext_lazy("Service and satisfaction"), service.CARDS, filtered=False),
    )
}
CHARTS: dict[str, Card] = {card.name: card for section in SECTIONS.values() for card in section.cards}

__all__ = ["CHARTS", "PORTFOLIO_PERMISSION", "REPORTS_PERMISSION", "SECTIONS", "Card", "Scope", "Section"]
