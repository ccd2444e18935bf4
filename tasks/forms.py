import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from core.widgets import DateInput

from .models import NOTE_MAX, State
from .rules import assignable_users
from .selectors import LATER, OVERDUE, TODAY, WEEK
from .services import COMPLETE, REASSIGN, SNOOZE


class AssigneeField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user.get_full_name() or user.get_username()


class TaskForm(forms.Form):
    assignee = AssigneeField(label=_("Assignee"), queryset=assignable_users())
    due_on = forms.DateField(label=_("Due"), widget=DateInput())
    note = forms.CharField(
        label=_("Note"), max_length=NOTE_MAX, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


STATE_CHOICES = [(State.OPEN, _("To do")), (State.SNOOZED, _("Snoozed")), (State.DONE, _("Done"))]
DUE_CHOICES = [
    ("", _("Any day")),
    (OVERDUE, _("Overdue")),
    (TODAY, _("Due today")),
    (WEEK, _("Due this week")),
    (LATER, _("Later")),
]


class TaskFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), choices=STATE_CHOICES, required=False)
    due = forms.ChoiceField(label=_("Due"), choices=DUE_CHOICES, required=False)
    assignee = AssigneeField(
        label=_("Assignee"), queryset=assignable_users(), required=False, empty_label=_("Everyone")
    )


TOMORROW, NEXT_WEEK = "tomorrow", "next_week"


def snooze_presets(today: datetime.date) -> dict[str, datetime.date]:
    """Tomorrow, and next Monday."""
    return {
        TOMORROW: today + datetime.timedelta(days=1),
        NEXT_WEEK: today + datetime.timedelta(days=7 - today.weekday()),
    }


class BulkForm(forms.Form):
    """What to do with the follow-ups ticked on My tasks (or the one button of a row)."""

    action = forms.ChoiceField(
        choices=[(COMPLETE, _("Complete")), (SNOOZE, _("Snooze")), (REASSIGN, _("Reassign"))],
        error_messages={"required": _("Choose what to do with the chosen follow-ups.")},
    )
    task = forms.TypedMultipleChoiceField(coerce=int, required=False)  # ids; the service checks them
    preset = forms.ChoiceField(
        label=_("Snooze until"),
        choices=[("", _("A date")), (TOMORROW, _("Tomorrow")), (NEXT_WEEK, _("Next week"))],
        required=False,
    )
    until = forms.DateField(label=_("Snooze until"), required=False, widget=DateInput())
    assignee = AssigneeField(label=_("Give to"), queryset=assignable_users(), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any integer is accepted here; which ids exist and are the user's is the service's to say.
        self.fields["task"].valid_value = lambda value: True

    def snooze_until(self, today: datetime.date) -> datetime.date | None:
        preset = self.cleaned_data.get("preset")
        if preset:
            return snooze_presets(today)[preset]
        return self.cleaned_data.get("until")
