"""How a stored value is shown to a person, in one place for every page, export reading and chart.

Dates, months and numbers follow the active language's formats (core/formats/<lang>/formats.py);
money is rounded half-up to the cent and grouped in thousands; a stored code (a status, a quadrant,
a protection reason...) is shown by its translated label. Templates use the same functions as
filters: `{% load display %}` then `|money`, `|number:1`, `|month`, `|label:"analytics.Protection"`.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from django.apps import apps
from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext as _

CENT = Decimal("0.01")
EMPTY = "—"


def money(value) -> str:
    """27130141.255 -> "27,130,141.26" (half-up to the cent, grouped; never through a float). None -> "—"."""
    if value is None or value == "":
        return EMPTY
    exact = value if isinstance(value, Decimal) else Decimal(str(value))
    return formats.number_format(exact.quantize(CENT, rounding=ROUND_HALF_UP), 2, use_l10n=True, force_grouping=True)


def number(value, places: int = 0) -> str:
    """A count or a measure, half-up to `places` decimals and grouped: 12345 -> "12,345". None -> "—"."""
    if value is None or value == "":
        return EMPTY
    exact = value if isinstance(value, Decimal) else Decimal(str(value))
    exact = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return formats.number_format(exact, places, use_l10n=True, force_grouping=True)


def day(value) -> str:
    """A date (or the local date of a datetime) in the language's one date format."""
    if value is None or value == "":
        return EMPTY
    return formats.date_format(value, "DATE_FORMAT")


def month(value) -> str:
    """A month, from a date or "YYYY-MM": "Dec 2024", "2024年12月"."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, str):
        value = datetime.date.fromisoformat(value[:7] + "-01")
    return formats.date_format(value, "YEAR_MONTH_FORMAT")


def label(code, choices) -> str:
    """The translated label of a stored `code` in `choices`: a Choices class, a model field with
    choices, a list of (code, label) pairs, or a name `label_source` resolves. An unknown code
    (say, one a newer release added) is shown as it is; empty shows "—"."""
    if code is None or code == "":
        return EMPTY
    labels = _labels(choices) if isinstance(choices, str) else dict(_pairs(choices))
    return str(labels.get(code, code))


def _pairs(choices):
    if isinstance(choices, models.Field):
        return choices.flatchoices
    return getattr(choices, "choices", choices)


@cache
def _labels(source: str) -> dict:
    return dict(_pairs(label_source(source)))


def label_source(name: str):
    """ "app.ChoicesName" (a Choices class in the app's models module, e.g. "analytics.Protection")
    or "app.Model.field" (that field's choices, e.g. "crm.Customer.status")."""
    app_label, *rest = name.split(".")
    config = apps.get_app_config(app_label)
    if len(rest) == 2:
        return config.get_model(rest[0])._meta.get_field(rest[1])
    return getattr(config.models_module, rest[0])


def field_value(field: models.Field, value) -> str:
    """A stored value of a model field as a person reads it (history entries): a choice by its label,
    a related record by its name, yes/no, a date in the date format, money to the cent."""
    if value is None or value == "":
        return EMPTY
    if field.choices:
        return label(value, field)
    if isinstance(field, models.ForeignKey):
        related = field.related_model._base_manager.filter(pk=value).first()
        return str(related) if related is not None else f"#{value}"
    if isinstance(field, models.BooleanField):
        return _("Yes") if value else _("No")
    if isinstance(field, models.DateTimeField):
        return formats.date_format(timezone.localtime(value) if timezone.is_aware(value) else value, "DATETIME_FORMAT")
    if isinstance(field, models.DateField):
        return day(value)
    if isinstance(field, models.DecimalField) and field.decimal_places == 2:
        return money(value)
    if isinstance(field, (models.IntegerField, models.FloatField, models.DecimalField)):
        return formats.number_format(value, use_l10n=True, force_grouping=True)
    return str(value)
