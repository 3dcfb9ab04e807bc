import functools
import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

FORWARDED_PREFIX = "HTTP_X_FORWARDED_"


@functools.cache
def _networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def from_trusted_proxy(remote_addr: str) -> bool:
    """Whether the peer is one of TRUSTED_PROXIES. A peer without an address came through a Unix
    socket, so from this machine: trusted whenever a proxy is configured (as gunicorn does)."""
    if not settings.TRUSTED_PROXIES:
        return False
    if not remote_addr:
        return True
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped  # an IPv4 peer of a dual-stack listener
    return any(address in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


class ForwardedHeadersMiddleware:
    """Drops the X-Forwarded-* headers of requests that did not come from TRUSTED_PROXIES.

    Rate limits, log-in throttling and Django's HTTPS detection read them, and anyone
    who reaches gunicorn directly could write them. gunicorn's FORWARDED_ALLOW_IPS only keeps them
    out of its own `wsgi.url_scheme`; it still passes them on to the application.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not from_trusted_proxy(request.META.get("REMOTE_ADDR", "")):
            for key in [key for key in request.META if key.startswith(FORWARDED_PREFIX)]:
                del request.META[key]
            request.__dict__.pop("headers", None)  # built from META on first use
        return self.get_response(request)


def client_ip(request: HttpRequest) -> str:
    """The client's address, trusting X-Forwarded-For only as far as our own proxies wrote it.

    With TRUSTED_PROXY_COUNT = n, the n-th address from the right of X-Forwarded-For is the
    client as our outermost proxy saw it; anything to its left could have been forged. The header
    itself reaches the studio only from TRUSTED_PROXIES (ForwardedHeadersMiddleware).
    """
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if count and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= count:
            return hops[-count]
    return request.META.get("REMOTE_ADDR", "")
