from django import forms
from django.utils.translation import gettext_lazy as _

from core.widgets import DateInput

from .models import Customer, Interaction


class CustomerForm(forms.ModelForm):
    # A picker over 100,000 customers would be useless; the referrer is named by its code.
    referred_by_code = forms.CharField(label=_("Referred by (customer code)"), required=False, max_length=32)

    class Meta:
        model = Customer
        fields = [
            "name",
            "kind",
            "industry",
            "region",
            "status",
            "since",
            "churned_on",
            "churn_reason",
            "credit_terms",
            "credit_limit",
            "strategic",
            "strategic_note",
            "growth_potential",
            "value_orientation",
            "email",
            "phone",
            "address",
            "language",
        ]
        widgets = {"since": DateInput(), "churned_on": DateInput(), "strategic_note": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.referred_by_id:
            self.fields["referred_by_code"].initial = self.instance.referred_by.code

    def clean_referred_by_code(self):
        code = self.cleaned_data["referred_by_code"].strip()
        if not code:
            return None
        referrer = Customer.objects.filter(code=code).first()
        if referrer is None:
            raise forms.ValidationError(_("No customer has the code %(code)s."), params={"code": code})
        if referrer.pk == self.instance.pk:
            raise forms.ValidationError(_("A customer cannot refer itself."))
        return referrer

    def changed_values(self) -> dict:
        """Field -> new value of the fields the user changed, for customer_update (which saves only those)."""
        values = {name: self.cleaned_data[name] for name in self.changed_data if name in self.Meta.fields}
        if "referred_by_code" in self.changed_data:
            values["referred_by"] = self.cleaned_data["referred_by_code"]
        return values


class InteractionForm(forms.ModelForm):
    class Meta:
        model = Interaction
        fields = ["kind", "occurred_on", "summary", "next_follow_up"]
        widgets = {
            "occurred_on": DateInput(),
            "next_follow_up": DateInput(),
            "summary": forms.Textarea(attrs={"rows": 2}),
        }

    def clean(self):
        cleaned = super().clean()
        occurred_on, follow_up = cleaned.get("occurred_on"), cleaned.get("next_follow_up")
        if occurred_on and follow_up and follow_up < occurred_on:
            self.add_error("next_follow_up", _("The follow-up cannot be before the interaction."))
        return cleaned
