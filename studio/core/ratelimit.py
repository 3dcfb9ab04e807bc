"""Rate limits for expensive actions: 429 with Retry-After, counted per user (or client IP).

The counts live in the cache (Redis in production; while Redis is down, each process counts on
its own, see studio/core/cache.py): a Redis outage must not turn confirms, uploads and Astria's
callbacks into errors.
"""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django_ratelimit.core import _split_rate, is_ratelimited


def _key(group: str, request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    from studio.core.net import client_ip

    return f"ip:{client_ip(request)}"


def _over_limit(request: HttpRequest, *, action: str, rate: str) -> bool:
    return is_ratelimited(request, group=f"studio.{action}", key=_key, rate=rate, increment=True)


def rate_limited(request: HttpRequest, *, retry_after: int) -> HttpResponse:
    response = render(request, "core/429.html", {"retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def failure_limit(action: str) -> Callable:
    """Count a view's 404 answers per client, by settings.RATE_LIMITS[action]; past the limit they
    become 429 with Retry-After.

    For endpoints that authenticate by a token in the URL: guesses are counted and slowed down,
    while a request with a valid token is always served, whatever came from the same address
    (Astria calls back for avatars deleted meanwhile, and those 404s must not block the rest).
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except Http404:
                rate = settings.RATE_LIMITS.get(action)
                if rate and _over_limit(request, action=action, rate=rate):
                    return rate_limited(request, retry_after=_split_rate(rate)[1])
                raise

        return wrapper

    return decorator


def rate_limit(action: str) -> Callable:
    """Limit a view by the rate in settings.RATE_LIMITS[action] ("30/m", "100/h"...).

    Only unsafe methods (POST and friends) count, so reading a page never uses up the limit.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            rate = settings.RATE_LIMITS.get(action)
            if rate and request.method not in ("GET", "HEAD", "OPTIONS") and _over_limit(
                request, action=action, rate=rate
            ):
                return rate_limited(request, retry_after=_split_rate(rate)[1])
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
