import django_filters
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.lookups import DataContains
from django.db import connections
from django.db.models import Func, Q, TextField, Value
from django.utils.translation import gettext_lazy as _

from analytics.models import Action, Quadrant, Tier

from .models import Customer, Industry, Region
from .selectors import sales_reps

SHORT_GRAM = 2  # crm_short_grams (migration crm 0007) holds a name's non-ASCII pieces of one and two characters


def contains_text(value: str, *, text_fields: list[str], code_fields: list[str], gram_fields=(), using="default") -> Q:
    """Any of the fields contains `value`; case-insensitive for Latin letters.

    Text without cased letters (Chinese, digits) is matched as it is: the same result without
    upper-casing every row, so PostgreSQL's trigram indexes on the plain columns serve it. Codes
    are ASCII, so they are not searched for non-ASCII text. Trigrams cannot serve one or two
    characters: on PostgreSQL, a field in `gram_fields` (indexed on crm_short_grams) is then
    first narrowed to the rows whose pieces hold the term, which that index finds.
    """
    cased = value.upper() != value.lower()
    lookup = "icontains" if cased else "contains"
    fields = text_fields + (code_fields if value.isascii() else [])
    short_chinese = not cased and not value.isascii() and len(value) <= SHORT_GRAM
    on_postgres = connections[using].vendor == "postgresql"
    condition = Q()
    for field in fields:
        if short_chinese and on_postgres and field in gram_fields:
            condition |= Q(**{f"{field}__{lookup}": value}) & Q(_short_grams_contain(field, value))
        else:
            condition |= Q(**{f"{field}__{lookup}": value})
    return condition


def _short_grams_contain(field: str, value: str):
    """crm_short_grams(field) @> ARRAY[value], which the GIN index on that expression answers."""
    grams = Func(field, function="crm_short_grams", output_field=ArrayField(TextField()))
    return DataContains(grams, Value([value], output_field=ArrayField(TextField())))


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    owner = django_filters.ModelChoiceFilter(queryset=sales_reps(), label=_("Owner"), empty_label=_("All owners"))
    region = django_filters.ModelChoiceFilter(
        queryset=Region.objects.all(), label=_("Region"), empty_label=_("All regions")
    )
    industry = django_filters.ModelChoiceFilter(
        queryset=Industry.objects.all(), label=_("Industry"), empty_label=_("All industries")
    )
    status = django_filters.ChoiceFilter(
        choices=Customer.Status.choices, label=_("Status"), empty_label=_("All statuses")
    )

    class Meta:
        model = Customer
        fields = ["q", "owner", "region", "industry", "status"]

    def search(self, queryset, name, value):
        """Code or name contains the text (Chinese included; case-insensitive for Latin letters)."""
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            contains_text(value, text_fields=["name"], code_fields=["code"], gram_fields=["name"], using=queryset.db)
        )


FIGURE_FILTERS = ("tier", "quadrant", "action")  # the published run's figures: need its results joined


class CustomerValueFilter(CustomerFilter):
    """With a published run: filter on its tier and quadrant too."""

    tier = django_filters.ChoiceFilter(choices=Tier.choices, label=_("Tier"), empty_label=_("All tiers"))
    quadrant = django_filters.ChoiceFilter(
        choices=Quadrant.choices, label=_("Quadrant"), empty_label=_("All quadrants")
    )
    action = django_filters.ChoiceFilter(choices=Action.choices, label=_("Action"), empty_label=_("All actions"))

    class Meta(CustomerFilter.Meta):
        fields = CustomerFilter.Meta.fields + list(FIGURE_FILTERS)
