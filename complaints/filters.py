import django_filters
from django.utils.translation import gettext_lazy as _

from crm.selectors import contains_text, customer_search_condition

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
        """The complaint's number or description contains the text, or its customer is one the
        customer search finds (crm.selectors.customer_search: code, name, email or phone). The
        description too, so the top bar's search (complaints.search) opens here on what it found."""
        value = value.strip()
        if not value:
            return queryset
        number = contains_text(value, text_fields=[], code_fields=["number"])
        described = contains_text(
            value, text_fields=["description"], code_fields=[], gram_fields=["description"], using=queryset.db
        )
        return queryset.filter(
            number | described | customer_search_condition(value, through="customer", using=queryset.db)
        )
