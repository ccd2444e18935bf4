import django_filters
from django.utils.translation import gettext_lazy as _

from crm.filters import contains_text

from .models import Category, Complaint, Severity, State


class ComplaintFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    state = django_filters.ChoiceFilter(choices=State.choices, label=_("State"), empty_label=_("All states"))
    severity = django_filters.ChoiceFilter(
        choices=Severity.choices, label=_("Severity"), empty_label=_("All severities")
    )
    category = django_filters.ChoiceFilter(
        choices=Category.choices, label=_("Category"), empty_label=_("All categories")
    )

    class Meta:
        model = Complaint
        fields = ["q", "state", "severity", "category"]

    def search(self, queryset, name, value):
        """Complaint number, customer code or customer name contains the text."""
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            contains_text(value, text_fields=["customer__name"], code_fields=["number", "customer__code"])
        )
