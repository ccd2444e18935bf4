"""Tier changes on a customer's timeline (crm.timeline): each published run that put the customer in
another tier than the published run before it, "Tier B → A (run as of ...)". The tier is not
money; the run's revenue and profit figures are, and the entry carries none of them. Registered by
AnalyticsConfig.ready(); one query per page; shown to the roles that read analysis results (the previous tier read with LAG in the database)."""

from django.db.models import F, Q, Window
from django.db.models.functions import Lag
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.display import day
from crm.timeline import Entry, TimelineSource, register_timeline_source

from .models import AnalysisRun, CustomerResult


class TierChangeSource(TimelineSource):
    kind = "tier"
    label = gettext_lazy("Tier changes")
    order = 60
    # Tiers are read from the analysis results, which only the roles that see results may read
    # (service reps see no tier anywhere else).
    permission = "analytics.view_customerresult"

    def entries(self, *, customer, before, limit, user):
        # The cursor only cuts off newer runs, so every remaining result still finds its previous one.
        results = (
            CustomerResult.objects.filter(
                customer=customer, run__status=AnalysisRun.Status.SUCCEEDED, run__published_at__isnull=False
            )
            .filter(self.before_q(before, at="run__published_at"))
            .annotate(
                published_at=F("run__published_at"),
                as_of=F("run__as_of"),
                previous_tier=Window(Lag("tier"), order_by=[F("run__published_at").asc(), F("id").asc()]),
            )
            .filter(previous_tier__isnull=False)
            .filter(~Q(tier=F("previous_tier")))
            .values("id", "tier", "previous_tier", "published_at", "as_of")
            .order_by("-published_at", "-id")[:limit]
        )
        return [
            Entry(
                at=result["published_at"],
                kind=self.kind,
                id=result["id"],
                title=_("Tier %(old)s → %(new)s (run as of %(as_of)s)")
                % {"old": result["previous_tier"], "new": result["tier"], "as_of": day(result["as_of"])},
            )
            for result in results
        ]


def register() -> None:
    """Called by AnalyticsConfig.ready()."""
    register_timeline_source(TierChangeSource())
