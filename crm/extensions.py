"""Where the apps above crm add to the customer pages, so that crm imports none of them.

crm is the base app: complaints, analytics and exchange import it, never the other way round
(tests/test_layers.py holds that). An app that shows something on the customer list, its export
or the customer page registers it here from its AppConfig.ready(); crm's views ask this registry.

- Customer figures (`register_customer_figures`): per-customer figures the list shows as columns,
  filters and sorts on in the database, and exports (analytics: the published run's revenue,
  profit, tier, quadrant, action...). Figures are money: only roles that see money get them.
- Customer panels (`register_customer_panel`): what a section of the customer page needs in its
  template context (analytics: the customer's value and tier history; complaints: their complaints).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet

from .roles import can_see_money


class CustomerFigures:
    """Figures about each customer from one source (say, an analysis run), as the customer list
    shows them. The class says what the figures add to the list; an instance is the figures one
    request shows (`shown_to`), and the list's queries go through it.
    """

    #: The list's filters and table with the figures: subclasses of crm's CustomerFilter and CustomerTable.
    filterset_class: type
    table_class: type
    #: The filters of `filterset_class` that filter on a figure (they need the figures joined).
    filter_names: tuple[str, ...] = ()
    #: The columns of `table_class` that sort on a figure.
    sortable: frozenset[str] = frozenset()
    #: The export's extra columns, after the customer's own.
    export_headers: tuple[str, ...] = ()

    @classmethod
    def shown_to(cls, user) -> "CustomerFigures | None":
        """The figures the list shows `user` now, or None when there are none (nothing published)."""
        raise NotImplementedError

    def annotate(self, customers: QuerySet, *, sorted_by_figure: bool) -> QuerySet:
        """`customers` carrying the figures as annotations, so the database filters and sorts on them.
        `sorted_by_figure`: the list is sorted on one of them (the join may then be an inner one)."""
        raise NotImplementedError

    def count_queryset(self, filterset) -> QuerySet:
        """What to count when the list is filtered on figures alone (one row per customer listed)."""
        raise NotImplementedError

    @classmethod
    def export_values(cls, customer) -> list:
        """The figures of one customer of `annotate`'s queryset, under `export_headers`."""
        raise NotImplementedError


@dataclass(frozen=True)
class CustomerPanel:
    """A section of the customer page: `context(customer)` adds what its template shows. `money`:
    only for roles that see money; `permission`: only for users holding it."""

    name: str
    context: Callable[..., dict]
    money: bool = False
    permission: str | None = None

    def shown_to(self, user) -> bool:
        if self.money and not can_see_money(user):
            return False
        return self.permission is None or user.has_perm(self.permission)


_figures: list[type[CustomerFigures]] = []
_panels: dict[str, CustomerPanel] = {}


def register_customer_figures(figures: type[CustomerFigures]) -> None:
    """Makes `figures` the customer list's figures (one source at a time; registering it again is harmless)."""
    if _figures and _figures[0] is not figures:
        raise ImproperlyConfigured(
            f"The customer list already shows {_figures[0].__name__}, not also {figures.__name__}."
        )
    _figures[:] = [figures]


def register_customer_panel(panel: CustomerPanel) -> None:
    """Adds a section's context to the customer page (by name: registering it again replaces it)."""
    _panels[panel.name] = panel


def registered_figures() -> type[CustomerFigures] | None:
    """The registered figures' class, whatever the user (exports read its columns)."""
    return _figures[0] if _figures else None


def customer_figures(user) -> CustomerFigures | None:
    """The figures the customer list shows `user`: none without money (crm.roles.can_see_money)."""
    figures = registered_figures()
    if figures is None or not can_see_money(user):
        return None
    return figures.shown_to(user)


def customer_panels_context(*, customer, user) -> dict:
    """The template context of the registered sections of the customer page that `user` may see."""
    context = {}
    for panel in _panels.values():
        if panel.shown_to(user):
            context.update(panel.context(customer))
    return context
