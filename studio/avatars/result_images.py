"""Fetching Astria's result images: allow-listed hosts at public addresses only, bounded in time and size.

The URL comes from Astria's answers, so it is checked as the connecting library reads it (urllib3's
parser), its host is resolved once, and the connection goes to the address that was checked while
TLS and the Host header use the name.
"""

import ipaddress
import socket
from dataclasses import dataclass

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.exceptions import LocationParseError
from urllib3.util import Url, parse_url

_DEFAULT_PORTS = {"https": 443, "http": 80}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class DownloadRefused(Exception):
    """The URL is not one we fetch from, or the answer is not an acceptable image download."""


@dataclass(frozen=True)
class _Target:
    url: str  # rebuilt from the parts that were checked
    scheme: str
    host: str
    port: int
    address: str  # the checked address the connection goes to


def _origin(url: Url) -> tuple[str | None, str | None, int | None]:
    return url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme or "")


def _is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if ip.version == 6:
        # IPv6 forms that carry an IPv4 address are judged by that address too.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not _is_public(embedded):
            return False
    return ip.is_global and not ip.is_multicast


def _check_url(url: str) -> _Target:
    if "\\" in url:
        raise DownloadRefused("URLs with a backslash are not fetched")
    try:
        parts = parse_url(url)
    except LocationParseError as exc:
        raise DownloadRefused("not a valid URL") from exc
    if parts.auth is not None:
        raise DownloadRefused("URLs with a user name are not fetched")
    scheme, host, port = _origin(parts)
    if not host:
        raise DownloadRefused("the URL has no host")
    api = parse_url(settings.ASTRIA_API_URL)
    # The local sandbox serves its images over http on its own port, from this machine.
    sandbox_allowed = settings.ASTRIA_USES_SANDBOX and settings.ALLOW_ASTRIA_SANDBOX
    from_sandbox = sandbox_allowed and (scheme, host, port) == _origin(api)
    if not from_sandbox:
        if host not in {h.lower() for h in settings.ASTRIA_IMAGE_HOSTS} | {api.host}:
            raise DownloadRefused(f"host {host!r} is not an allowed image host")
        if scheme != "https":
            raise DownloadRefused("only https downloads are allowed")
        if port != _DEFAULT_PORTS["https"]:
            raise DownloadRefused(f"port {port} is not allowed")
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise DownloadRefused(f"cannot resolve {host!r}") from exc
    addresses = [info[4][0] for info in infos]
    for address in addresses:
        ip = ipaddress.ip_address(address)
        if not (_is_public(ip) or (from_sandbox and ip.is_loopback)):
            raise DownloadRefused(f"host {host!r} resolves to a non-public address")
    checked = Url(scheme=scheme, host=host, port=parts.port, path=parts.path, query=parts.query)
    return _Target(url=checked.url, scheme=scheme, host=host, port=port, address=addresses[0])


class _PinnedAdapter(HTTPAdapter):
    """Connects to the checked address; the certificate is verified for the name, sent as SNI."""

    def __init__(self, target: _Target) -> None:
        self.target = target
        super().__init__(max_retries=0)

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        host_params = {"scheme": self.target.scheme, "host": self.target.address, "port": self.target.port}
        if self.target.scheme == "https":
            pool_kwargs |= {"server_hostname": self.target.host, "assert_hostname": self.target.host}
        return host_params, pool_kwargs


def download_image(url: str) -> bytes:
    """The bytes at url, refusing other hosts, redirects, slow answers and oversized bodies.

    Raises DownloadRefused for permanent problems and requests exceptions for transient ones.
    """
    target = _check_url(url)
    limit = settings.RESULT_IMAGE_MAX_BYTES
    host_header = target.host if target.port == _DEFAULT_PORTS[target.scheme] else f"{target.host}:{target.port}"
    with requests.Session() as session:
        session.trust_env = False  # no proxy, .netrc or CA bundle from the environment
        session.mount(f"{target.scheme}://", _PinnedAdapter(target))
        with session.get(
            target.url,
            headers={"Host": host_header},
            stream=True,
            allow_redirects=False,
            timeout=settings.RESULT_DOWNLOAD_TIMEOUT,
        ) as response:
            if response.status_code == 429 or response.status_code >= 500:
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
