from django.conf import settings

from .roles import ROLE_LABELS, can_see_money, user_roles


def roles(request):
    """The user's role labels and `can_see_money`: the one check every template showing a money
    figure reads (crm.roles.can_see_money; exports and views call it directly)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "user_role_labels": [ROLE_LABELS[role] for role in sorted(user_roles(user))],
        "can_see_money": can_see_money(user),
        "currency": settings.CURRENCY,
    }
