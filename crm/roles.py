"""The three business roles (Django groups made by a data migration) and the checks views share."""

from enum import StrEnum

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.db.models import DecimalField
from django.utils.translation import gettext_lazy as _


class Role(StrEnum):
    SALES = "Sales"
    SERVICE = "Service"
    EXECUTIVE = "Executive"


ROLE_LABELS = {Role.SALES: _("Sales"), Role.SERVICE: _("Service"), Role.EXECUTIVE: _("Executive")}


def user_roles(user) -> set[Role]:
    if not user.is_authenticated:
        return set()
    names = {group.name for group in user.groups.all()}
    return {role for role in Role if role.value in names}


MONEY_PERMISSION = "crm.view_money"


def can_see_money(user) -> bool:
    """The one check for every money figure (revenue, profit, margin, cost, credit limit, invoice
    amounts, order values, ARPU): never for service reps. Pages read it as `can_see_money` (the
    context processor), exports and views call it; a page showing money to a role without it leaks."""
    return user.has_perm(MONEY_PERMISSION)


def money_field_names(model) -> frozenset[str]:
    """The model's money columns (DecimalFields with two places, as crm.models.MONEY makes them):
    what change histories and exports leave out for users who may not see money."""
    return frozenset(
        field.name
        for field in model._meta.get_fields()
        if isinstance(field, DecimalField) and field.decimal_places == 2
    )


def can_edit_customer(user, customer) -> bool:
    """Sales edit the accounts they own; admins edit any; everyone else reads."""
    if user.is_superuser:
        return True
    return user.has_perm("crm.change_customer") and customer.owner_id == user.pk


class RoleRequiredMixin(PermissionRequiredMixin):
    """Anonymous users never get here (LoginRequiredMiddleware); a wrong role gets 403."""

    raise_exception = True
