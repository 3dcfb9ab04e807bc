"""An Astria-compatible HTTP server for development, demos and tests.

It answers the tune, prompt and like routes of Astria's API (an optional `.json` suffix, multipart
with Rails brackets or wrapped JSON bodies, `Authorization: Bearer sd_...`), moves tunes and
prompts through their lifecycle on a background clock (and on every request), POSTs one wrapped
callback per finished tune or prompt, and serves the training photos and the images it renders.

Switches (all changeable at runtime through `POST /_sandbox/faults`):
    training_delay, prompt_delay   seconds until a tune is trained / a started prompt is done
    drop_callbacks                 never deliver callbacks (a studio Astria cannot reach)
    fail_next, fail_status         the next N creates answer 500 or 429 (nothing created) or 504
                                   (created anyway, as Astria's gateway does)
    fail_scope                     "create" (default) or "any" request
    fail_prompts_next              the next N prompts created end with `user_error` and no images
    latency                        seconds to wait before every answer (after the work is done)
    idempotent_titles              a create with a title that exists returns the existing tune

Control routes (no auth, sandbox only): `GET /_sandbox/stats`, `GET|POST /_sandbox/faults`,
`GET /_sandbox/callbacks`, `POST /_sandbox/advance`, `POST /_sandbox/tunes/<id>/train` (finish
that tune's training now).

Nothing here imports the studio: the studio reaches the sandbox over HTTP only.
"""

import json
import logging
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

from studio.sandbox import render
from studio.sandbox.params import BodyError, as_bool, as_float, as_int, parse_body
from studio.sandbox.store import Delivery, Store, owner_of
from studio.sandbox.validation import (
    Invalid,
    clean_prompt,
    clean_prompts_attributes,
    clean_tune,
    clean_tune_update,
)

logger = logging.getLogger("studio.sandbox")

PAGE_SIZE = 20
MAX_PAGE_SIZE = 120
MAX_BODY_BYTES = 200 * 1024 * 1024
MAX_IMAGE_URL_BYTES = 25 * 1024 * 1024
CALLBACK_TIMEOUT = 10
TICK_SECONDS = 0.1
API_KEY = re.compile(r"^Bearer\s+(sd_[A-Za-z0-9_\-]+)\s*$")
REDACT_SEGMENTS = frozenset({"callbacks", "callback", "hooks", "webhooks", "webhook"})
DEFAULT_GALLERY_TUNES = {"sd15": 690204, "sdxl1": 666678, "flux1": 1504944}
FAIL_STATUSES = (429, 500, 504)


