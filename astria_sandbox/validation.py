"""Checks on tune and prompt attributes, answered by the sandbox with 422 `{"error": ...}`."""

import json
import re
from urllib.parse import urlsplit

from astria_sandbox.params import UploadedFile, as_bool, as_float, as_int, as_text

BRANCHES = ("fast", "flux1", "sd15", "sdxl1")
MODEL_TYPES = ("faceid", "lora", "pti")
STYLES = (
    "Cinematic",
    "Animated",
    "Digital Art",
    "Photographic",
    "Fantasy art",
    "Neonpunk",
    "Enhance",
    "Comic book",
    "Lowpoly",
    "Line art",
)
MAX_TRAINING_IMAGES = 50
# Astria's `aspect_ratio` values (docs: Create a prompt).
ASPECT_RATIOS = ("1:1", "16:9", "9:16", "21:9", "9:21", "3:2", "2:3", "5:4", "4:5", "4:3", "3:4")
# Outpainting (docs: Features, "Flux Outpainting"): the anchors, and the branches it runs on. The
# docs say "For flux" only; refusing it elsewhere with a 422 is inferred, as is `fast` (mock
# images for every prompt) accepting it.
OUTPAINT_ANCHORS = (
    "top-left", "top-right", "bottom-left", "bottom-right", "center",
    "top-center", "bottom-center", "left-center", "right-center",
)
OUTPAINT_BRANCHES = ("flux1", "fast")
OUTPAINT_FLAG = re.compile(r"--outpaint(?!_)\s+(\S+)")
OUTPAINT_SIZE = re.compile(r"--outpaint_(width|height)\s+(\S+)")
MAX_SIDE = 3072
LORA_TAG = re.compile(r"<(lora|faceid):([^:>]+):([0-9.]+)>")


class Invalid(ValueError):
    """Invalid input; the message is what the caller sees in `{"error": ...}`."""


def _callback(value) -> str | None:
    text = as_text(value)
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Invalid("callback must be an http or https URL")
    return text


def _convert(attrs: dict, key: str, convert, message: str):
    try:
        return convert(attrs.get(key))
    except (TypeError, ValueError) as exc:
        raise Invalid(message) from exc


def clean_tune(attrs: dict) -> dict:
    """Validated tune attributes; images are returned as UploadedFile items or URL strings."""
    title = (_convert(attrs, "title", as_text, "title must be text") or "").strip()
    if not title:
        raise Invalid("title can't be blank")
    name = (_convert(attrs, "name", as_text, "name must be text") or "").strip()
    if not name:
        raise Invalid("name can't be blank (the class name, such as man, woman or dog)")

    files = attrs.get("images") or []
    if isinstance(files, UploadedFile):
        files = [files]
    if not isinstance(files, list) or any(not isinstance(f, UploadedFile) for f in files):
        raise Invalid("images must be uploaded files (multipart tune[images][])")
    urls = attrs.get("image_urls") or []
    if isinstance(urls, str):
        urls = [urls]
    if not isinstance(urls, list) or any(not isinstance(u, str) for u in urls):
        raise Invalid("image_urls must be a list of URLs")
    urls = [u.strip() for u in urls if u.strip()]
    for url in urls:
        if urlsplit(url).scheme not in ("http", "https"):
            raise Invalid(f"image_urls must be http or https URLs, got {url[:80]!r}")
    if not files and not urls:
        raise Invalid("no images: send tune[images][] files or tune[image_urls][]")
    if len(files) + len(urls) > MAX_TRAINING_IMAGES:
        raise Invalid(f"too many images: at most {MAX_TRAINING_IMAGES}")

    branch = _convert(attrs, "branch", as_text, "branch must be text") or None
    if branch is not None and branch not in BRANCHES:
        raise Invalid(f"branch {branch!r} is not one of: {', '.join(BRANCHES)}")
    model_type = _convert(attrs, "model_type", as_text, "model_type must be text") or None
    if model_type is not None and model_type not in MODEL_TYPES:
        raise Invalid(f"model_type {model_type!r} is not one of: {', '.join(MODEL_TYPES)} (or empty)")

    characteristics = attrs.get("characteristics")
    if isinstance(characteristics, str) and characteristics.strip():
        try:
            characteristics = json.loads(characteristics)
        except ValueError as exc:
            raise Invalid("characteristics must be a hash or a JSON object") from exc
    if characteristics in (None, ""):
        characteristics = None
    elif not isinstance(characteristics, dict):
        raise Invalid("characteristics must be a hash or a JSON object")

    return {
        "title": title,
        "name": name,
        "files": files,
        "image_urls": urls,
        "branch": branch,
        "model_type": model_type,
        "token": (_convert(attrs, "token", as_text, "token must be text") or "").strip() or None,
        "base_tune_id": _convert(attrs, "base_tune_id", as_int, "base_tune_id must be an integer"),
        "steps": _convert(attrs, "steps", as_int, "steps must be an integer"),
        "face_crop": _convert(attrs, "face_crop", as_bool, "face_crop must be true or false"),
        "callback": _callback(attrs.get("callback")),
        "characteristics": characteristics,
    }


