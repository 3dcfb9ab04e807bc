"""pytest plugin: the Astria sandbox running in a thread, with the studio's settings pointed at it.

    def test_something(astria_sandbox):
        client = get_client()                       # talks to the sandbox, over real HTTP
        astria_sandbox.set_faults(fail_next=1, fail_status=504)
        ...
        assert astria_sandbox.stats()["tunes_by_title"] == {"...": 1}

Delays are zero and the state is in memory, so a tune is trained and its prompts done on the
sandbox's next clock tick (every 50 ms). Callbacks go to whatever URL the caller gave; with the
Django `live_server` fixture, set `settings.PUBLIC_URL = live_server.url` so the studio builds
callback URLs the sandbox can reach; `callback_receiver` is a tiny stand-in receiver when the studio's
own webhooks are not under test. Registered in tests/conftest.py (`pytest_plugins`).
"""

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from astria_sandbox import render
from astria_sandbox.engine import Sandbox
from studio.astria.client import AstriaClient


@dataclass
class SandboxHandle:
    sandbox: Sandbox
    api_key: str

    @property
    def url(self) -> str:
        return self.sandbox.url

    def client(
        self, api_key: str | None = None, *, timeout: tuple[float, float] = (2.0, 10.0)
    ) -> AstriaClient:
        """A client for this sandbox; another `sd_...` key is another, isolated account."""
        return AstriaClient(api_url=self.url, api_key=api_key or self.api_key, timeout=timeout)

    def set_faults(self, **switches) -> dict:
        """Change switches at runtime: fail_next, fail_status (500, 429, 504), fail_scope ("create" or
        "any"), fail_prompts_next, drop_callbacks, training_delay, prompt_delay, latency,
        idempotent_titles, likeness_fault, likeness_fault_share, likeness_fault_match. Returns all
        switches."""
        return self.sandbox.set_switches(**switches)

    def fail_next(self, count: int, status: int = 500, *, scope: str = "create") -> None:
        self.set_faults(fail_next=count, fail_status=status, fail_scope=scope)

    def fail_likeness(self, mode: str = "stranger", *, share: float = 1.0, match: str = "") -> None:
        """Prompts created from now on (whose text holds `match`) paint `share` of their images
        with someone else's face ("stranger") or none ("no_face"); mode "off" ends it."""
        self.set_faults(likeness_fault=mode, likeness_fault_share=share, likeness_fault_match=match)

    def drop_callbacks(self, drop: bool = True) -> None:
        self.set_faults(drop_callbacks=drop)

    def set_delays(self, *, training: float | None = None, prompt: float | None = None) -> None:
        values = {"training_delay": training, "prompt_delay": prompt}
        self.set_faults(**{key: value for key, value in values.items() if value is not None})

    def stats(self) -> dict:
        """Counts: tunes_created, tunes_by_title, prompts_created, callbacks sent/failed/dropped, ..."""
        return self.sandbox.store.stats()

    def callbacks(self) -> list[dict]:
        """Every callback attempt so far: kind, id, outcome (sent, failed, dropped), status, error."""
        return self.sandbox.store.callback_log()

    def train_now(self, tune_id: int) -> None:
        """Finish that tune's training now, whatever the training delay."""
        assert self.sandbox.train_now(tune_id), f"tune {tune_id} does not exist or is already trained"

    def advance(self) -> None:
        """Run the sandbox's clock once now (it also runs by itself every 50 ms)."""
        self.sandbox.advance()

    def wait_for(
        self,
        condition: Callable[[], object],
        *,
        timeout: float = 10.0,
        interval: float = 0.05,
        progress: Callable[[], object] | None = None,
    ):
        """Poll `condition` until it returns something truthy, and return that; fail after timeout.

        With `progress`, the timeout counts from the last change of progress(): work that moves
        slowly on a busy machine is waited for as long as it moves, and only a stall fails."""
        deadline = time.monotonic() + timeout
        seen = progress() if progress else None
        while True:
            result = condition()
            if result:
                return result
            if progress and (current := progress()) != seen:
                seen, deadline = current, time.monotonic() + timeout
            if time.monotonic() > deadline:
                stalled = f" (stuck at {seen!r})" if progress else ""
                pytest.fail(f"the sandbox did not reach the expected state within {timeout} s{stalled}")
            time.sleep(interval)


class RenderedOnce:
    """The sandbox's image renderer, remembering its last images for the whole test process.

    An image is a function of its arguments only (the photos, the prompt's text and id, the
    index), and fresh sandboxes number prompts alike, so the tests that take the same draft
    through the pipeline ask for the same images: each is painted once, not once per test.
    """

    def __init__(self, paint: Callable[..., bytes], size: int = 128) -> None:
        self._paint, self._size = paint, size
        self._images: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, *, photos: list[bytes], **arguments) -> bytes:
        key = (
            tuple(hashlib.sha256(photo).digest() for photo in photos),
            *((name, json.dumps(value, sort_keys=True)) for name, value in sorted(arguments.items())),
        )
        with self._lock:
            if key in self._images:
                self._images.move_to_end(key)
                return self._images[key]
        image = self._paint(photos=photos, **arguments)
        with self._lock:
            self._images[key] = image
            while len(self._images) > self._size:
                self._images.popitem(last=False)
        return image


_render_once = RenderedOnce(render.render_prompt_image)


@pytest.fixture
def astria_sandbox(settings, monkeypatch):
    """A fresh sandbox (zero delays, in-memory state) with ASTRIA_API_URL pointing at it."""
    monkeypatch.setattr(render, "render_prompt_image", _render_once)
    sandbox = Sandbox(
        host="127.0.0.1",
        port=0,
        state_path=None,
        gallery_tunes=settings.ASTRIA_GALLERY_TUNES,
        tick=0.05,
        training_delay=0,
        prompt_delay=0,
    ).start()
    settings.ASTRIA_API_KEY = ""
    settings.ASTRIA_USES_SANDBOX = True
    settings.ASTRIA_API_URL = sandbox.url
    try:
        yield SandboxHandle(sandbox=sandbox, api_key=settings.ASTRIA_SANDBOX_API_KEY)
    finally:
        sandbox.stop()


@dataclass(frozen=True)
class ReceivedCallback:
    path: str
    content_type: str
    body: dict


class CallbackReceiver:
    """A tiny HTTP server that records every POST it gets (a stand-in for the studio's webhooks)."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.received: list[ReceivedCallback] = []
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._arrived:
                    receiver.received.append(
                        ReceivedCallback(self.path, self.headers.get("Content-Type", ""), json.loads(body))
                    )
                    receiver._arrived.notify_all()
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def wait_for(self, count: int, *, timeout: float = 10.0) -> list[ReceivedCallback]:
        """The first `count` callbacks, waiting for them to arrive; fails the test after timeout."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.received) >= count, timeout=timeout):
                pytest.fail(f"expected {count} callbacks within {timeout} s, got {len(self.received)}")
            return list(self.received[:count])

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def callback_receiver():
    receiver = CallbackReceiver()
    try:
        yield receiver
    finally:
        receiver.close()
