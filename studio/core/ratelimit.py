"""Rate limits for expensive actions: 429 with Retry-After, counted per user (or client IP)."""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_ratelimit.core import _split_rate, is_ratelimited


def _key(group: str, request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    from studio.core.net import client_ip

    return f"ip:{client_ip(request)}"


def rate_limited(request: HttpRequest, *, retry_after: int) -> HttpResponse:
    response = render(request, "core/429.html", {"retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def rate_limit(action: str) -> Callable:
    """Limit a view by the rate in settings.RATE_LIMITS[action] ("30/m", "100/h"...).

    Only unsafe methods (POST and friends) count, so reading a page never uses up the limit.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            rate = settings.RATE_LIMITS.get(action)
            if rate and request.method not in ("GET", "HEAD", "OPTIONS") and is_ratelimited(
                request, group=f"studio.{action}", key=_key, rate=rate, increment=True
            ):
                return rate_limited(request, retry_after=_split_rate(rate)[1])
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
