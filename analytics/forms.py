from django import forms
from django.core.exceptions import ValidationError

from .models import CostModel, Factor, TierRules, validate_factors


class CostModelForm(forms.ModelForm):
    class Meta:
        model = CostModel
        fields = ["order_handling_cost", "complaint_handling_cost"]


class TierRulesForm(forms.ModelForm):
    class Meta:
        model = TierRules
        fields = ["core_pct", "key_pct"]


class ScoringModelForm(forms.Form):
    """A weight box per factor of the catalogue; a blank box leaves the factor out (at most five)."""

    def __init__(self, *args, current: dict[str, int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        for factor in Factor:
            self.fields[factor.value] = forms.IntegerField(
                label=factor.label,
                required=False,
                min_value=1,
                max_value=100,
                initial=(current or {}).get(factor.value),
            )

    def clean(self):
        cleaned = super().clean()
        factors = [[factor, weight] for factor, weight in cleaned.items() if weight]
        try:
            validate_factors(factors)
        except ValidationError as error:
            raise ValidationError(error.message_dict["factors"]) from error
        cleaned["factors"] = factors
        return cleaned
