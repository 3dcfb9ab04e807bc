"""Request bodies as Astria's Rails app reads them: multipart or urlencoded fields in bracket
notation (`tune[images][]`, `tune[characteristics][eye_color]`, `tune[prompts_attributes][0][text]`)
and JSON, wrapped (`{"tune": {...}}`) or not.
"""

import json
import re
from dataclasses import dataclass
from email.message import Message
from urllib.parse import parse_qsl

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


class BodyError(ValueError):
    """The body cannot be read at all (answered with 400)."""


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content_type: str
    data: bytes


def _assign(root: dict, tokens: list[str], value) -> None:
    key, rest = tokens[0], tokens[1:]
    if not rest:
        root[key] = value
        return
    if rest[0] == "":
        items = root.get(key)
        if not isinstance(items, list):
            items = root[key] = []
        if len(rest) == 1:
            items.append(value)
            return
        # `a[][text]=1&a[][seed]=2&a[][text]=3`: a new hash starts when the last one has the key.
        sub = rest[1:]
        if not items or not isinstance(items[-1], dict) or sub[0] in items[-1]:
            items.append({})
        _assign(items[-1], sub, value)
        return
    child = root.get(key)
    if not isinstance(child, dict):
        child = root[key] = {}
    _assign(child, rest, value)


def _indexed_to_lists(value):
    """`{"0": {...}, "1": {...}}` (indexed bracket arrays) becomes a list, recursively."""
    if isinstance(value, dict):
        converted = {k: _indexed_to_lists(v) for k, v in value.items()}
        if converted and all(k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    if isinstance(value, list):
        return [_indexed_to_lists(v) for v in value]
    return value


def nest(pairs: list[tuple[str, object]]) -> dict:
    """Turn flat bracket-notation pairs into nested dicts and lists."""
    root: dict = {}
    for name, value in pairs:
        match = _KEY.match(name)
        if not match:
            continue
        tokens = [match.group(1), *_PART.findall(match.group(2))]
        _assign(root, tokens, value)
    return _indexed_to_lists(root)


def _header_params(value: str) -> Message:
    message = Message()
    message["content-disposition"] = value
    return message


def parse_multipart(body: bytes, content_type: str) -> list[tuple[str, object]]:
    """Split a multipart/form-data body into (name, str | UploadedFile) pairs, byte-exact."""
    boundary = _header_params(content_type).get_param("boundary", header="content-disposition")
    if not boundary:
        raise BodyError("multipart body without a boundary")
    delimiter = b"--" + str(boundary).encode("latin-1")
    pairs: list[tuple[str, object]] = []
    chunks = body.split(delimiter)
    if len(chunks) < 2:
        raise BodyError("multipart body without parts")
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        head, separator, data = chunk.partition(b"\r\n\r\n")
        if not separator:
            raise BodyError("malformed multipart part")
        if data.endswith(b"\r\n"):
            data = data[:-2]
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disposition = _header_params(headers.get("content-disposition", ""))
        name = disposition.get_param("name", header="content-disposition")
        if not name:
            continue
        filename = disposition.get_param("filename", header="content-disposition")
        if filename is not None:
            content = headers.get("content-type", "application/octet-stream")
            pairs.append((str(name), UploadedFile(str(filename), content, data)))
        else:
            pairs.append((str(name), data.decode("utf-8", "replace")))
    return pairs


def parse_body(body: bytes, content_type: str, resource: str) -> dict:
    """The attributes of `resource` ("tune" or "prompt") from any body Astria accepts."""
    kind = content_type.split(";")[0].strip().lower()
    if not body:
        return {}
    if kind == "application/json" or (not kind and body.lstrip()[:1] in (b"{", b"[")):
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BodyError(f"invalid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise BodyError("the JSON body must be an object")
        wrapped = data.get(resource)
        return wrapped if isinstance(wrapped, dict) else data
    if kind == "multipart/form-data":
        nested = nest(parse_multipart(body, content_type))
    elif kind in ("application/x-www-form-urlencoded", ""):
        nested = nest(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    else:
        raise BodyError(f"unsupported content type {kind}")
    wrapped = nested.get(resource)
    return wrapped if isinstance(wrapped, dict) else nested


def as_bool(value) -> bool | None:
    """Rails-style booleans: "true"/"1"/"on" and "false"/"0"/"off"; None when absent or blank."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "on", "yes", "t"):
        return True
    if text in ("false", "0", "off", "no", "f"):
        return False
    raise ValueError(f"not a boolean: {value!r}")


def as_int(value) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not an integer: {value!r}")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"not an integer: {value!r}")
        return int(value)
    return int(str(value).strip())


def as_float(value) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    return float(str(value).strip())


def as_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list, UploadedFile)):
        raise ValueError("expected text")
    return str(value)
