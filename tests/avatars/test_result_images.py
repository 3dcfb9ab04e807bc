"""Result images are fetched only from Astria's hosts, never from anywhere a payload points."""

import pytest
import requests

from studio.avatars.result_images import DownloadRefused, download_image


@pytest.fixture(autouse=True)
def _astria(settings):
    settings.ASTRIA_API_URL = "https://api.astria.ai"
    settings.ASTRIA_IMAGE_HOSTS = ["sdbooth2-production.s3.amazonaws.com", "cdn.astria.ai"]
    settings.RESULT_IMAGE_MAX_BYTES = 1000


@pytest.fixture
def no_network(monkeypatch):
    """Fails the test if anything tries to connect."""

    def refuse(*args, **kwargs):
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(requests, "get", refuse)
    monkeypatch.setattr("socket.getaddrinfo", refuse)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:6379/",
        "http://[::1]/",
        "http://2130706433/",
        "file:///etc/passwd",
        "gopher://cdn.astria.ai/x",
        "https://cdn.astria.ai.attacker.example/x.jpg",
        "https://attacker.example/cdn.astria.ai/x.jpg",
        "http://cdn.astria.ai/x.jpg",  # allowed host, but not over https
    ],
)
def test_anything_but_an_allowed_https_host_is_refused_before_connecting(url, no_network):
    with pytest.raises(DownloadRefused):
        download_image(url)


def test_an_allowed_host_resolving_to_a_private_address_is_refused(monkeypatch):
    monkeypatch.setattr("socket.getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("10.0.0.5", 443))])
    monkeypatch.setattr(requests, "get", lambda *a, **k: pytest.fail("a connection was attempted"))

    with pytest.raises(DownloadRefused, match="non-public"):
        download_image("https://cdn.astria.ai/x.jpg")


class FakeResponse:
    def __init__(self, status=200, chunks=(b"x" * 100,), headers=None):
        self.status_code, self.chunks, self.headers = status, chunks, headers or {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def iter_content(self, chunk_size):
        yield from self.chunks

    def raise_for_status(self):
        raise requests.HTTPError(f"HTTP {self.status_code}")


@pytest.fixture
def public_dns(monkeypatch):
    monkeypatch.setattr("socket.getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("93.184.216.34", 443))])


def test_redirects_are_not_followed(monkeypatch, public_dns):
    seen = {}

    def get(url, **kwargs):
        seen.update(kwargs)
        return FakeResponse(302, headers={"Location": "http://127.0.0.1/"})

    monkeypatch.setattr(requests, "get", get)

    with pytest.raises(DownloadRefused, match="302"):
        download_image("https://cdn.astria.ai/x.jpg")
    assert seen["allow_redirects"] is False and seen["timeout"]


def test_an_oversized_body_is_cut_off_at_the_cap(monkeypatch, public_dns):
    monkeypatch.setattr(requests, "get", lambda url, **k: FakeResponse(chunks=[b"x" * 600, b"x" * 600, b"x" * 600]))

    with pytest.raises(DownloadRefused, match="larger"):
        download_image("https://cdn.astria.ai/x.jpg")


def test_a_declared_oversized_body_is_refused_unread(monkeypatch, public_dns):
    monkeypatch.setattr(requests, "get", lambda url, **k: FakeResponse(headers={"Content-Length": "5000"}))

    with pytest.raises(DownloadRefused, match="larger"):
        download_image("https://cdn.astria.ai/x.jpg")


def test_server_errors_are_transient(monkeypatch, public_dns):
    monkeypatch.setattr(requests, "get", lambda url, **k: FakeResponse(503))

    with pytest.raises(requests.HTTPError):
        download_image("https://cdn.astria.ai/x.jpg")


def test_an_allowed_image_is_fetched(monkeypatch, public_dns):
    monkeypatch.setattr(requests, "get", lambda url, **k: FakeResponse(chunks=[b"ab", b"cd"]))

    assert download_image("https://cdn.astria.ai/x.jpg") == b"abcd"
