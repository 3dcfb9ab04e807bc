"""The studio's only door to Astria (or the sandbox, which speaks the same API).

One `requests.Session` per client for connection pooling, `Authorization: Bearer <key>`, an
explicit User-Agent (Cloudflare in front of Astria blocks some library defaults) and a
(connect, read) timeout on every call. Results are `Tune` / `Prompt` values; failures are the
exceptions of `studio.astria.errors` (see there for which ones are transient). The client never
retries: callers decide, with backoff, in their tasks.

    client = get_client()
    tune = client.create_tune(title=str(avatar.pk), name="woman", images=[("1.jpg", data)], ...)
"""

import json
import logging
import mimetypes
import threading
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any

import requests
import urllib3
from django.conf import settings

from studio.astria.errors import (
    AstriaAuthError,
    AstriaError,
    AstriaMaybeCreated,
    AstriaNotConfigured,
    AstriaNotFound,
    AstriaRejected,
    AstriaTransient,
)
from studio.astria.types import Prompt, Tune
from studio.core.redaction import redact_text

logger = logging.getLogger("studio.astria")

PAGE_SIZE = 20
USER_AGENT = f"AvatarStudio/0.1 (Django; python-requests/{requests.__version__})"
MAX_ERROR_BODY = 500

ImageInput = tuple[str, bytes | IO[bytes]]


