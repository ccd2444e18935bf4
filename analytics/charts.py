"""Moved to analytics.reports (a module per report page). Kept for callers of the old module:
`CHARTS` here are the cards stored per run (analytics.reports.CHARTS less the live ones)."""

from .reports import CHARTS as ALL_CARDS

CHARTS = {name: card for name, card in ALL_CARDS.items() if not card.live}
