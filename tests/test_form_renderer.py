"""config.forms.FastSelectRenderer writes every <select> exactly as Django's templates do.

Each select of the project's forms and filters (and a form with the odd cases: option groups,
several values, escaping, numbers as labels, boolean attributes), rendered by the project's
renderer and by Django's own, in English and Chinese, bound and unbound: the same HTML, byte for byte.
"""

import pytest
from django import forms
from django.conf import settings
from django.contrib.auth.models import Group
from django.forms.renderers import DjangoTemplates
from django.forms.widgets import Select
from django.utils import translation
from django.utils.safestring import mark_safe

from analytics.customer_figures import CustomerValueFilter
from complaints.filters import ComplaintFilter
from complaints.forms import ComplaintCreateForm, ProblemForm
from complaints.models import Complaint
from config.forms import FastSelectRenderer, select_html
from crm.filters import CustomerFilter
from crm.forms import CustomerForm, InteractionForm
from crm.models import Customer
from crm.roles import Role

from .factories import IndustryFactory, RegionFactory, UserFactory


class OddCases(forms.Form):
    grouped = forms.ChoiceField(
        choices=[("", "—"), ("Fruit", [("apple", "Apple & <pear>"), ("kiwi", "Kiwi")]), ("none", "None")],
        widget=forms.Select(attrs={"class": "wide", "data-x": '"q"', "required": True, "disabled": False}),
    )
    several = forms.MultipleChoiceField(choices=[("a", "A"), ("b", "B"), ("c", "C")])
    maybe = forms.NullBooleanField()
    numbers = forms.TypedChoiceField(choices=[(1000, 1000), (2, 2.5), (3, mark_safe("<b>3</b>"))], coerce=int)


def selects(form: forms.Form):
    for field in form:
        if field.field.widget.template_name == Select.template_name:
            yield field


def both(field) -> tuple[str, str]:
    widget = field.field.widget
    attrs = {"id": field.auto_id}
    fast = widget.render(field.html_name, field.value(), attrs=attrs, renderer=FastSelectRenderer())
    stock = widget.render(field.html_name, field.value(), attrs=attrs, renderer=DjangoTemplates())
    return fast, stock


def test_the_project_renders_forms_with_it():
    assert settings.FORM_RENDERER == "config.forms.FastSelectRenderer"


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_select_is_written_as_djangos_templates_write_it(language):
    RegionFactory(name="东北 <Northeast>")
    IndustryFactory(name="零售 & Retail")
    UserFactory(username="rep<1>").groups.add(Group.objects.get(name=Role.SALES.value))
    customers = Customer.objects.all()
    bound = {"status": "active", "tier": "A", "q": '<x>"', "grouped": "kiwi", "several": ["a", "c"], "maybe": "true"}
    with translation.override(language):
        made = [
            OddCases(),
            OddCases(data=bound),
            CustomerFilter(queryset=customers).form,
            CustomerValueFilter(data=bound, queryset=customers).form,
            ComplaintFilter(data={"state": "new"}, queryset=Complaint.objects.all()).form,
            CustomerForm(),
            InteractionForm(),
            ComplaintCreateForm(),
            ProblemForm(),
        ]
        compared = 0
        for form in made:
            for field in selects(form):
                fast, stock = both(field)
                assert fast == stock, (type(form).__name__, field.name)
                compared += 1
    assert compared >= 20


def test_a_select_with_another_option_template_goes_through_the_templates():
    class OwnOption(forms.Select):
        option_template_name = "django/forms/widgets/radio_option.html"

    widget = OwnOption(choices=[("a", "A")])
    fast = widget.render("x", "a", renderer=FastSelectRenderer())
    assert fast == widget.render("x", "a", renderer=DjangoTemplates())
    assert "<label><input" in fast and "<option" not in fast  # the option's own template


def test_select_html_escapes_what_it_writes():
    widget = forms.Select(choices=[('"><script>', "<i>")]).get_context("n<", None, {"id": "i"})["widget"]
    html = select_html(widget)
    assert "<script>" not in html and "<i>" not in html
    assert html.startswith('<select name="n&lt;" id="i">')
