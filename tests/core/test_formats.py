"""One date, month, money and number format per language, and ISO values in date inputs (issue 14).

Fast tests (no browser): the format modules, the shared widgets in zh-hans, the display filters,
and the guard that every form of every app takes its date and time inputs from core.widgets.
"""

import datetime
import importlib
import inspect
import re
import zoneinfo
from decimal import Decimal

import pytest
from django import forms
from django.template import Context, Template
from django.utils import formats, timezone, translation

from core import display
from core.widgets import DateInput, DateTimeInput

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
FORM_MODULES = [
    "crm.forms",
    "complaints.forms",
    "analytics.forms",
    "analytics.reports",
    "exchange.forms",
    "crm.filters",
    "complaints.filters",
]


def render(code: str, **context) -> str:
    return Template("{% load display %}" + code).render(Context(context))


@pytest.mark.parametrize(
    "language, day, month, moment",
    [
        ("en", "16 Nov 2019", "Nov 2019", "16 Nov 2019 14:30"),
        ("zh-hans", "2019年11月16日", "2019年11月", "2019年11月16日 14:30"),
    ],
)
def test_one_date_month_and_money_format_per_language(language, day, month, moment):
    date = datetime.date(2019, 11, 16)
    with translation.override(language):
        assert render("{{ d }}|{{ d|date }}|{{ d|date:'SHORT_DATE_FORMAT' }}", d=date) == f"{day}|{day}|{day}"
        assert display.day(date) == day
        assert (
            render("{{ d|month }}|{{ m|month }}|{{ d|date:'YEAR_MONTH_FORMAT' }}", d=date, m="2019-11")
            == f"{month}|{month}|{month}"
        )
        at = datetime.datetime(2019, 11, 16, 6, 30, 59, tzinfo=datetime.UTC)  # 14:30 in Shanghai
        assert render("{{ t }}|{{ t|date:'SHORT_DATETIME_FORMAT' }}", t=at) == f"{moment}|{moment}"
        # Money and large numbers are grouped in threes with a comma in both languages.
        amount = Decimal("27130141.25")
        assert (
            render("{{ v }}|{{ v|money }}|{{ v|floatformat:'2g' }}", v=amount)
            == "27,130,141.25|27,130,141.25|27,130,141.25"
        )
        assert (
            render("{{ n }}|{{ n|number }}|{{ p|number:1 }}", n=1234567, p=Decimal("12.35"))
            == "1,234,567|1,234,567|12.4"
        )
        assert formats.get_format("DATE_INPUT_FORMATS")[0] == "%Y-%m-%d"  # ISO first: what date inputs send
        assert formats.get_format("DATETIME_INPUT_FORMATS")[0] == "%Y-%m-%dT%H:%M:%S"


def test_money_is_half_up_to_the_cent_and_never_goes_through_a_float():
    assert display.money(Decimal("27130141.255")) == "27,130,141.26"
    assert display.money(Decimal("27130141.254")) == "27,130,141.25"
    assert display.money(Decimal("16777217.01")) == "16,777,217.01"  # a float32 would say 16,777,216.00
    assert display.money(Decimal("90071992547409.93")) == "90,071,992,547,409.93"  # past float64's cents
    assert display.money(Decimal("-1234.5")) == "-1,234.50"
    assert display.money(0) == "0.00"
    assert display.money("158000") == "158,000.00"
    assert display.money(None) == display.money("") == "—"


@pytest.mark.parametrize("language, loyal, active", [("en", "Loyal", "Active"), ("zh-hans", "忠诚客户", "活跃")])
def test_a_code_is_shown_by_its_translated_label(language, loyal, active):
    from analytics.models import Protection
    from crm.models import Customer

    with translation.override(language):
        assert render('{{ r|label:"analytics.Protection" }}', r="loyal") == loyal
        assert render('{{ s|label:"crm.Customer.status" }}', s="active") == active
        assert display.label("loyal", Protection) == loyal
        assert display.label("active", Customer._meta.get_field("status")) == active
        assert display.label("active", Customer.Status.choices) == active
    assert display.label("no-such-code", Protection) == "no-such-code"  # unknown: as stored, never an error
    assert display.label("", Protection) == display.label(None, Protection) == "—"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_date_inputs_hold_iso_values_in_every_language(language):
    """zh-hans used to write "2019/11/16" into <input type=date>: the browser showed an empty field."""
    with translation.override(language), timezone.override(SHANGHAI):
        html = DateInput().render("since", datetime.date(2019, 11, 16))
        assert 'type="date"' in html and 'value="2019-11-16"' in html
        # A time with seconds keeps them (step=1: the browser accepts and sends them back).
        field = forms.DateTimeField(widget=DateTimeInput())
        at = datetime.datetime(2026, 3, 2, 9, 5, 7, 123456, tzinfo=datetime.UTC)
        html = field.widget.render("at", field.prepare_value(at.replace(microsecond=0)))
        assert 'type="datetime-local"' in html and 'value="2026-03-02T17:05:07"' in html and 'step="1"' in html


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_time_with_seconds_and_microseconds_saved_untouched_is_unchanged(language):
    class Form(forms.Form):
        at = forms.DateTimeField(widget=DateTimeInput())
        on = forms.DateField(widget=DateInput())

    stored = {
        "at": datetime.datetime(2026, 3, 2, 9, 5, 7, 123456, tzinfo=datetime.UTC),
        "on": datetime.date(2019, 11, 16),
    }
    with translation.override(language), timezone.override(SHANGHAI):
        page = Form(initial=stored).as_div()
        posted = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page))
        form = Form(data=posted, initial=stored)
        assert form.is_valid(), form.errors
        assert form.changed_data == []
        assert form.cleaned_data["at"] == stored["at"].replace(microsecond=0)
        assert form.cleaned_data["on"] == stored["on"]
        changed = Form(data={**posted, "at": "2026-03-02T17:05:08"}, initial=stored)
        assert changed.is_valid() and changed.changed_data == ["at"]


def _date_fields():
    """(where, form field class, widget) of every field of every form and filter set of every app."""
    import django_filters

    for name in FORM_MODULES:
        module = importlib.import_module(name)
        for class_name, value in inspect.getmembers(module, inspect.isclass):
            if value.__module__ != module.__name__:
                continue
            if issubclass(value, forms.BaseForm):
                for field_name, field in value.base_fields.items():
                    yield f"{class_name}.{field_name}", type(field), field.widget
            elif issubclass(value, django_filters.FilterSet):
                for field_name, flt in value.base_filters.items():
                    yield f"{class_name}.{field_name}", flt.field_class, flt.extra.get("widget")


def test_every_form_of_every_app_takes_its_date_inputs_from_core_widgets():
    checked = []
    for where, field_class, widget in _date_fields():
        if issubclass(field_class, forms.DateTimeField):
            assert isinstance(widget, DateTimeInput), f"{where}: use core.widgets.DateTimeInput"
            checked.append(where.split(".")[1])
        elif issubclass(field_class, forms.DateField):
            assert isinstance(widget, DateInput), f"{where}: use core.widgets.DateInput"
            checked.append(where.split(".")[1])
    assert {"since", "churned_on", "occurred_on", "next_follow_up", "received_at", "customer_notified_at"} <= set(
        checked
    )
