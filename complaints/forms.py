from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.widgets import DateInput, DateTimeInput
from crm.models import Customer

from .models import Complaint, ComplaintNote, Problem, SlaTarget, State
from .workflow import allowed_transitions, required_details


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
        fields = [
            "customer",
            "received_at",
            "channel",
            "category",
            "severity",
            "significant",
            "description",
            "assignee",
        ]
        widgets = {"received_at": DateTimeInput(), "description": forms.Textarea(attrs={"rows": 4})}

    send_acknowledgment = forms.BooleanField(
        label=_("Send the customer an acknowledgment by e-mail"),
        required=False,
        initial=True,
        help_text=_("To the customer's contact, in the customer's language."),
    )

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
    """The descriptive fields. Each field also posts the value the page showed (show_hidden_initial),
    so `edits()` holds what this person changed, whatever someone else changed meanwhile."""

    class Meta:
        model = Complaint
        fields = ["channel", "category", "severity", "significant", "description", "assignee", "problem"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, assignees=None, may_assign=True, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.show_hidden_initial = True
        if assignees is not None:
            self.fields["assignee"].queryset = assignees
        if not may_assign:
            self.fields["assignee"].disabled = True
            self.fields["assignee"].help_text = _("Only an admin gives a complaint to someone else.")

    def _post_clean(self):
        pass

    def edits(self) -> dict:
        """The fields this person changed (against what the page showed them), with their new values."""
        return {name: self.cleaned_data[name] for name in self.changed_data}


class NoteForm(forms.ModelForm):
    class Meta:
        model = ComplaintNote
        fields = ["visibility", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 3})}


class CustomerLookupForm(forms.Form):
    """The text the customer lookup searches for. Like every search box (django-filter's CharFilter
    is a CharField too), a CharField refuses NUL characters, which PostgreSQL cannot compare."""

    q = forms.CharField(required=False, max_length=200)


def now_at_input_precision():
    """Now, to the second: what core.widgets.DateTimeInput shows (in the user's time zone)."""
    return timezone.now().replace(microsecond=0)


class TransitionForm(forms.Form):
    """The form of one move: `to` (posted, or in `initial`) decides its fields (FIELDS_FOR, then the
    note). With the complaint given, the details the move needs (workflow.required_details) are
    required, with the workflow's own messages. "Customer notified at" starts at now."""

    to = forms.ChoiceField(choices=State.choices, widget=forms.HiddenInput)
    expected_state = forms.ChoiceField(choices=State.choices, widget=forms.HiddenInput)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    action_plan = forms.CharField(
        label=_("Action plan told to the customer"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    customer_notified_at = forms.DateTimeField(label=_("Customer notified at"), required=False, widget=DateTimeInput())
    email_customer = forms.BooleanField(
        label=_("E-mail the action plan to the customer now"),
        required=False,
        help_text=_("Sent to the customer's contact; the customer counts as notified now."),
    )
    send_survey = forms.BooleanField(
        label=_("E-mail the customer a satisfaction survey"),
        required=False,
        initial=True,
        help_text=_("A link to five levels and a comment, in the customer's language; one answer per complaint."),
    )
    root_cause = forms.CharField(label=_("Root cause"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    problem = forms.ModelChoiceField(
        label=_("Problem (root cause record)"), queryset=Problem.objects.all(), required=False
    )
    internal_review_notes = forms.CharField(
        label=_("Internal review notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    duplicate_of = forms.CharField(label=_("Number of the original complaint"), required=False, max_length=40)

    FIELDS_FOR = {
        State.ACTION_COMMUNICATED: ("action_plan", "email_customer", "customer_notified_at"),
        State.RESOLVED: ("root_cause", "problem", "internal_review_notes"),
        State.DUPLICATE: ("duplicate_of",),
        State.CLOSED: ("send_survey",),
    }

    def __init__(self, *args, complaint=None, **kwargs):
        super().__init__(*args, **kwargs)
        to = (self.data.get("to") if self.is_bound else self.initial.get("to")) or ""
        own = [*self.FIELDS_FOR.get(to, ()), "note"]
        for name in [name for name in self.fields if name not in {"to", "expected_state", *own}]:
            del self.fields[name]
        self.order_fields(["to", "expected_state", *own])
        if complaint is not None and to in allowed_transitions(complaint):
            for name, message in required_details(complaint, to).items():
                field = self.fields[name]
                field.required = True
                field.error_messages = {**field.error_messages, "required": message}
        if "email_customer" in self.fields and self.is_bound and self.data.get("email_customer"):
            self.fields["customer_notified_at"].required = False  # sending it is the notification
        if "customer_notified_at" in self.fields and not self.is_bound:
            self.initial.setdefault("customer_notified_at", now_at_input_precision())

    def clean_duplicate_of(self):
        number = (self.cleaned_data.get("duplicate_of") or "").strip()
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
        widgets = {
            name: forms.Textarea(attrs={"rows": 3})
            for name in ("description", "corrective_action", "preventive_action")
        }


class SlaTargetForm(forms.ModelForm):
    class Meta:
        model = SlaTarget
        fields = ["first_response_hours", "resolution_hours"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The page shows the severity in the row and the field in the column header, with no label
        # beside the input: a screen reader is told both.
        severity = self.instance.get_severity_display() if self.instance.pk else ""
        for field in self.fields.values():
            field.widget.attrs["aria-label"] = f"{severity} · {field.label}" if severity else str(field.label)

    def clean(self):
        cleaned = super().clean()
        first, resolution = cleaned.get("first_response_hours"), cleaned.get("resolution_hours")
        if first and resolution and resolution < first:
            self.add_error(
                "resolution_hours", _("The resolution target cannot be shorter than the first response target.")
            )
        return cleaned


SlaTargetFormSet = forms.modelformset_factory(SlaTarget, form=SlaTargetForm, extra=0)

__all__ = ["DateInput"]
