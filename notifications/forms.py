from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from crm.models import Survey

from .kinds import staff_kind_choices


class PreferenceForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language of e-mails to me"),
        choices=[("", _("The site's default")), *settings.LANGUAGES],
        required=False,
    )
    email_kinds = forms.MultipleChoiceField(
        label=_("Also send me an e-mail when"),
        choices=staff_kind_choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Every notification shows here in the app; these also go to your e-mail address."),
    )


class SurveyForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("How satisfied are you with how we handled your complaint?"),
        choices=Survey.Score.choices,
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Anything you want to tell us (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