def redact_url(url: str) -> str:
    """A callback URL safe to log: no query string, nothing after a /callbacks/-like segment."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "[unparseable URL]"
    segments = parts.path.split("/")
    for index, segment in enumerate(segments):
        if segment.lower() in REDACT_SEGMENTS and index + 1 < len(segments):
            segments = [*segments[: index + 1], "[redacted]"]
            break
    query = "[redacted]" if parts.query else ""
    return urlunsplit((parts.scheme, parts.netloc, "/".join(segments), query, ""))


@dataclass
class Switches:
    training_delay: float = 20.0
    prompt_delay: float = 8.0
    drop_callbacks: bool = False
    fail_next: int = 0
    fail_status: int = 500
    fail_scope: str = "create"
    fail_prompts_next: int = 0
    latency: float = 0.0
    idempotent_titles: bool = False

    def update(self, values: dict) -> None:
        """Apply changes from a control request, all or none; ValueError names the first bad one."""
        converted = {key: self._convert(key, value) for key, value in values.items()}
        for key, value in converted.items():
            setattr(self, key, value)

    def _convert(self, key: str, value):
        kinds = {f.name: f.type for f in fields(self)}
        if key not in kinds:
            raise ValueError(f"unknown switch {key!r}; known: {', '.join(kinds)}")
        kind = kinds[key]
        try:
            if kind is float:
                converted = as_float(value)
                valid = converted is not None and converted >= 0
            elif kind is int:
                converted = as_int(value)
                valid = converted is not None and converted >= 0
            elif kind is bool:
                converted = as_bool(value)
                valid = converted is not None
            else:
                converted = str(value)
                valid = True
        except (TypeError, ValueError):
            valid = False
        if not valid:
            expected = {float: "a number of seconds >= 0", int: "an integer >= 0", bool: "true or false"}
            raise ValueError(f"{key} must be {expected.get(kind, 'text')}")
        if key == "fail_status" and converted not in FAIL_STATUSES:
            raise ValueError(f"fail_status must be one of {', '.join(map(str, FAIL_STATUSES))}")
        if key == "fail_scope" and converted not in ("create", "any"):
            raise ValueError("fail_scope must be create or any")
        return converted


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


class Sandbox:
    """The sandbox: a threaded HTTP server, its store, its clock and its callback sender."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        state_path: str | Path | None = None,
        public_url: str | None = None,
        gallery_tunes: dict[str, int] | None = None,
        tick: float = TICK_SECONDS,
        **switches,
    ) -> None:
        self.switches = Switches()
        self.switches.update(switches)
        self._switch_lock = threading.Lock()
        self.httpd = _Server((host, port), _Handler)
        self.httpd.sandbox = self
        bound_host, bound_port = self.httpd.server_address[:2]
        shown_host = "127.0.0.1" if bound_host in ("0.0.0.0", "") else bound_host  # noqa: S104
        self.url = (public_url or f"http://{shown_host}:{bound_port}").rstrip("/")
        self.port = bound_port
        self.store = Store(
            state_path,
            base_url=self.url,
            gallery_tunes=DEFAULT_GALLERY_TUNES if gallery_tunes is None else gallery_tunes,
        )
        self._tick = tick
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._callbacks = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sandbox-callback")
        self._images: OrderedDict[tuple, bytes] = OrderedDict()
        self._images_lock = threading.Lock()

    # --- running --------------------------------------------------------------------------------
    def start(self) -> "Sandbox":
        """Serve and tick in background threads; returns at once."""
        self._start_clock()
        thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="sandbox-http", daemon=True
        )
        thread.start()
        self._threads.append(thread)
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (the management command)."""
        self._start_clock()
        try:
            self.httpd.serve_forever()
        finally:
            self.stop()

    def _start_clock(self) -> None:
        thread = threading.Thread(target=self._clock, name="sandbox-clock", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _clock(self) -> None:
        while not self._stopping.wait(self._tick):
            try:
                self.advance()
            except Exception:
                if self._stopping.is_set():
                    return
                logger.exception("sandbox clock tick failed")

    def stop(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5)
        self._callbacks.shutdown(wait=False, cancel_futures=True)
        self.store.close()

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- switches and the clock -----------------------------------------------------------------
    def set_switches(self, **values) -> dict:
        with self._switch_lock:
            self.switches.update(values)
            return asdict(self.switches)

    def switch_values(self) -> dict:
        with self._switch_lock:
            return asdict(self.switches)

    def take_fault(self, is_create: bool) -> int | None:
        """The status to fail this request with, consuming one of `fail_next`, or None."""
        with self._switch_lock:
            s = self.switches
            if s.fail_next > 0 and (is_create or s.fail_scope == "any"):
                s.fail_next -= 1
                self.store.count("faults_injected")
                return s.fail_status
            return None

    def take_prompt_failure(self) -> bool:
        with self._switch_lock:
            if self.switches.fail_prompts_next > 0:
                self.switches.fail_prompts_next -= 1
                return True
            return False

    def train_now(self, tune_id: int) -> bool:
        """Finish an untrained tune's training now, whatever its delay; False if there is none."""
        found = self.store.finish_training_now(tune_id)
        if found:
            self.advance()
        return found

    def advance(self) -> None:
        """Move everything whose time has come and send the callbacks now due."""
        drop = self.switch_values()["drop_callbacks"]
        for delivery in self.store.advance(drop_callbacks=drop):
            try:
                self._callbacks.submit(self._deliver, delivery)
            except RuntimeError:  # shutting down
                return

    def _deliver(self, delivery: Delivery) -> None:
        body = json.dumps(delivery.payload).encode()
        request = urllib.request.Request(  # noqa: S310 - callback URLs are http(s), checked on create
            delivery.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "AstriaSandbox/1.0"},
        )
        status, error = None, None
        try:
            with _opener.open(request, timeout=CALLBACK_TIMEOUT) as response:
                status = response.status
                response.read(64 * 1024)
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, OSError, ValueError) as exc:
            error = type(exc).__name__ + ": " + str(getattr(exc, "reason", exc))
        logger.info(
            "sandbox %s %s callback to %s: %s",
            delivery.kind,
            delivery.object_id,
            redact_url(delivery.url),
            status if status is not None else error,
        )
        try:
            self.store.record_delivery(delivery, status=status, error=error)
        except Exception:  # the store closed while the callback was in flight
            if not self._stopping.is_set():
                raise

    # --- images ---------------------------------------------------------------------------------
    def prompt_image(self, prompt_id: int, file_key: str, index: int) -> bytes | None:
        cache_key = (prompt_id, file_key, index)
        with self._images_lock:
            if cache_key in self._images:
                self._images.move_to_end(cache_key)
                return self._images[cache_key]
        source = self.store.prompt_render_input(prompt_id, file_key)
        if source is None or not 0 <= index < source["num_images"]:
            return None
        data = render.render_prompt_image(index=index, **source)
        with self._images_lock:
            self._images[cache_key] = data
            while len(self._images) > 48:
                self._images.popitem(last=False)
        return data


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sandbox: Sandbox


