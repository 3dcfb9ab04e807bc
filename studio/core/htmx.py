from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxRequest(HttpRequest):
    """An HttpRequest as seen after HtmxMiddleware, for type checkers."""

    htmx: HtmxDetails


def wants_fragment(request: HttpRequest) -> bool:
    """Targeted htmx swaps get a partial; boosted navigation and history restores a full page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request
