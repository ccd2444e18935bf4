from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm.models import Industry, Region
from crm.selectors import sales_reps

from .models import CostModel, Factor, TierRules, validate_factors
from .reports.cards import Scope
from .reports.compare import run_choice_label


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


class ReportFilterForm(forms.Form):
    """The report filters: a region, an industry and/or an owner."""

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


class CompareForm(forms.Form):
    """Two published runs to compare (`runs`: the published runs, latest first); run A is read as
    the earlier picture, run B as the later one."""

    a = forms.TypedChoiceField(coerce=int, label=_("Run A"))
    b = forms.TypedChoiceField(coerce=int, label=_("Run B"))

    def __init__(self, *args, runs: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.runs = {run.pk: run for run in runs}
        choices = [(run.pk, run_choice_label(run)) for run in runs]
        for name in ("a", "b"):
            self.fields[name].choices = choices
        if len(runs) >= 2:
            self.initial = {"a": runs[1].pk, "b": runs[0].pk}  # the one before the latest, and the latest

    def pair(self) -> tuple:
        """(run A, run B) as picked (call after is_valid()), or the default pair when nothing was asked."""
        if self.is_bound:
            return self.runs[self.cleaned_data["a"]], self.runs[self.cleaned_data["b"]]
        return self.runs[self.initial["a"]], self.runs[self.initial["b"]]
