"""Result images are fetched only from Astria's hosts, never from anywhere a payload points."""

import ipaddress
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
import urllib3.util.connection

from studio.avatars.result_images import DownloadRefused, download_image

# A test CA and a certificate it signed for cdn.astria.ai (made once with openssl, valid 100 years).
TLS = Path(__file__).parent / "tls"
PUBLIC = "93.184.216.34"


@pytest.fixture(autouse=True)
def _astria(settings):
    settings.ASTRIA_API_URL = "https://api.astria.ai"
    settings.ASTRIA_IMAGE_HOSTS = ["sdbooth2-production.s3.amazonaws.com", "cdn.astria.ai"]
    settings.RESULT_IMAGE_MAX_BYTES = 1000
    settings.RESULT_DOWNLOAD_TIMEOUT = (2, 5)
    settings.ALLOW_ASTRIA_SANDBOX = False  # as in production


class FakeDNS:
    """Answers each name with its next queued list of addresses (then the last one again);
    names with no answers get a public address, IP literals themselves."""

    def __init__(self) -> None:
        self.answers: dict[str, list[list[str]]] = {}
        self.asked: list[str] = []

    def getaddrinfo(self, host, port, *args, **kwargs):
        self.asked.append(host)
        queued = self.answers.get(host)
        if queued:
            addresses = queued.pop(0) if len(queued) > 1 else queued[0]
        else:
            try:
                addresses = [str(ipaddress.ip_address(host))]
            except ValueError:
                addresses = [PUBLIC]
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]


@pytest.fixture(autouse=True)
def dns(monkeypatch):
    fake = FakeDNS()
    monkeypatch.setattr(socket, "getaddrinfo", fake.getaddrinfo)
    return fake


@pytest.fixture
def no_network(monkeypatch):
    """Fails the test if anything tries to connect."""

    def refuse(*args, **kwargs):
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(urllib3.util.connection, "create_connection", refuse)