def clean_prompts_attributes(attrs: dict) -> list[dict]:
    """Prompts created together with a tune (`tune[prompts_attributes][]`); they run after training."""
    items = attrs.get("prompts_attributes") or []
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise Invalid("prompts_attributes must be a list of prompts")
    cleaned = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise Invalid(f"prompts_attributes[{index}] must be a prompt")
        try:
            cleaned.append(clean_prompt(item))
        except Invalid as exc:
            raise Invalid(f"prompts_attributes[{index}]: {exc}") from exc
    return cleaned


def clean_tune_update(attrs: dict) -> dict:
    changes = {}
    for key in ("title", "name"):
        if key in attrs:
            value = (_convert(attrs, key, as_text, f"{key} must be text") or "").strip()
            if not value:
                raise Invalid(f"{key} can't be blank")
            changes[key] = value
    return changes


def lora_references(text: str) -> list[int]:
    """Tune ids referenced by `<lora:ID:strength>` and `<faceid:ID:strength>` tags (names skipped)."""
    return [int(ref) for _, ref, _ in LORA_TAG.findall(text) if ref.isdigit()]


def clean_prompt(attrs: dict) -> dict:
    text = (_convert(attrs, "text", as_text, "text must be text") or "").strip()
    if not text:
        raise Invalid("text can't be blank")
    num_images = _convert(attrs, "num_images", as_int, "num_images must be an integer")
    if num_images is None:
        num_images = 8
    if not 1 <= num_images <= 8:
        raise Invalid("num_images must be between 1 and 8")
    sizes = {}
    for key in ("w", "h"):
        value = _convert(attrs, key, as_int, f"{key} must be an integer")
        if value is not None and (value <= 0 or value % 8 or value > 3072):
            raise Invalid(f"{key} must be a positive multiple of 8 (at most 3072)")
        sizes[key] = value
    steps = _convert(attrs, "steps", as_int, "steps must be an integer")
    if steps is not None and not 0 <= steps <= 50:
        raise Invalid("steps must be between 0 and 50")
    cfg_scale = _convert(attrs, "cfg_scale", as_float, "cfg_scale must be a number")
    if cfg_scale is not None and not 0 <= cfg_scale <= 15:
        raise Invalid("cfg_scale must be between 0 and 15")
    seed = _convert(attrs, "seed", as_int, "seed must be an integer")
    if seed is not None and not 0 <= seed < 2**32:
        raise Invalid("seed must be between 0 and 4294967295")
    flags = {
        key: _convert(attrs, key, as_bool, f"{key} must be true or false")
        for key in ("super_resolution", "inpaint_faces", "face_correct", "hires_fix", "film_grain")
    }
    for key in ("inpaint_faces", "hires_fix"):
        if flags[key] and not flags["super_resolution"]:
            raise Invalid(f"{key} requires super_resolution=true")
    style = _convert(attrs, "style", as_text, "style must be text") or None
    if style is not None and style not in STYLES:
        raise Invalid(f"style {style!r} is not one of: {', '.join(STYLES)}")
    aspect_ratio = _convert(attrs, "aspect_ratio", as_text, "aspect_ratio must be text") or None
    if aspect_ratio is not None and aspect_ratio not in ASPECT_RATIOS:
        raise Invalid(f"aspect_ratio {aspect_ratio!r} is not one of: {', '.join(ASPECT_RATIOS)}")
    denoising = _convert(attrs, "denoising_strength", as_float, "denoising_strength must be a number")
    if denoising is not None and not 0 <= denoising <= 1:
        raise Invalid("denoising_strength must be between 0 and 1")
    input_image = attrs.get("input_image")
    if input_image not in (None, "") and not isinstance(input_image, UploadedFile):
        raise Invalid("input_image must be an uploaded file (multipart prompt[input_image])")
    input_url = _convert(attrs, "input_image_url", as_text, "input_image_url must be text") or None
    if input_url is not None and urlsplit(input_url).scheme not in ("http", "https"):
        raise Invalid("input_image_url must be an http or https URL")
    outpaint(text)  # its flags are checked now, and read from the text when the images are painted
    return {
        "text": text,
        "negative_prompt": _convert(attrs, "negative_prompt", as_text, "negative_prompt must be text"),
        "num_images": num_images,
        "seed": seed,
        "steps": steps,
        "cfg_scale": None if cfg_scale is None else f"{cfg_scale:.1f}",
        "w": sizes["w"],
        "h": sizes["h"],
        "ar": (_convert(attrs, "ar", as_text, "ar must be text") or "1:1"),
        "style": style,
        "callback": _callback(attrs.get("callback")),
        "super_resolution": bool(flags["super_resolution"]),
        "inpaint_faces": bool(flags["inpaint_faces"]),
        "face_correct": bool(flags["face_correct"]),
        "hires_fix": bool(flags["hires_fix"]),
        "film_grain": bool(flags["film_grain"]),
        "aspect_ratio": aspect_ratio,
        "denoising_strength": denoising,
        "input_image": input_image.data if isinstance(input_image, UploadedFile) else None,
        "input_image_url": input_url,
        "lora_tune_ids": lora_references(text),
    }


