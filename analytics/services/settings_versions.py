"""Cost model, scoring model and tier rules: each change is a new version; nothing is edited in place."""

from core.records import changed_fields

from ..models import CostModel, ScoringModel, TierRules

MODELS = {"cost": CostModel, "scoring": ScoringModel, "tiers": TierRules}
FIELDS = {
    "cost": ("order_handling_cost", "complaint_handling_cost"),
    "scoring": ("factors",),
    "tiers": ("core_pct", "key_pct"),
}


def save_version(*, which: str, data: dict, by) -> tuple:
    """Validates and stores a new version of the named setting; returns (version, created).

    Values equal to the newest version's store nothing (a form saved untouched makes no version):
    the newest version comes back with created False.
    """
    model = MODELS[which]
    values = {name: data[name] for name in FIELDS[which]}
    latest = model.objects.order_by("-created_at", "-id").first()
    if latest is not None and _same_values(latest, values):
        return latest, False
    version = model(created_by=by, **values)
    version.full_clean()
    version.save()
    return version, True


def _same_values(latest, values: dict) -> bool:
    if "factors" in values:  # the same weights in another order are the same scoring model
        return {str(f): int(w) for f, w in latest.factors} == {str(f): int(w) for f, w in values["factors"]}
    return not changed_fields(latest, values)