@pytest.fixture
def listener():
    """A real local TCP listener; `connected()` tells whether anyone connected to it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    sock.setblocking(False)

    class Listener:
        port = sock.getsockname()[1]

        @staticmethod
        def connected() -> bool:
            # connect() returns once the handshake is queued here, so no waiting is needed.
            try:
                sock.accept()[0].close()
            except BlockingIOError:
                return False
            return True

    yield Listener
    sock.close()


class ImageServer:
    """A local https server with a certificate for cdn.astria.ai, reached whatever address the
    studio connects to; it records the connect targets, the SNI names and each request."""

    def __init__(self, monkeypatch) -> None:
        self.status, self.headers, self.body = 200, None, b"abcd"
        self.targets: list[tuple[str, int]] = []
        self.server_names: list[str | None] = []
        self.requests: list[tuple[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append((self.headers.get("Host"), self.path))
                self.send_response(server.status)
                headers = {"Content-Length": str(len(server.body))} if server.headers is None else server.headers
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(server.body)

            def log_message(self, *args):
                pass

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(TLS / "cdn.astria.ai.pem")
        context.sni_callback = lambda sslobj, name, ctx: self.server_names.append(name)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.handle_error = lambda *args: None  # a client that hangs up early is expected
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

        def create_connection(address, timeout=None, *args, **kwargs):
            self.targets.append(address)
            sock = socket.socket()
            sock.settimeout(timeout)
            sock.connect(("127.0.0.1", port))
            return sock

        monkeypatch.setattr(urllib3.util.connection, "create_connection", create_connection)
        monkeypatch.setattr(requests.adapters, "DEFAULT_CA_BUNDLE_PATH", str(TLS / "ca.pem"))

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def image_server(monkeypatch):
    server = ImageServer(monkeypatch)
    yield server
    server.close()


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
        "https://user:secret@cdn.astria.ai/x.jpg",
        "https://cdn.astria.ai\\x.jpg",
        "http://cdn.astria.ai/x.jpg",  # allowed host, but not over https
    ],
)
def test_anything_but_an_allowed_https_host_is_refused_before_connecting(url, no_network):
    with pytest.raises(DownloadRefused):
        download_image(url)


@pytest.mark.parametrize(
    "template",
    ["http://127.0.0.1:{port}\\@api.astria.ai/x", "https://127.0.0.1:{port}\\@cdn.astria.ai/"],
)
def test_a_url_two_parsers_read_differently_never_reaches_a_local_listener(template, listener):
    with pytest.raises(DownloadRefused):
        download_image(template.format(port=listener.port))

    assert not listener.connected()


@pytest.mark.parametrize(
    "url", ["https://cdn.astria.ai:6379/x.jpg", "https://api.astria.ai:8443/x.jpg", "http://api.astria.ai:6379/"]
)
def test_a_non_default_port_on_an_allowed_host_is_refused(url, no_network):
    with pytest.raises(DownloadRefused):
        download_image(url)


def test_http_is_refused_outside_development_even_from_the_configured_api(settings, listener):
    settings.ASTRIA_API_URL = f"http://127.0.0.1:{listener.port}"

    with pytest.raises(DownloadRefused):
        download_image(f"http://127.0.0.1:{listener.port}/images/1.jpg")

    assert not listener.connected()


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.5",
        "127.0.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:10.0.0.5",
        "2002:a00:5::",  # 6to4 around 10.0.0.5
        "64:ff9b::a00:5",  # NAT64 around 10.0.0.5
    ],
)
def test_an_allowed_host_resolving_to_a_non_public_address_is_refused(address, dns, no_network):
    dns.answers["cdn.astria.ai"] = [[address]]

    with pytest.raises(DownloadRefused, match="non-public"):
        download_image("https://cdn.astria.ai/x.jpg")


def test_one_non_public_address_among_public_ones_is_refused(dns, no_network):
    dns.answers["cdn.astria.ai"] = [[PUBLIC, "10.0.0.5"]]

    with pytest.raises(DownloadRefused, match="non-public"):
        download_image("https://cdn.astria.ai/x.jpg")


def test_the_api_host_resolving_to_a_private_address_is_refused(dns, no_network):
    dns.answers["api.astria.ai"] = [["10.0.0.5"]]

    with pytest.raises(DownloadRefused, match="non-public"):
        download_image("https://api.astria.ai/images/1.jpg")


def test_the_connection_goes_to_the_address_that_was_checked(dns, image_server):
    dns.answers["cdn.astria.ai"] = [[PUBLIC], ["127.0.0.1"]]  # a rebinding DNS: public once, then local

    assert download_image("https://cdn.astria.ai/x.jpg") == b"abcd"
    assert image_server.targets == [(PUBLIC, 443)]
    assert dns.asked == ["cdn.astria.ai"]


@pytest.mark.parametrize("address", [PUBLIC, "2606:4700::1"])
def test_an_allowed_image_is_fetched_from_the_name_at_the_checked_address(address, dns, image_server):
    dns.answers["cdn.astria.ai"] = [[address]]

    assert download_image("https://cdn.astria.ai/x/1.jpg?sig=abc") == b"abcd"
    assert image_server.targets == [(address, 443)]
    assert image_server.server_names == ["cdn.astria.ai"]
    assert image_server.requests == [("cdn.astria.ai", "/x/1.jpg?sig=abc")]


def test_the_certificate_must_be_for_the_host_name(image_server):
    with pytest.raises(requests.exceptions.SSLError):
        download_image("https://sdbooth2-production.s3.amazonaws.com/x.jpg")
    assert image_server.requests == []


def test_redirects_are_not_followed(image_server):
    image_server.status, image_server.headers = 302, {"Location": "https://cdn.astria.ai/other.jpg"}

    with pytest.raises(DownloadRefused, match="302"):
        download_image("https://cdn.astria.ai/x.jpg")
    assert len(image_server.requests) == 1


def test_an_oversized_body_is_cut_off_at_the_cap(image_server):
    image_server.headers, image_server.body = {}, b"x" * 1800  # no Content-Length: read until closed

    with pytest.raises(DownloadRefused, match="larger"):
        download_image("https://cdn.astria.ai/x.jpg")


def test_a_declared_oversized_body_is_refused_unread(image_server):
    image_server.headers = {"Content-Length": "5000"}

    with pytest.raises(DownloadRefused, match="larger"):
        download_image("https://cdn.astria.ai/x.jpg")


def test_server_errors_are_transient(image_server):
    image_server.status = 503

    with pytest.raises(requests.HTTPError):
        download_image("https://cdn.astria.ai/x.jpg")


class TestInDevelopment:
    @pytest.fixture(autouse=True)
    def sandbox(self, settings):
        """A plain-http server on loopback standing in for the local sandbox, as ASTRIA_API_URL."""

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Length", "4")
                self.end_headers()
                self.wfile.write(b"abcd")

            def log_message(self, *args):
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        settings.ALLOW_ASTRIA_SANDBOX = True
        settings.ASTRIA_API_URL = f"http://127.0.0.1:{httpd.server_address[1]}"
        yield settings.ASTRIA_API_URL
        httpd.shutdown()
        httpd.server_close()

    def test_the_sandbox_serves_images_over_http_on_its_own_port(self, sandbox):
        assert download_image(f"{sandbox}/images/1.jpg") == b"abcd"

    @pytest.mark.parametrize(
        "template",
        [
            "http://127.0.0.1:{other}/images/1.jpg",
            "http://localhost:{port}/images/1.jpg",
            "https://127.0.0.1:{port}/images/1.jpg",
            "http://127.0.0.1:{port}\\@cdn.astria.ai/",
        ],
    )
    def test_nothing_else_local_is_fetched(self, template, sandbox, no_network):
        port = int(sandbox.rsplit(":", 1)[1])

        with pytest.raises(DownloadRefused):
            download_image(template.format(port=port, other=port + 1))

    def test_other_hosts_still_need_public_addresses(self, dns, no_network):
        dns.answers["cdn.astria.ai"] = [["10.0.0.5"]]

        with pytest.raises(DownloadRefused, match="non-public"):
            download_image("https://cdn.astria.ai/x.jpg")