def outpaint(text: str) -> dict | None:
    """The outpainting the text asks for (`--outpaint <anchor> --outpaint_width W
    --outpaint_height H`), or None; Invalid for an unknown anchor or a size that is not a
    positive multiple of 8 (checked as `w` and `h` are, which is inferred)."""
    anchor = OUTPAINT_FLAG.search(text)
    sizes = dict(OUTPAINT_SIZE.findall(text))
    if anchor is None and not sizes:
        return None
    if anchor is None or anchor.group(1) not in OUTPAINT_ANCHORS:
        raise Invalid(f"--outpaint must be one of: {', '.join(OUTPAINT_ANCHORS)}")
    found = {}
    for key in ("width", "height"):
        value = sizes.get(key, "")
        if not value.isdigit() or not 0 < int(value) <= MAX_SIDE or int(value) % 8:
            raise Invalid(f"--outpaint_{key} must be a positive multiple of 8 (at most {MAX_SIDE})")
        found[key] = int(value)
    return {"anchor": anchor.group(1), **found}


def check_for_branch(attrs: dict, branch: str) -> None:
    """What a prompt may ask of its tune's model: outpainting only on Flux (inferred 422)."""
    if outpaint(attrs["text"]) is not None and branch not in OUTPAINT_BRANCHES:
        raise Invalid(f"outpainting (--outpaint) is only available for Flux models, not on branch {branch}")


def clean_duplicate(source: dict, overrides: dict, top: dict) -> tuple[dict, int | None]:
    """`POST /prompts/:id/duplicate`: the source's attributes but those given under `prompt[...]`
    (checked as for a create), and the top-level `image_index`."""
    cleaned = clean_prompt({"text": source["attrs"]["text"], **overrides})
    attrs = source["attrs"] | {key: cleaned[key] for key in overrides if key in cleaned}
    if "text" in overrides:
        attrs["lora_tune_ids"] = cleaned["lora_tune_ids"]
    return attrs, clean_image_index(top.get("image_index"), source=source)


def clean_image_index(value, *, source: dict) -> int | None:
    """A duplicate's `image_index`: one of the source prompt's images (0-based), which must exist."""
    if value is None or value == "":
        return None
    index = _convert({"image_index": value}, "image_index", as_int, "image_index must be an integer")
    if not source["done"]:
        raise Invalid("image_index: the prompt has no images yet")
    if not 0 <= index < source["num_images"]:
        raise Invalid(f"image_index must be between 0 and {source['num_images'] - 1}")
    return index
