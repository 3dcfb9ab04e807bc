"""The sandbox's HTTP side: Astria's routes, request bodies, replies and the control routes.

A `ThreadingHTTPServer` whose handler reads the request, picks the route, asks the sandbox's store
and switches (`astria_sandbox.engine.Sandbox`), and answers JSON the way Astria does: `{"error": ...}`
with 401, 404, 422, and the fault replies (500, 429 with Retry-After, a 504 HTML page).
"""

import json
import logging
import re
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from astria_sandbox import render
from astria_sandbox.net import download
from astria_sandbox.params import BodyError, parse_body
from astria_sandbox.store import owner_of
from astria_sandbox.validation import (
    Invalid,
    check_for_branch,
    clean_duplicate,
    clean_prompt,
    clean_prompts_attributes,
    clean_tune,
    clean_tune_update,
)

if TYPE_CHECKING:
    from astria_sandbox.engine import Sandbox

logger = logging.getLogger("astria_sandbox")

PAGE_SIZE = 20
MAX_PAGE_SIZE = 120
MAX_BODY_BYTES = 200 * 1024 * 1024
API_KEY = re.compile(r"^Bearer\s+(sd_[A-Za-z0-9_\-]+)\s*$")


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sandbox: "Sandbox") -> None:
        super().__init__(address, _Handler)
        self.sandbox = sandbox


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
    ("POST", r"/prompts/(\d+)/duplicate", "duplicate_prompt"),
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
    server: SandboxServer

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
    def sandbox(self) -> "Sandbox":
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
            images += [download(url) for url in attrs["image_urls"]]
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
                likeness_fault=self.sandbox.likeness_fault_for(prompt["text"]),
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
            _for_tune(attrs, store.tune_visible(self._owner, tune_id)["branch"])
        except Invalid as exc:
            raise _error(422, str(exc)) from exc
        prompt = store.create_prompt(
            self._owner,
            tune_id,
            attrs,
            prompt_delay=self.sandbox.switch_values()["prompt_delay"],
            fail=self.sandbox.take_prompt_failure(),
            likeness_fault=self.sandbox.likeness_fault_for(attrs["text"]),
        )
        return _Reply(201, prompt)

    def duplicate_prompt(self, prompt_id: int) -> _Reply:
        if (source := self.sandbox.store.duplicate_source(self._owner, prompt_id)) is None:
            raise _not_found()
        try:
            attrs, index = clean_duplicate(source, self._attrs("prompt"), self._attrs(""))
            _for_tune(attrs, source["branch"])
        except Invalid as exc:
            raise _error(422, str(exc)) from exc
        fail, fault = self.sandbox.take_prompt_failure(), self.sandbox.likeness_fault_for(attrs["text"])
        return _Reply(201, self.sandbox.store.create_prompt(
            self._owner, source["tune_id"], attrs, prompt_delay=self.sandbox.switch_values()["prompt_delay"],
            fail=fail, likeness_fault=fault, orig_prompt_id=prompt_id, image_index=index))

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


def _for_tune(attrs: dict, branch: str) -> None:
    """What the tune's model refuses (Invalid), and the input image fetched and checked."""
    check_for_branch(attrs, branch)
    if attrs.get("input_image_url"):
        attrs["input_image"] = download(attrs["input_image_url"])[0]
    if attrs["input_image"] is not None:
        try:
            render.check_training_image(attrs["input_image"])
        except render.UnreadableImage as exc:
            raise Invalid(f"input_image is not a readable image: {exc}") from exc


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
