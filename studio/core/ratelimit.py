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
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from django_htmx.http import trigger_client_event
from django_ratelimit.core import get_usage

from studio.core.htmx import wants_fragment
from studio.core.net import client_ip


def _key(group: str, request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{client_ip(request)}"


def _over_limit(request: HttpRequest, *, action: str, rate: str) -> int:
    """Count this request; the seconds until the limit lets requests through again (0 while under it)."""
    usage = get_usage(request, group=f"studio.{action}", key=_key, rate=rate, increment=True)
    if usage is None or not usage["should_limit"]:
        return 0
    return max(usage["time_left"], 1)


def _in_words(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{pluralize(seconds)}"
    minutes = -(-seconds // 60)
    return f"{minutes} minutes"


def rate_limited(request: HttpRequest, *, retry_after: int) -> HttpResponse:
    """The 429 page; to htmx, the same words as a toast (htmx swaps no 4xx into the page)."""
    context = {"wait": _in_words(retry_after)}
    if wants_fragment(request):
        response = HttpResponse(status=429)
        message = render_to_string("core/429.html#message", context, request=request)
        trigger_client_event(response, "toast", {"message": " ".join(message.split()), "level": "error"})
    else:
        response = render(request, "core/429.html", context, status=429)
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
                retry_after = _over_limit(request, action=action, rate=rate) if rate else 0
                if retry_after:
                    return rate_limited(request, retry_after=retry_after)
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
            if rate and request.method not in ("GET", "HEAD", "OPTIONS"):
                retry_after = _over_limit(request, action=action, rate=rate)
                if retry_after:
                    return rate_limited(request, retry_after=retry_after)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
