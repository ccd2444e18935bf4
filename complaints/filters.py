import django_filters
from django.utils.translation import gettext_lazy as _

from .models import Category, Complaint, Severity, State
from .selectors import complaints_matching


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
        """The complaint's number starts with the text or its description contains it (as the top
        bar's search finds complaints, so its "see all" opens here on the same ones), or its customer
        is one the customer search finds (code, name, email or phone): selectors.complaints_matching."""
        value = value.strip()
        if not value:
            return queryset
        return complaints_matching(queryset, value)
