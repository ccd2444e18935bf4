import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from analytics.models import Action, Quadrant, Tier

from .models import Customer, Industry, Region
from .selectors import sales_reps


def contains_text(value: str, *, text_fields: list[str], code_fields: list[str]) -> Q:
    """Any of the fields contains `value`; case-insensitive for Latin letters.

    Text without cased letters (Chinese, digits) is matched as it is: the same result without
    upper-casing every row, so PostgreSQL's trigram indexes on the plain columns serve it. Codes
    are ASCII, so they are not searched for non-ASCII text.
    """
    cased = value.upper() != value.lower()
    lookup = "icontains" if cased else "contains"
    fields = text_fields + (code_fields if value.isascii() else [])
    condition = Q()
    for field in fields:
        condition |= Q(**{f"{field}__{lookup}": value})
    return condition


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
        return queryset.filter(contains_text(value, text_fields=["name"], code_fields=["code"]))


class CustomerValueFilter(CustomerFilter):
    """With a published run: filter on its tier and quadrant too."""

    tier = django_filters.ChoiceFilter(choices=Tier.choices, label=_("Tier"), empty_label=_("All tiers"))
    quadrant = django_filters.ChoiceFilter(choices=Quadrant.choices, label=_("Quadrant"), empty_label=_("All quadrants"))
    action = django_filters.ChoiceFilter(choices=Action.choices, label=_("Action"), empty_label=_("All actions"))

    class Meta(CustomerFilter.Meta):
        fields = CustomerFilter.Meta.fields + ["tier", "quadrant", "action"]
