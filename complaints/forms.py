from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.forms import DateInput
from crm.models import Customer

from .models import Complaint, ComplaintNote, Problem, SlaTarget, State


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class CustomerPickField(forms.CharField):
    """A customer named by its code or by its name (Chinese included), as typed or picked from suggestions."""

    default_error_messages = {
        "unknown": _("No customer has the code or name “%(value)s”."),
        "ambiguous": _("%(count)s customers are named “%(value)s”; pick one by its code."),
    }

    def clean(self, value):
        value = super().clean(value).strip()
        if not value:
            return None
        code = value.split(" ", 1)[0]
        by_code = Customer.objects.filter(code=code).first()
        if by_code is not None:
            return by_code
        named = list(Customer.objects.filter(name=value)[:2])
        if len(named) == 1:
            return named[0]
        if named:
            count = Customer.objects.filter(name=value).count()
            raise forms.ValidationError(self.error_messages["ambiguous"], params={"value": value, "count": count})
        raise forms.ValidationError(self.error_messages["unknown"], params={"value": value})


class ComplaintCreateForm(forms.ModelForm):
    customer = CustomerPickField(
        label=_("Customer"),
        help_text=_("Type a code or part of a name and pick from the list."),
        widget=forms.TextInput(attrs={"list": "customer-suggestions", "autocomplete": "off", "autofocus": True}),
    )

    class Meta:
        model = Complaint
        fields = ["customer", "received_at", "channel", "category", "severity", "significant", "description", "assignee"]
        widgets = {"received_at": DateTimeInput(), "description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, assignees=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received_at"].required = False
        self.fields["received_at"].help_text = _("Leave empty for now.")
        if assignees is not None:
            self.fields["assignee"].queryset = assignees

    def _post_clean(self):
        # The service validates the whole record (SLA due times included); skip the half-built instance check.
        pass

    def complaint_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields if name != "customer"}
        if not data["received_at"]:
            data.pop("received_at")
        return data


class ComplaintEditForm(forms.ModelForm):
    class Meta:
        model = Complaint
        fields = ["channel", "category", "severity", "significant", "description", "assignee", "problem"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, assignees=None, **kwargs):
        super().__init__(*args, **kwargs)
        if assignees is not None:
            self.fields["assignee"].queryset = assignees

    def _post_clean(self):
        pass


class NoteForm(forms.ModelForm):
    class Meta:
        model = ComplaintNote
        fields = ["visibility", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 3})}


class TransitionForm(forms.Form):
    """One form for every move; the page shows each move only the fields it needs (FIELDS_FOR)."""

    to = forms.ChoiceField(choices=State.choices, widget=forms.HiddenInput)
    expected_state = forms.ChoiceField(choices=State.choices, widget=forms.HiddenInput)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    action_plan = forms.CharField(label=_("Action plan told to the customer"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    customer_notified_at = forms.DateTimeField(label=_("Customer notified at"), required=False, widget=DateTimeInput())
    root_cause = forms.CharField(label=_("Root cause"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    problem = forms.ModelChoiceField(label=_("Problem (root cause record)"), queryset=Problem.objects.all(), required=False)
    internal_review_notes = forms.CharField(label=_("Internal review notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    duplicate_of = forms.CharField(label=_("Number of the original complaint"), required=False, max_length=40)

    FIELDS_FOR = {
        State.ACTION_COMMUNICATED: ("action_plan", "customer_notified_at"),
        State.RESOLVED: ("root_cause", "problem", "internal_review_notes"),
        State.DUPLICATE: ("duplicate_of",),
    }

    def clean_duplicate_of(self):
        number = self.cleaned_data["duplicate_of"].strip()
        if not number:
            return None
        original = Complaint.objects.filter(Q(number=number) | Q(number=number.upper())).first()
        if original is None:
            raise forms.ValidationError(_("No complaint has the number %(number)s."), params={"number": number})
        return original

    def transition_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("to")
        return data


class ProblemForm(forms.ModelForm):
    class Meta:
        model = Problem
        fields = ["title", "category", "description", "corrective_action", "preventive_action"]
        widgets = {name: forms.Textarea(attrs={"rows": 3}) for name in ("description", "corrective_action", "preventive_action")}


class SlaTargetForm(forms.ModelForm):
    class Meta:
        model = SlaTarget
        fields = ["first_response_hours", "resolution_hours"]

    def clean(self):
        cleaned = super().clean()
        first, resolution = cleaned.get("first_response_hours"), cleaned.get("resolution_hours")
        if first and resolution and resolution < first:
            self.add_error("resolution_hours", _("The resolution target cannot be shorter than the first response target."))
        return cleaned


SlaTargetFormSet = forms.modelformset_factory(SlaTarget, form=SlaTargetForm, extra=0)

__all__ = ["DateInput"]
