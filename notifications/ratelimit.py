"""A per-address limit for the public pages (the survey): a counter per window in the cache.

What counts is what an abuser does: answers posted and links refused (a guessed, changed, expired
or used link). Opening a valid link does not count, so a customer reading their survey twice is
never turned away, while a run of guesses from one address is stopped."""

import time

from django.conf import settings
from django.core.cache import cache

from core.client_ip import client_ip


def _limit() -> int:
    return getattr(settings, "PUBLIC_RATE_LIMIT", 20)


def _key(request, scope: str) -> tuple[str, int]:
    window = getattr(settings, "PUBLIC_RATE_WINDOW_SECONDS", 600)
    return f"ratelimit:{scope}:{client_ip(request)}:{int(time.time() // window)}", window


def is_limited(request, *, scope: str) -> bool:
    """The address used up its PUBLIC_RATE_LIMIT counted requests to `scope` in this window."""
    key, _window = _key(request, scope)
    return (cache.get(key) or 0) >= _limit()


def count(request, *, scope: str) -> None:
    key, window = _key(request, scope)
    if not cache.add(key, 1, window):
        try:
            cache.incr(key)
        except ValueError:  # expired meanwhile
            cache.set(key, 1, window)
