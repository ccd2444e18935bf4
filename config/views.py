"""The pages that belong to no one app: where each role lands, and the favicon."""

from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.http import require_safe

from crm.roles import Role, user_roles

# Each role's start page, by URL name only: config knows where the pages are, not how they work.
# The first role the user holds wins, so an executive who also sells lands on the dashboard.
ROLE_HOME = (
    (Role.EXECUTIVE, "analytics:dashboard"),
    (Role.SALES, "analytics:portfolio"),
    (Role.SERVICE, "complaints:queue"),
)
SUPERUSER_HOME = "analytics:dashboard"
FALLBACK_HOME = "crm:customer_list"


def home_url_name(user) -> str:
    """Where `user` starts: executives and admins on the dashboard, sales reps on their portfolio,
    service reps on their complaint queue; a user without a role on the customer list."""
    if user.is_superuser:
        return SUPERUSER_HOME
    roles = user_roles(user)
    return next((name for role, name in ROLE_HOME if role in roles), FALLBACK_HOME)


@require_safe
def home(request):
    return redirect(home_url_name(request.user))


@login_not_required
@require_safe
def favicon(request):
    """Browsers ask for /favicon.ico whatever a page links: send them to the SVG the pages link
    (its hashed name in production, so resolved per request, not at import)."""
    return redirect(static("favicon.svg"), permanent=True)