def _form_value(value: Any) -> str:
    """Rails form encoding: booleans as `true`/`false`, everything else as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when the connection was never made (refused, DNS, TLS), so nothing reached Astria."""
    if isinstance(exc, requests.exceptions.SSLError):
        return True
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _retry_after(response: requests.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


class AstriaClient:
    def __init__(
        self,
        *,
        api_url: str,
        api_key: str,
        timeout: tuple[float, float] = (5.0, 35.0),
        user_agent: str = USER_AGENT,
        session: requests.Session | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self._api_key = api_key
        self._session = session or requests.Session()
        self._session.headers.update(
            {
                "Authorization": f"Bearer {api_key}",
                "User-Agent": user_agent,
                "Accept": "application/json",
            }
        )

    def __repr__(self) -> str:
        return f"AstriaClient(api_url={self.api_url!r})"

    def close(self) -> None:
        self._session.close()

    # --- transport ------------------------------------------------------------------------------
    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        json_body: dict | None = None,
        files: list | None = None,
        creates: bool = False,
    ) -> Any:
        """Send one request and return the decoded JSON body (None when empty), or raise."""
        started = time.monotonic()
        try:
            response = self._session.request(
                method,
                self.api_url + path,
                params=params,
                json=json_body,
                files=files,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.ConnectTimeout as exc:
            self._log(method, path, "connect timeout", started)
            raise AstriaTransient(f"Astria did not accept a connection in time ({method} {path})") from exc
        except requests.Timeout as exc:
            self._log(method, path, "read timeout", started)
            message = f"Astria did not answer in time ({method} {path})"
            if creates:
                raise AstriaMaybeCreated(message + "; the object may have been created") from exc
            raise AstriaTransient(message) from exc
        except requests.ConnectionError as exc:
            self._log(method, path, "connection error", started)
            if creates and not _never_sent(exc):
                raise AstriaMaybeCreated(
                    f"The connection to Astria broke during {method} {path}; the object may have been created"
                ) from exc
            raise AstriaTransient(f"Could not connect to Astria at {self.api_url} ({method} {path})") from exc
        except requests.RequestException as exc:
            self._log(method, path, type(exc).__name__, started)
            raise AstriaError(
                f"The request to Astria failed ({method} {path}): {type(exc).__name__}"
            ) from exc
        self._log(method, path, response.status_code, started)
        if response.status_code >= 300:
            raise self._error(method, path, response, creates=creates)
        if not response.content.strip():
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise AstriaTransient(
                f"Astria answered {response.status_code} to {method} {path} with a body that is not JSON",
                status=response.status_code,
            ) from exc

    def _log(self, method: str, path: str, outcome, started: float) -> None:
        logger.info(
            "astria %s %s -> %s (%.0f ms)", method, path, outcome, (time.monotonic() - started) * 1000
        )

    def _error(self, method: str, path: str, response: requests.Response, *, creates: bool) -> AstriaError:
        status = response.status_code
        body = redact_text(response.text[:MAX_ERROR_BODY], secrets=(self._api_key,)).strip()
        reason = None  # the body's `error`, else its `message`
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict):
            for key in ("error", "message"):
                if data.get(key):
                    value = data[key] if isinstance(data[key], str) else json.dumps(data[key])
                    reason = redact_text(value[:MAX_ERROR_BODY], secrets=(self._api_key,))
                    break
        where = f"{method} {path}"
        if status in (401, 403):
            return AstriaAuthError(
                f"Astria refused the API key ({status}) on {where}", status=status, body=body
            )
        if status == 404:
            return AstriaNotFound(f"Astria has no such object ({where})", status=status, body=body)
        if status == 504 and creates:
            return AstriaMaybeCreated(
                f"Astria timed out (504) on {where}; the object was probably created: "
                "look it up before retrying",
                status=status,
                body=body,
            )
        if status == 429 or status >= 500 or status == 408:
            return AstriaTransient(
                f"Astria answered {status} to {where}" + (f": {reason}" if reason else ""),
                status=status,
                body=body,
                retry_after=_retry_after(response),
            )
        if 300 <= status < 400:
            return AstriaError(f"Astria answered a redirect ({status}) to {where}", status=status, body=body)
        return AstriaRejected(
            f"Astria rejected {where} ({status}): {reason or body or 'no reason given'}",
            status=status,
            body=body,
        )

    def _page(self, path: str, offset: int, params: dict | None = None) -> list[dict]:
        data = self._request("GET", path, params={**(params or {}), "offset": offset})
        if not isinstance(data, list):
            raise AstriaTransient(f"Astria answered GET {path} with something other than a list")
        return data

    def _all_pages(self, path: str, params: dict | None, parse) -> Iterator:
        seen: set[int] = set()
        offset = 0
        while True:
            page = self._page(path, offset, params)
            for item in page:
                obj = parse(item)
                if obj.id not in seen:  # a create during the walk shifts offsets by one
                    seen.add(obj.id)
                    yield obj
            if len(page) < PAGE_SIZE:
                return
            offset += len(page)

    # --- tunes ----------------------------------------------------------------------------------
    def list_tunes(self, offset: int = 0) -> list[Tune]:
        """One page (20, newest first) of this key's tunes."""
        return [Tune.from_api(item) for item in self._page("/tunes", offset)]

    def iter_tunes(self, **filters: str) -> Iterator[Tune]:
        """Every tune of this key, newest first, page after page (filters such as `title=`)."""
        return self._all_pages("/tunes", filters or None, Tune.from_api)

    def find_tune_by_title(self, title: str) -> Tune | None:
        """The newest tune with exactly this title (our job UUID), or None.

        Sends Astria's `title` filter and still compares titles itself, in case the filter is
        ignored. Use it after `AstriaMaybeCreated` before creating again.
        """
        for tune in self.iter_tunes(title=title):
            if tune.title == title:
                return tune
        return None

    def create_tune(
        self,
        *,
        title: str,
        name: str,
        images: Iterable[ImageInput] | None = None,
        image_urls: Iterable[str] | None = None,
        branch: str | None = None,
        token: str | None = None,
        callback: str | None = None,
        steps: int | None = None,
        face_crop: bool | None = None,
        base_tune_id: int | None = None,
        model_type: str | None = None,
        characteristics: dict[str, str] | None = None,
    ) -> Tune:
        """Create a tune from uploaded photos (multipart) or from public image URLs (JSON).

        `images` are (filename, bytes or binary file) pairs. Raises AstriaMaybeCreated when the
        answer did not come back: find the tune by title before trying again.
        """
        images = list(images or [])
        image_urls = list(image_urls or [])
        if bool(images) == bool(image_urls):
            raise ValueError("give either images or image_urls")
        attrs = {
            "title": title,
            "name": name,
            "branch": branch,
            "token": token,
            "callback": callback,
            "steps": steps,
            "face_crop": face_crop,
            "base_tune_id": base_tune_id,
            "model_type": model_type,
        }
        attrs = {key: value for key, value in attrs.items() if value is not None}
        if image_urls:
            body = {**attrs, "image_urls": image_urls}
            if characteristics:
                body["characteristics"] = characteristics
            data = self._request("POST", "/tunes", json_body={"tune": body}, creates=True)
        else:
            parts: list = [(f"tune[{key}]", (None, _form_value(value))) for key, value in attrs.items()]
            for key, value in (characteristics or {}).items():
                parts.append((f"tune[characteristics][{key}]", (None, _form_value(value))))
            for filename, content in images:
                content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
                parts.append(("tune[images][]", (filename, content, content_type)))
            data = self._request("POST", "/tunes", files=parts, creates=True)
        return Tune.from_api(data)

    def get_tune(self, tune_id: int) -> Tune:
        return Tune.from_api(self._request("GET", f"/tunes/{int(tune_id)}"))

    def delete_tune(self, tune_id: int) -> None:
        """Delete the tune, its training photos and model at Astria. AstriaNotFound if already gone."""
        self._request("DELETE", f"/tunes/{int(tune_id)}")

    # --- prompts --------------------------------------------------------------------------------
    def create_prompt(
        self,
        *,
        tune_id: int,
        text: str,
        negative_prompt: str | None = None,
        num_images: int | None = None,
        seed: int | None = None,
        cfg_scale: float | None = None,
        steps: int | None = None,
        super_resolution: bool | None = None,
        inpaint_faces: bool | None = None,
        w: int | None = None,
        h: int | None = None,
        aspect_ratio: str | None = None,
        denoising_strength: float | None = None,
        input_image: ImageInput | None = None,
        callback: str | None = None,
    ) -> Prompt:
        """Queue a prompt on a tune (it waits while the tune trains). For LoRA branches, `tune_id`
        is the base tune and `text` holds `<lora:ID:1>`. `input_image`, a (filename, bytes) pair,
        is uploaded as `prompt[input_image]` (img2img, outpainting, instruction edits).
        AstriaMaybeCreated as for tunes."""
        attrs = {
            "text": text,
            "negative_prompt": negative_prompt,
            "num_images": num_images,
            "seed": seed,
            "cfg_scale": cfg_scale,
            "steps": steps,
            "super_resolution": super_resolution,
            "inpaint_faces": inpaint_faces,
            "w": w,
            "h": h,
            "aspect_ratio": aspect_ratio,
            "denoising_strength": denoising_strength,
            "callback": callback,
        }
        parts = [
            (f"prompt[{key}]", (None, _form_value(value)))
            for key, value in attrs.items()
            if value is not None
        ]
        if input_image is not None:
            filename, content = input_image
            content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
            parts.append(("prompt[input_image]", (filename, content, content_type)))
        return Prompt.from_api(
            self._request("POST", f"/tunes/{int(tune_id)}/prompts", files=parts, creates=True)
        )

    def duplicate_prompt(
        self,
        prompt_id: int,
        *,
        image_index: int | None = None,
        seed: int | None = None,
        num_images: int | None = None,
        super_resolution: bool | None = None,
        callback: str | None = None,
    ) -> Prompt:
        """A new prompt on the source's tune, copying its attributes but those given
        (`POST /prompts/:id/duplicate`); `image_index`, the source's image it starts from, goes at
        the top level. AstriaMaybeCreated as for create_prompt."""
        attrs = {"seed": seed, "num_images": num_images, "super_resolution": super_resolution, "callback": callback}
        parts = [(f"prompt[{key}]", (None, _form_value(value))) for key, value in attrs.items() if value is not None]
        if image_index is not None:
            parts.append(("image_index", (None, str(int(image_index)))))
        return Prompt.from_api(
            self._request("POST", f"/prompts/{int(prompt_id)}/duplicate", files=parts, creates=True)
        )

    def list_prompts(self, tune_id: int, offset: int = 0) -> list[Prompt]:
        """One page (20, newest first) of the tune's prompts."""
        return [Prompt.from_api(item) for item in self._page(f"/tunes/{int(tune_id)}/prompts", offset)]

    def iter_prompts(self, tune_id: int, *, limit: int | None = None) -> Iterator[Prompt]:
        """Every prompt of the tune, newest first, page after page (of `limit`, at most 120, where
        Astria takes it; of 20 where it does not)."""
        params = {"limit": limit} if limit else None
        return self._all_pages(f"/tunes/{int(tune_id)}/prompts", params, Prompt.from_api)

    def get_prompt(self, tune_id: int, prompt_id: int) -> Prompt:
        return Prompt.from_api(self._request("GET", f"/tunes/{int(tune_id)}/prompts/{int(prompt_id)}"))

    def delete_prompt(self, tune_id: int, prompt_id: int) -> None:
        self._request("DELETE", f"/tunes/{int(tune_id)}/prompts/{int(prompt_id)}")

    def like_prompt(self, prompt_id: int) -> None:
        self._request("POST", f"/prompts/{int(prompt_id)}/likes")

    def unlike_prompt(self, prompt_id: int) -> None:
        self._request("DELETE", f"/prompts/{int(prompt_id)}/likes")


_clients = threading.local()


def get_client() -> AstriaClient:
    """The client for the configured Astria: the sandbox (with its fixed key) when ASTRIA_API_KEY is
    unset, the real service otherwise. One client (one connection pool) per thread, rebuilt when the
    settings change.

    Raises AstriaNotConfigured rather than fall back to the sandbox where that is not allowed
    (DEBUG off without ALLOW_ASTRIA_SANDBOX): paid work must never go to a development stand-in.
    """
    if settings.ASTRIA_USES_SANDBOX and not settings.ALLOW_ASTRIA_SANDBOX:
        raise AstriaNotConfigured(
            "ASTRIA_API_KEY is not set, and the local sandbox is for development: set ASTRIA_API_KEY "
            "(or ALLOW_ASTRIA_SANDBOX=1 for a test site)."
        )
    api_key = settings.ASTRIA_SANDBOX_API_KEY if settings.ASTRIA_USES_SANDBOX else settings.ASTRIA_API_KEY
    config = (settings.ASTRIA_API_URL, api_key, settings.ASTRIA_CONNECT_TIMEOUT, settings.ASTRIA_READ_TIMEOUT)
    if getattr(_clients, "config", None) != config:
        if (old := getattr(_clients, "client", None)) is not None:
            old.close()
        _clients.client = AstriaClient(api_url=config[0], api_key=api_key, timeout=(config[2], config[3]))
        _clients.config = config
    return _clients.client
