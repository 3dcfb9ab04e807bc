import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from studio.astria.client import AstriaClient
from tests.astria.factories import photo_bytes

API_KEY = "sd_canned_secret_key_123"


class CannedServer:
    """Answers every request with one configured response and records what it was sent, for the
    answers the sandbox never gives (422 with `message` or a raw body, redirects)."""

    def __init__(self) -> None:
        self.status, self.body, self.headers = 200, b"[]", {"Content-Type": "application/json"}
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                server.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": self.rfile.read(length),
                    }
                )
                self.send_response(server.status)
                for name, value in server.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

            do_GET = do_POST = do_DELETE = do_HEAD = _answer

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def answer(
        self, status: int, body: bytes | str, content_type: str = "application/json", **headers
    ) -> None:
        self.status = status
        self.body = body.encode() if isinstance(body, str) else body
        self.headers = {"Content-Type": content_type, **headers}

    def client(self) -> AstriaClient:
        return AstriaClient(api_url=self.url, api_key=API_KEY, timeout=(2, 5))

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def canned_server():
    server = CannedServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def photos():
    return [(f"photo-{n}.jpg", photo_bytes(n)) for n in range(3)]
