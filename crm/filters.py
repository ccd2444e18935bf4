import django_filters
from django.utils.translation import gettext_lazy as _

from .models import Customer, Industry, Region
from .selectors import customer_search, sales_reps


class CustomerFilter(django_filters.FilterSet):
    """The customer list's filters. With a published run, analytics adds its figures' filters in a
    subclass (crm.extensions.CustomerFigures.filterset_class)."""

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
        """Code, name, email or phone contains the text (crm.selectors.customer_search)."""
        return customer_search(queryset, value)
