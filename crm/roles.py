"""The three business roles (Django groups made by a data migration) and the checks views share."""
from enum import StrEnum

from django.contrib.auth.mixins import PermissionRequiredMixin
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


def can_see_money(user) -> bool:
    """Revenue, profit, margin, invoice amounts: never for service reps."""
    return user.has_perm("crm.view_money")


def can_edit_customer(user, customer) -> bool:
    """Sales edit the accounts they own; admins edit any; everyone else reads."""
    if user.is_superuser:
        return True
    return user.has_perm("crm.change_customer") and customer.owner_id == user.pk


class RoleRequiredMixin(PermissionRequiredMixin):
    """Anonymous users never get here (LoginRequiredMiddleware); a wrong role gets 403."""

    raise_exception = True
