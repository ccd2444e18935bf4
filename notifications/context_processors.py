from functools import cache

from .selectors import unread_count


def unread(request):
    """`notifications_unread`: the signed-in user's unread count for the top bar, looked up only
    when a template reads it (a callable: templates call it)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notifications_unread": cache(lambda: unread_count(user=user))}
