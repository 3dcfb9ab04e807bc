from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address, trusting X-Forwarded-For only as far as our own proxies wrote it.

    With TRUSTED_PROXY_COUNT = n, the n-th address from the right of X-Forwarded-For is the
    client as our outermost proxy saw it; anything to its left could have been forged.
    """
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if count and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= count:
            return hops[-count]
    return request.META.get("REMOTE_ADDR", "")


def login_name(request: HttpRequest, credentials: dict | None = None) -> str:
    """The login being tried: allauth's form calls it "login", the admin's "username"."""
    credentials = credentials or {}
    data = getattr(request, "POST", {}) or {}
    for field in ("login", "username", "email"):
        value = credentials.get(field) or data.get(field)
        if value:
            return str(value).strip().lower()
    return ""
