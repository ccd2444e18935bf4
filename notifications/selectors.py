"""Reading notifications."""

from django.core.cache import cache
from django.db.models import QuerySet

from .models import Notification
from .services import unread_cache_key


def notification_list(*, user) -> QuerySet[Notification]:
    """The user's notifications, newest first."""
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


def unread_count(*, user) -> int:
    """How many of the user's notifications are unread; cached until one is written or read
    (services drop the cached number), so a page costs no query on most requests."""
    key = unread_cache_key(user.pk)
    count = cache.get(key)
    if count is None:
        count = Notification.objects.filter(recipient=user, read_at__isnull=True).count()
        cache.set(key, count, 300)
    return count
