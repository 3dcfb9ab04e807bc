"""Fetching generated images from Astria: allow-listed hosts only, bounded in time and size."""

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings


class DownloadRefused(Exception):
    """The URL is not one we fetch from, or the answer is not an acceptable image download."""


def _api_host() -> str:
    return urlsplit(settings.ASTRIA_API_URL).hostname or ""


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    api_host = _api_host()
    allowed_hosts = {h.lower() for h in settings.ASTRIA_IMAGE_HOSTS} | {api_host}
    if host not in allowed_hosts:
        raise DownloadRefused(f"host {host!r} is not an allowed image host")
    if parts.scheme != "https" and not (parts.scheme == "http" and host == api_host):
        raise DownloadRefused("only https downloads are allowed")
    if host == api_host:
        return  # the configured API itself (the sandbox may live on this machine)
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, parts.port or 443)}
    except socket.gaierror as exc:
        raise DownloadRefused(f"cannot resolve {host!r}") from exc
    if not all(ipaddress.ip_address(address).is_global for address in addresses):
        raise DownloadRefused(f"host {host!r} resolves to a non-public address")


def download_image(url: str, *, session: requests.Session | None = None) -> bytes:
    """The bytes at url, refusing other hosts, redirects, slow answers and oversized bodies.

    Raises DownloadRefused for permanent problems and requests exceptions for transient ones.
    """
    _check_url(url)
    limit = settings.RESULT_IMAGE_MAX_BYTES
    http = session or requests
    with http.get(
        url, stream=True, allow_redirects=False, timeout=settings.RESULT_DOWNLOAD_TIMEOUT
    ) as response:
        if response.status_code in (429,) or response.status_code >= 500:
            response.raise_for_status()
        if response.status_code != 200:
            raise DownloadRefused(f"answered HTTP {response.status_code}")
        declared = int(response.headers.get("Content-Length") or 0)
        if declared > limit:
            raise DownloadRefused(f"image is larger than {limit} bytes")
        chunks, size = [], 0
        for chunk in response.iter_content(chunk_size=64 * 1024):
            size += len(chunk)
            if size > limit:
                raise DownloadRefused(f"image is larger than {limit} bytes")
            chunks.append(chunk)
    return b"".join(chunks)
