"""What the customer list needs for bulk reassignment of owners (issue 19); the pages are in
crm.bulk_views.

- `can_reassign_owners`: executives and admins give customers to another sales rep, in bulk.
- `select_column`: a list's tick boxes, one per row and one in the header that ticks the page (the
  complaint queue's too).
- `Selection`: the customers a reassignment is about (ticked ids, or every customer matching the
  list's filter), with a fingerprint of their ids: the confirmation page carries it, and the
  reassignment is refused when the customers selected then are no longer the ones selected now.
"""

import hashlib
from dataclasses import dataclass

import django_tables2 as tables
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from .models import Customer
from .roles import Role, can_see_money, user_roles

SELECT_FORM = "bulk-reassign"  # the id of the list's reassignment form the tick boxes belong to
SELECT_COLUMN = "select"


def can_reassign_owners(user) -> bool:
    """Executives and admins give customers to another sales rep (sales reps edit their own; service reps read).

    The roles (a query) are read only for those who see money without editing customers, as
    executives do: the list's other readers pay nothing for the check (its permissions are cached)."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    if not can_see_money(user) or user.has_perm("crm.change_customer"):
        return False
    return Role.EXECUTIVE in user_roles(user)


def select_column() -> tables.CheckBoxColumn:
    """A tick box per row (`ids`, the customer's id) for the reassignment form, outside the table's
    markup (the HTML `form` attribute); the header's box ticks the page (static/js/bulk_select.js)."""
    return tables.CheckBoxColumn(
        accessor="pk",
        verbose_name=_("Select"),
        attrs={
            "th": {"class": "select"},
            "td": {"class": "select"},
            "th__input": {
                "class": "bulk-page",
                "form": SELECT_FORM,
                "aria-label": _("Select every row on this page"),
            },
            "td__input": {
                "name": "ids",
                "class": "bulk-pick",
                "form": SELECT_FORM,
                "aria-label": lambda record: _("Select %(record)s") % {"record": record},
            },
        },
    )


def with_select_column(table_class, kwargs: dict) -> dict:
    """The table's keyword arguments with the tick boxes added as its first column."""
    meta = table_class._meta
    order = [name for name in (meta.sequence or meta.fields or ()) if name not in ("...", SELECT_COLUMN)]
    return {
        **kwargs,
        "extra_columns": [*kwargs.get("extra_columns", []), (SELECT_COLUMN, select_column())],
        "sequence": (SELECT_COLUMN, *order, "..."),
    }


@dataclass(frozen=True)
class Selection:
    """The customers selected: `ids` (sorted), and `customers`, a queryset of them to read from."""

    ids: list[int]
    customers: QuerySet
    by_filter: bool  # every customer matching the list's filter, not ticked ones

    @property
    def count(self) -> int:
        return len(self.ids)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.ids)

    @classmethod
    def of_filter(cls, filtered: QuerySet) -> "Selection":
        ids = list(filtered.order_by("pk").values_list("pk", flat=True))
        return cls(ids=ids, customers=Customer.objects.filter(pk__in=filtered.values("pk")), by_filter=True)

    @classmethod
    def of_ids(cls, ids) -> "Selection":
        customers = Customer.objects.filter(pk__in=sorted(set(ids)))
        return cls(
            ids=list(customers.order_by("pk").values_list("pk", flat=True)), customers=customers, by_filter=False
        )


def fingerprint(ids: list[int]) -> str:
    """A short digest of the sorted ids: equal for the same customers, different when one joined or left."""
    return hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:32]
