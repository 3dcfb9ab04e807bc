"""The sandbox itself: its HTTP server, its store, its switches, its clock and its callbacks.

Tunes and prompts move through their lifecycle on a background clock (and on every request), one
wrapped callback is POSTed per finished tune or prompt, and the images are rendered on demand.

Switches (all changeable at runtime through `POST /_sandbox/faults`):
    training_delay, prompt_delay   seconds until a tune is trained / a started prompt is done
    drop_callbacks                 never deliver callbacks (a studio Astria cannot reach)
    fail_next, fail_status         the next N creates answer 500 or 429 (nothing created) or 504
                                   (created anyway, as Astria's gateway does)
    fail_scope                     "create" (default) or "any" request
    fail_prompts_next              the next N prompts created end with `user_error` and no images
    latency                        seconds to wait before every answer (after the work is done)
    idempotent_titles              a create with a title that exists returns the existing tune
    likeness_fault                 "no_face" or "stranger": prompts created from now on paint a
                                   share of their images without the subject's face, or with
                                   someone else's ("off" by default)
    likeness_fault_share           that share of each such prompt's images, 0 to 1 (0.75)
    likeness_fault_match           only prompts whose text holds these words (any prompt if empty)
"""

import json
import logging
import threading
import urllib.error
import urllib.request
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from astria_sandbox import clock, edit_render, render
from astria_sandbox.clock import Delivery
from astria_sandbox.http import SandboxServer
from astria_sandbox.net import opener, origin
from astria_sandbox.params import as_bool, as_float, as_int
from astria_sandbox.store import Store
from astria_sandbox.validation import outpaint

logger = logging.getLogger("astria_sandbox")

CALLBACK_TIMEOUT = 10
TICK_SECONDS = 0.1
# The base models, and a partner edit model (Gemini) that edits an input image by instruction.
DEFAULT_GALLERY_TUNES = {"sd15": 690204, "sdxl1": 666678, "flux1": 1504944, "partner-1": 3618064}
FAIL_STATUSES = (429, 500, 504)
LIKENESS_FAULTS = ("off", "no_face", "stranger")


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
    likeness_fault: str = "off"
    likeness_fault_share: float = 0.75
    likeness_fault_match: str = ""

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
        if key == "likeness_fault" and converted not in LIKENESS_FAULTS:
            raise ValueError(f"likeness_fault must be one of {', '.join(LIKENESS_FAULTS)}")
        if key == "likeness_fault_share" and converted > 1:
            raise ValueError("likeness_fault_share must be a share from 0 to 1")
        return converted


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
        self.httpd = SandboxServer((host, port), self)
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
        """Serve in this thread until interrupted (`python -m astria_sandbox`, the manage.py command)."""
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

    def likeness_fault_for(self, text: str) -> dict | None:
        """The likeness fault a prompt with this text is created with, or None."""
        with self._switch_lock:
            s = self.switches
            if s.likeness_fault == "off" or s.likeness_fault_share <= 0:
                return None
            if s.likeness_fault_match and s.likeness_fault_match.lower() not in text.lower():
                return None
            self.store.count("likeness_faults")
            return {"mode": s.likeness_fault, "share": s.likeness_fault_share}

    def train_now(self, tune_id: int) -> bool:
        """Finish an untrained tune's training now, whatever its delay; False if there is none."""
        found = self.store.finish_training_now(tune_id)
        if found:
            self.advance()
        return found

    def advance(self) -> None:
        """Move everything whose time has come and send the callbacks now due."""
        drop = self.switch_values()["drop_callbacks"]
        for delivery in clock.advance(self.store, drop_callbacks=drop):
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
            with opener.open(request, timeout=CALLBACK_TIMEOUT) as response:
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
            origin(delivery.url),
            status if status is not None else error,
        )
        try:
            clock.record_delivery(self.store, delivery, status=status, error=error)
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
        reuse, scale = source.pop("reuse", None), source.pop("scale", 1)
        input_image, layout = source.pop("input_image", None), outpaint(source["text"])
        if reuse is not None:  # a duplicate re-using its source's image: that very image
            source["num_images"] = reuse["num_images"]
        note = f"prompt {prompt_id} · {index + 1}/{source['num_images']}"
        if input_image is not None and layout is None:  # an edit of the picture, as the text says
            data = edit_render.instructed(input_image, text=source["text"], note=note)
        else:
            data = input_image or render.render_prompt_image(index=reuse["index"] if reuse else index, **source)
        if layout is not None:
            data = edit_render.outpainted(data, **layout, note=note)
        if scale > 1:
            data = render.upscaled(data, scale)
        with self._images_lock:
            self._images[cache_key] = data
            while len(self._images) > 48:
                self._images.popitem(last=False)
        return data
