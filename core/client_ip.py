"""The client's address as login throttling sees it (settings.AXES_CLIENT_IP_CALLABLE)."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR; behind LOGIN_PROXY_COUNT proxies of ours, each appending the address it saw to
    X-Forwarded-For, the entry that many places from the right: what the outermost of our proxies
    saw. Entries further left are whatever the client sent, so they are never trusted: a guesser
    who could choose the address would get a fresh count of tries with each one."""
    proxies = settings.LOGIN_PROXY_COUNT
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")
