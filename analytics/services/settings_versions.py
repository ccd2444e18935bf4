"""Cost model, scoring model and tier rules: each change is a new version; nothing is edited in place."""
from ..models import CostModel, ScoringModel, TierRules

MODELS = {"cost": CostModel, "scoring": ScoringModel, "tiers": TierRules}
FIELDS = {
    "cost": ("order_handling_cost", "complaint_handling_cost"),
    "scoring": ("factors",),
    "tiers": ("core_pct", "key_pct"),
}


def save_version(*, which: str, data: dict, by):
    """Validates and stores a new version of the named setting; returns it."""
    version = MODELS[which](created_by=by, **{name: data[name] for name in FIELDS[which]})
    version.full_clean()
    version.save()
    return version
