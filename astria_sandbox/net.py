"""The sandbox's own outgoing requests (callbacks, `image_urls`, `input_image_url`): no
redirects followed, and addresses shown by their origin only."""

import urllib.error
import urllib.request
from urllib.parse import urlsplit

from astria_sandbox.validation import Invalid

MAX_IMAGE_URL_BYTES = 25 * 1024 * 1024


def origin(url: str) -> str:
    """Where a URL points, for logs and errors: scheme, host and port only. Callback URLs carry
    their secret in the path or the query, and signed image URLs in the query."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "[unparseable URL]"
    return f"{parts.scheme}://{parts.hostname or ''}{port}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


# Outgoing requests (callbacks, image_urls) never follow redirects.
opener = urllib.request.build_opener(_NoRedirect)


def download(url: str) -> tuple[bytes, str]:
    """Fetch one of `image_urls`, as Astria does; Invalid when it cannot be fetched."""
    request = urllib.request.Request(url, headers={"User-Agent": "AstriaSandbox/1.0"})  # noqa: S310
    try:
        with opener.open(request, timeout=15) as response:
            data = response.read(MAX_IMAGE_URL_BYTES + 1)
            content_type = response.headers.get("Content-Type", "application/octet-stream")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise Invalid(f"could not download an image from {origin(url)}: {getattr(exc, 'reason', exc)}") from exc
    if len(data) > MAX_IMAGE_URL_BYTES:
        raise Invalid(f"an image from {origin(url)} is larger than {MAX_IMAGE_URL_BYTES // 2**20} MB")
    return data, content_type