class _Reply(Exception):
    def __init__(
        self, status: int, body=None, *, content_type="application/json; charset=utf-8", headers=None
    ):
        super().__init__(status)
        self.status, self.body, self.content_type = status, body, content_type
        self.headers = headers or {}


def _error(status: int, message: str) -> _Reply:
    return _Reply(status, {"error": message})


def _not_found() -> _Reply:
    return _error(404, "Not found")


ROUTES = [
    ("GET", r"/tunes", "list_tunes"),
    ("POST", r"/tunes", "create_tune"),
    ("GET", r"/gallery/tunes", "gallery_tunes"),
    ("GET", r"/tunes/(\d+)", "get_tune"),
    ("PATCH", r"/tunes/(\d+)", "update_tune"),
    ("PUT", r"/tunes/(\d+)", "update_tune"),
    ("DELETE", r"/tunes/(\d+)", "delete_tune"),
    ("GET", r"/tunes/(\d+)/prompts", "list_prompts"),
    ("POST", r"/tunes/(\d+)/prompts", "create_prompt"),
    ("GET", r"/tunes/(\d+)/prompts/(\d+)", "get_prompt"),
    ("DELETE", r"/tunes/(\d+)/prompts/(\d+)", "delete_prompt"),
    ("GET", r"/prompts", "list_all_prompts"),
    ("GET", r"/prompts/(\d+)", "get_prompt_alone"),
    ("DELETE", r"/prompts/(\d+)", "delete_prompt_alone"),
    ("POST", r"/prompts/(\d+)/likes?", "like"),
    ("DELETE", r"/prompts/(\d+)/likes?", "unlike"),
]
COMPILED = [(method, re.compile(f"^{pattern}$"), name) for method, pattern, name in ROUTES]
CREATES = frozenset({"create_tune", "create_prompt"})
FILE_ROUTES = [
    (re.compile(r"^/files/tunes/(\d+)/([0-9a-f]+)/(\d+)$"), "tune_file"),
    (re.compile(r"^/files/prompts/(\d+)/([0-9a-f]+)/(\d+)\.jpg$"), "prompt_file"),
    (re.compile(r"^/files/ckpt/(\d+)/([0-9a-f]+)$"), "ckpt_file"),
]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AstriaSandbox/1.0"
    server: _Server

    # --- plumbing -------------------------------------------------------------------------------
    def setup(self):
        super().setup()
        # Headers and body go out in two writes; without this, keep-alive clients wait on Nagle.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format, *args):
        logger.debug("sandbox %s", format % args)

    def log_request(self, code="-", size="-"):
        logger.debug("sandbox %s %s -> %s", self.command, urlsplit(self.path).path, code)

    def do_GET(self):
        self._dispatch("GET")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def do_POST(self):
        self._dispatch("POST")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    @property
    def sandbox(self) -> Sandbox:
        return self.server.sandbox

    def _send(self, reply: _Reply) -> None:
        body = reply.body
        if body is None:
            payload = b""
        elif isinstance(body, bytes):
            payload = body
        elif isinstance(body, str):
            payload = body.encode()
        else:
            payload = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(reply.status)
        if payload or reply.body is not None:
            self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            raise _Reply(411, {"error": "send a Content-Length"}, headers={"Connection": "close"})
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise _Reply(413, {"error": "the request body is too large"}, headers={"Connection": "close"})
        return self.rfile.read(length) if length else b""

    def _dispatch(self, method: str) -> None:
        try:
            self._body = self._read_body()
            parts = urlsplit(self.path)
            self._query = parse_qs(parts.query)
            path = parts.path.rstrip("/") or "/"
            if path.endswith(".json") and not path.startswith("/files/"):
                path = path[: -len(".json")]
            reply = self._route(method, path)
        except _Reply as answer:
            reply = answer
        except Exception:
            logger.exception("sandbox failed on %s %s", method, urlsplit(self.path).path)
            reply = _error(500, "Internal server error")
        latency = self.sandbox.switch_values()["latency"]
        if latency:
            time.sleep(latency)
        try:
            self._send(reply)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _route(self, method: str, path: str) -> _Reply:
        if path == "/":
            return _Reply(
                200,
                "Astria sandbox: an Astria-compatible API for development and tests.\n",
                content_type="text/plain; charset=utf-8",
            )
        if path.startswith("/_sandbox/"):
            return self._control(method, path)
        if path.startswith("/files/"):
            if method not in ("GET", "HEAD"):
                raise _not_found()
            for pattern, name in FILE_ROUTES:
                if match := pattern.match(path):
                    return getattr(self, name)(*match.groups())
            raise _not_found()

        self.sandbox.store.count("requests")
        match = re.match(API_KEY, self.headers.get("Authorization", ""))
        if not match:
            raise _Reply(
                401,
                "HTTP Token: Access denied.\n",
                content_type="text/plain; charset=utf-8",
                headers={"WWW-Authenticate": 'Bearer realm="Application"'},
            )
        self._owner = owner_of(match.group(1))
        for route_method, pattern, route_name in COMPILED:
            if route_method == method and (found := pattern.match(path)):
                name = route_name
                break
        else:
            raise _not_found()

        status = self.sandbox.take_fault(name in CREATES)
        if status in (429, 500):
            raise _fault_reply(status)
        self.sandbox.advance()
        reply = getattr(self, name)(*(int(group) for group in found.groups()))
        if status == 504:
            return _fault_reply(504)
        return reply

    def _page(self) -> tuple[int, int, int | None]:
        try:
            offset = int(self._query.get("offset", ["0"])[0] or 0)
            limit = int(self._query.get("limit", [str(PAGE_SIZE)])[0] or PAGE_SIZE)
            before = self._query.get("before_id", [""])[0]
            before_id = int(before) if before else None
        except ValueError as exc:
            raise _error(400, "offset, limit and before_id must be integers") from exc
        if offset < 0 or limit < 1:
            raise _error(400, "offset must be >= 0 and limit >= 1")
        return offset, min(limit, MAX_PAGE_SIZE), before_id

    def _attrs(self, resource: str) -> dict:
        try:
            return parse_body(self._body, self.headers.get("Content-Type", ""), resource)
        except BodyError as exc:
            raise _error(400, f"could not read the request body: {exc}") from exc

    # --- tunes ----------------------------------------------------------------------------------
    def list_tunes(self) -> _Reply:
        offset, limit, before_id = self._page()
        filters = {
            key: self._query[key][0]
            for key in ("title", "branch", "model_type", "name")
            if key in self._query
        }
        return _Reply(
            200,
            self.sandbox.store.list_tunes(
                self._owner, offset=offset, limit=limit, filters=filters, before_id=before_id
            ),
        )

    def gallery_tunes(self) -> _Reply:
        return _Reply(200, self.sandbox.store.list_gallery())

    def create_tune(self) -> _Reply:
        store = self.sandbox.store
        try:
            raw = self._attrs("tune")
            attrs = clean_tune(raw)
            prompts = clean_prompts_attributes(raw)
            for prompt in prompts:
                for referenced in prompt["lora_tune_ids"]:
                    if store.tune_visible(self._owner, referenced) is None:
                        raise Invalid(f"the tune {referenced} referenced in a prompt was not found")
            base_branch = None
            if attrs["base_tune_id"] is not None:
                base = store.tune_visible(self._owner, attrs["base_tune_id"])
                if base is None:
                    raise Invalid(f"base_tune_id {attrs['base_tune_id']} not found")
                base_branch = base["branch"]
            images = [(f.data, f.content_type) for f in attrs["files"]]
            images += [_download(url) for url in attrs["image_urls"]]
            for number, (data, _) in enumerate(images, start=1):
                try:
                    render.check_training_image(data)
                except render.UnreadableImage as exc:
                    raise Invalid(f"image {number} is not a readable image: {exc}") from exc
        except Invalid as exc:
            raise _error(422, str(exc)) from exc
        switches = self.sandbox.switch_values()
        if switches["idempotent_titles"]:
            existing = store.find_tune_by_title(self._owner, attrs["title"])
            if existing is not None:
                return _Reply(201, existing)
        tune = store.create_tune(
            self._owner, attrs, images, training_delay=switches["training_delay"], base_branch=base_branch
        )
        for prompt in prompts:
            store.create_prompt(
                self._owner,
                tune["id"],
                prompt,
                prompt_delay=switches["prompt_delay"],
                fail=self.sandbox.take_prompt_failure(),
            )
        logger.info("sandbox tune %s created (%s images, branch %s)", tune["id"], len(images), tune["branch"])
        return _Reply(201, tune)

    def get_tune(self, tune_id: int) -> _Reply:
        tune = self.sandbox.store.get_tune(self._owner, tune_id)
        if tune is None:
            raise _not_found()
        return _Reply(200, tune)

    def update_tune(self, tune_id: int) -> _Reply:
        try:
            changes = clean_tune_update(self._attrs("tune"))
        except Invalid as exc:
            raise _error(422, str(exc)) from exc
        tune = self.sandbox.store.update_tune(self._owner, tune_id, changes)
        if tune is None:
            raise _not_found()
        return _Reply(200, tune)

    def delete_tune(self, tune_id: int) -> _Reply:
        if not self.sandbox.store.delete_tune(self._owner, tune_id):
            raise _not_found()
        return _Reply(200)

    # --- prompts --------------------------------------------------------------------------------
    def list_prompts(self, tune_id: int) -> _Reply:
        if self.sandbox.store.tune_visible(self._owner, tune_id) is None:
            raise _not_found()
        offset, limit, _ = self._page()
        return _Reply(200, self.sandbox.store.list_prompts(self._owner, tune_id, offset=offset, limit=limit))

    def list_all_prompts(self) -> _Reply:
        offset, limit, _ = self._page()
        return _Reply(200, self.sandbox.store.list_prompts(self._owner, None, offset=offset, limit=limit))

    def create_prompt(self, tune_id: int) -> _Reply:
        store = self.sandbox.store
        if store.tune_visible(self._owner, tune_id) is None:
            raise _not_found()
        try:
            attrs = clean_prompt(self._attrs("prompt"))
            for referenced in attrs["lora_tune_ids"]:
                if store.tune_visible(self._owner, referenced) is None:
                    raise Invalid(f"the tune {referenced} referenced in the text was not found")
        except Invalid as exc:
            raise _error(422, str(exc)) from exc
        prompt = store.create_prompt(
            self._owner,
            tune_id,
            attrs,
            prompt_delay=self.sandbox.switch_values()["prompt_delay"],
            fail=self.sandbox.take_prompt_failure(),
        )
        return _Reply(201, prompt)

    def get_prompt(self, tune_id: int, prompt_id: int) -> _Reply:
        prompt = self.sandbox.store.get_prompt(self._owner, prompt_id, tune_id)
        if prompt is None:
            raise _not_found()
        return _Reply(200, prompt)

    def get_prompt_alone(self, prompt_id: int) -> _Reply:
        prompt = self.sandbox.store.get_prompt(self._owner, prompt_id)
        if prompt is None:
            raise _not_found()
        return _Reply(200, prompt)

    def delete_prompt(self, tune_id: int, prompt_id: int) -> _Reply:
        if not self.sandbox.store.delete_prompt(self._owner, prompt_id, tune_id):
            raise _not_found()
        return _Reply(200, {"message": "Prompt successfully deleted"})

    def delete_prompt_alone(self, prompt_id: int) -> _Reply:
        if not self.sandbox.store.delete_prompt(self._owner, prompt_id):
            raise _not_found()
        return _Reply(200, {"message": "Prompt successfully deleted"})

    def like(self, prompt_id: int) -> _Reply:
        if not self.sandbox.store.set_like(self._owner, prompt_id, True):
            raise _not_found()
        return _Reply(201)

    def unlike(self, prompt_id: int) -> _Reply:
        if not self.sandbox.store.set_like(self._owner, prompt_id, False):
            raise _not_found()
        return _Reply(200)

    # --- files ----------------------------------------------------------------------------------
    def tune_file(self, tune_id: str, file_key: str, index: str) -> _Reply:
        found = self.sandbox.store.tune_file(int(tune_id), file_key, int(index))
        if found is None:
            raise _not_found()
        data, content_type = found
        return _Reply(200, data, content_type=content_type, headers={"Cache-Control": "public, max-age=3600"})

    def prompt_file(self, prompt_id: str, file_key: str, index: str) -> _Reply:
        data = self.sandbox.prompt_image(int(prompt_id), file_key, int(index))
        if data is None:
            raise _not_found()
        return _Reply(200, data, content_type="image/jpeg", headers={"Cache-Control": "public, max-age=3600"})

    def ckpt_file(self, tune_id: str, file_key: str) -> _Reply:
        if not self.sandbox.store.checkpoint_exists(int(tune_id), file_key):
            raise _not_found()
        return _Reply(
            200, f"sandbox checkpoint for tune {tune_id}\n".encode(), content_type="application/octet-stream"
        )

    # --- control --------------------------------------------------------------------------------
    def _control(self, method: str, path: str) -> _Reply:
        sandbox = self.sandbox
        if path == "/_sandbox/stats" and method in ("GET", "HEAD"):
            return _Reply(200, sandbox.store.stats() | {"switches": sandbox.switch_values()})
        if path == "/_sandbox/faults" and method in ("GET", "HEAD"):
            return _Reply(200, sandbox.switch_values())
        if path == "/_sandbox/faults" and method == "POST":
            try:
                values = json.loads(self._body or b"{}")
                if not isinstance(values, dict):
                    raise ValueError("send a JSON object of switches")
                return _Reply(200, sandbox.set_switches(**values))
            except ValueError as exc:
                raise _error(422, str(exc)) from exc
        if path == "/_sandbox/callbacks" and method in ("GET", "HEAD"):
            return _Reply(200, sandbox.store.callback_log())
        if path == "/_sandbox/advance" and method == "POST":
            sandbox.advance()
            return _Reply(200, {"status": "ok"})
        if (match := re.match(r"^/_sandbox/tunes/(\d+)/train$", path)) and method == "POST":
            if not sandbox.train_now(int(match.group(1))):
                raise _error(404, "no untrained tune with that id")
            return _Reply(200, {"status": "ok"})
        raise _not_found()


def _fault_reply(status: int) -> _Reply:
    if status == 429:
        return _Reply(429, {"error": "Too many requests, slow down"}, headers={"Retry-After": "1"})
    if status == 504:
        return _Reply(
            504,
            "<html><body><h1>504 Gateway Time-out</h1></body></html>\n",
            content_type="text/html; charset=utf-8",
        )
    return _Reply(500, {"status": 500, "error": "Internal Server Error"})


def _download(url: str) -> tuple[bytes, str]:
    """Fetch one of `image_urls`, as Astria does; Invalid when it cannot be fetched."""
    request = urllib.request.Request(url, headers={"User-Agent": "AstriaSandbox/1.0"})  # noqa: S310
    try:
        with _opener.open(request, timeout=15) as response:
            data = response.read(MAX_IMAGE_URL_BYTES + 1)
            content_type = response.headers.get("Content-Type", "application/octet-stream")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise Invalid(f"could not download {redact_url(url)}: {getattr(exc, 'reason', exc)}") from exc
    if len(data) > MAX_IMAGE_URL_BYTES:
        raise Invalid(f"the image at {redact_url(url)} is larger than {MAX_IMAGE_URL_BYTES // 2**20} MB")
    return data, content_type
