import re

from django import forms
from django.utils.translation import gettext_lazy as _

from core.widgets import DateInput

from .models import Contact, Customer, Interaction
from .selectors import CONTACT_LABELS


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


# A phone number as people write one: an optional +, digits grouped by spaces, dashes, dots, slashes
# or brackets, then an optional extension ("ext. 8", "x8", "转8", "分机8").
PHONE = re.compile(r"\+?[\d\s().\-/]+?(?:\s*(?:ext\.?|x|转|分机)\s*\d{1,6})?", re.IGNORECASE)
PHONE_DIGITS = (5, 20)


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "title", "email", "phone", "decision_maker"]
        labels = CONTACT_LABELS
        error_messages = {
            "name": {"required": _("Enter the contact's name.")},
            "email": {"invalid": _("Enter an e-mail address such as name@company.com.")},
        }
        help_texts = {
            "phone": _("Digits, spaces and + - ( ), such as +86 21 5555 0101; an extension as ext. 8."),
            "decision_maker": _("Decision makers are listed first, and e-mails to the customer go to them first."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            # The values the person saw go back with the form, so `changed_data` is what they changed:
            # a field someone else saved meanwhile is not overwritten with the old value.
            for field in self.fields.values():
                field.show_hidden_initial = True

    def clean_phone(self):
        phone = " ".join(self.cleaned_data["phone"].split())
        if not phone:
            return phone
        digits = sum(character.isdigit() for character in phone)
        if not PHONE.fullmatch(phone) or not PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]:
            raise forms.ValidationError(
                _("Enter a phone number of 5 to 20 digits with spaces and + - ( ), such as +86 21 5555 0101."),
                code="invalid",
            )
        return phone

    def changed_values(self) -> dict:
        """Field -> new value of the fields the person changed, for contact_update (which saves only those)."""
        return {name: self.cleaned_data[name] for name in self.changed_data if name in self.Meta.fields}
