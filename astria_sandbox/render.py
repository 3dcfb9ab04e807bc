"""Images the sandbox "generates": a styled crop of one of the tune's training photos.

The look is picked from the prompt's words (noir, vintage, neon, watercolour, sketch, comic,
fantasy, winter, summer, forest, space, pixel, business...), so different prompts give clearly
different galleries, and every image is a deterministic function of the prompt and its index.
"""

import hashlib
import io
import random
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

SIZE = 1024
# Someone else's face, for the likeness fault (data/README.md says whose).
STRANGER = Path(__file__).resolve().parent / "data" / "grace-hopper.jpg"
TRAINING_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")


class UnreadableImage(ValueError):
    pass


def check_training_image(data: bytes) -> tuple[int, int]:
    """The decoded size of an uploaded training photo; UnreadableImage if Pillow cannot decode it."""
    try:
        with Image.open(io.BytesIO(data), formats=TRAINING_FORMATS) as img:
            img.load()
            return img.size
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise UnreadableImage(str(exc) or "cannot decode the image") from exc


def _rng(*parts) -> random.Random:
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


@lru_cache(maxsize=8)
def _decoded(data: bytes) -> Image.Image:
    """A training photo, upright and at most about 1.4x the output size (a few MB in memory)."""
    limit = (SIZE * 7 // 5, SIZE * 7 // 5)
    with Image.open(io.BytesIO(data), formats=TRAINING_FORMATS) as img:
        img.draft("RGB", limit)
        img = ImageOps.exif_transpose(img).convert("RGB")
        img.thumbnail(limit)
        return img


def _crop(photo: Image.Image, rng: random.Random) -> Image.Image:
    width, height = photo.size
    side = int(min(width, height) * rng.uniform(0.62, 0.95))
    cx = width / 2 + rng.uniform(-0.12, 0.12) * width
    cy = height * rng.uniform(0.38, 0.55)
    left = int(min(max(cx - side / 2, 0), width - side))
    top = int(min(max(cy - side / 2, 0), height - side))
    img = photo.crop((left, top, left + side, top + side)).resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    if rng.random() < 0.5:
        img = ImageOps.mirror(img)
    return img


def _abstract(rng: random.Random) -> Image.Image:
    """A soft two-colour field for prompts with no training photos (a bare base tune)."""
    start = tuple(rng.randrange(40, 220) for _ in range(3))
    end = tuple(rng.randrange(40, 220) for _ in range(3))
    gradient = Image.linear_gradient("L").resize((SIZE, SIZE)).rotate(rng.uniform(0, 360))
    img = ImageOps.colorize(gradient, start, end)
    draw = ImageDraw.Draw(img)
    for _ in range(12):
        r = rng.randrange(40, 220)
        x, y = rng.randrange(SIZE), rng.randrange(SIZE)
        colour = tuple(rng.randrange(256) for _ in range(3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    return img.filter(ImageFilter.GaussianBlur(40))


def _vignette(img: Image.Image, strength: float = 0.55, colour=(0, 0, 0)) -> Image.Image:
    mask = Image.radial_gradient("L").resize(img.size)
    mask = mask.point(lambda v: int(min(255, v * strength * 1.4)))
    return Image.composite(Image.new("RGB", img.size, colour), img, mask)


def _noise(rng: random.Random, size: int, spread: float = 0.5) -> Image.Image:
    """Grey noise around mid-grey, from the seeded generator (Pillow's own noise is not seedable)."""
    noise = Image.frombytes("L", (size, size), rng.randbytes(size * size))
    return noise.point(lambda v: int(128 + (v - 128) * spread))


def _grain(img: Image.Image, rng: random.Random, amount: float = 0.25) -> Image.Image:
    noise = _noise(rng, SIZE // 2).resize(img.size, Image.Resampling.BILINEAR).convert("RGB")
    return Image.blend(img, ImageChops.overlay(img, noise), amount)


def _glow(img: Image.Image, radius: int = 18, amount: float = 0.45) -> Image.Image:
    return Image.blend(img, ImageChops.screen(img, img.filter(ImageFilter.GaussianBlur(radius))), amount)


def _specks(img, rng, count, colour, size=(2, 6), blur=1.2):
    layer = Image.new("RGB", img.size, (0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for _ in range(count):
        r = rng.uniform(*size)
        x, y = rng.uniform(0, SIZE), rng.uniform(0, SIZE)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    return ImageChops.screen(img, layer.filter(ImageFilter.GaussianBlur(blur)))


def _tint(img: Image.Image, dark, mid, light, keep: float = 0.25) -> Image.Image:
    toned = ImageOps.colorize(ImageOps.grayscale(img), dark, light, mid=mid)
    return Image.blend(toned, img, keep)


def noir(img, rng):
    gray = ImageOps.autocontrast(ImageOps.grayscale(img), cutoff=2)
    img = ImageEnhance.Contrast(gray.convert("RGB")).enhance(1.5)
    return _vignette(_grain(img, rng, 0.35), 0.75)


def vintage(img, rng):
    img = _tint(img.filter(ImageFilter.GaussianBlur(1.2)), "#2b1a0a", "#a97c50", "#f4e4c1", keep=0.15)
    return _vignette(_grain(ImageEnhance.Contrast(img).enhance(0.85), rng, 0.4), 0.7, (40, 25, 10))


def neon(img, rng):
    img = _tint(ImageOps.autocontrast(img), "#0d0221", "#ff2a9d", "#35f0ff", keep=0.45)
    lines = Image.new("RGB", img.size, (10, 0, 30))
    mask = Image.new("L", img.size, 0)
    draw = ImageDraw.Draw(mask)
    for y in range(0, SIZE, 6):
        draw.line((0, y, SIZE, y), fill=90, width=1)
    return _glow(Image.composite(lines, img, mask), 14, 0.5)


def watercolour(img, rng):
    small = img.resize((192, 192), Image.Resampling.BILINEAR).filter(ImageFilter.ModeFilter(7))
    washes = small.filter(ImageFilter.GaussianBlur(2)).resize((SIZE, SIZE), Image.Resampling.BICUBIC)
    washes = ImageEnhance.Color(Image.blend(washes, Image.new("RGB", img.size, "#fbf6ea"), 0.3)).enhance(1.4)
    edges = ImageOps.grayscale(washes).filter(ImageFilter.FIND_EDGES)
    rims = ImageOps.invert(ImageOps.autocontrast(edges).filter(ImageFilter.GaussianBlur(2))).convert("RGB")
    paper = _noise(rng, SIZE // 8, 0.5).resize((SIZE, SIZE), Image.Resampling.BICUBIC)
    paper = ImageOps.colorize(paper, "#c9b99a", "#fffdf5")
    painted = ImageChops.multiply(ImageChops.multiply(washes, rims), paper)
    # The face shows through the washes, as a painted portrait keeps its sitter's features.
    return Image.blend(painted, ImageChops.multiply(img, paper), 0.4)


def sketch(img, rng):
    gray = ImageOps.grayscale(img).filter(ImageFilter.GaussianBlur(1.5))
    lines = ImageOps.autocontrast(gray.filter(ImageFilter.CONTOUR), cutoff=3)
    lines = ImageEnhance.Contrast(lines).enhance(1.6)
    shading = ImageOps.autocontrast(ImageOps.grayscale(img))
    return ImageOps.colorize(ImageChops.multiply(lines, Image.blend(lines, shading, 0.45)), "#2a2a33", "#f7f4ec")


def comic(img, rng):
    flat = ImageEnhance.Color(ImageOps.posterize(img.filter(ImageFilter.SMOOTH_MORE), 2)).enhance(2.2)
    edges = ImageOps.grayscale(img).filter(ImageFilter.GaussianBlur(2)).filter(ImageFilter.FIND_EDGES)
    outline = ImageOps.invert(ImageOps.autocontrast(edges).point(lambda v: 255 if v > 60 else 0))
    flat = ImageChops.multiply(flat, outline.convert("RGB"))
    dots = Image.new("L", (SIZE, SIZE), 255)
    draw = ImageDraw.Draw(dots)
    for y in range(0, SIZE, 12):
        for x in range((y // 12 % 2) * 6, SIZE, 12):
            draw.ellipse((x, y, x + 3, y + 3), fill=200)
    return ImageChops.multiply(flat, dots.convert("RGB"))


def fantasy(img, rng):
    img = _tint(img, "#1b0b3a", "#9b59d0", "#ffe29a", keep=0.35)
    return _specks(_glow(img, 24, 0.55), rng, 140, (255, 236, 170), (1.5, 5), 1.5)


def winter(img, rng):
    img = _tint(img, "#0b2540", "#7fb2e5", "#f4fbff", keep=0.4)
    return _specks(ImageEnhance.Brightness(img).enhance(1.08), rng, 400, (255, 255, 255), (1.5, 5), 1.0)


def summer(img, rng):
    warm = Image.linear_gradient("L").resize((SIZE, SIZE))
    glow = ImageOps.colorize(warm, "#ffb347", "#ff5e62")
    img = Image.blend(img, ImageChops.soft_light(img, glow), 0.85)
    return _vignette(ImageEnhance.Color(img).enhance(1.25), 0.45, (80, 20, 0))


def forest(img, rng):
    return _vignette(_tint(img, "#0f2612", "#4f8f3a", "#e8f5c8", keep=0.45), 0.5, (5, 20, 5))


def space(img, rng):
    img = _tint(ImageEnhance.Brightness(img).enhance(0.8), "#02030f", "#2c3e8f", "#cfe0ff", keep=0.3)
    img = _specks(img, rng, 600, (255, 255, 255), (0.6, 2.2), 0.6)
    return _glow(img, 20, 0.3)


def business(img, rng):
    img = ImageEnhance.Contrast(ImageOps.autocontrast(img, cutoff=1)).enhance(1.08)
    img = ImageEnhance.Sharpness(img).enhance(1.6)
    return _vignette(Image.blend(img, Image.new("RGB", img.size, "#8a9bb0"), 0.12), 0.35, (40, 50, 65))


def pixel(img, rng):
    blocks = rng.choice((40, 48, 56))
    small = ImageOps.posterize(img.resize((blocks, blocks), Image.Resampling.BILINEAR), 3)
    return small.resize((SIZE, SIZE), Image.Resampling.NEAREST)


def tinted(img, rng, *, hue_seed: str = ""):
    pick = _rng("tint", hue_seed)
    dark = tuple(pick.randrange(0, 80) for _ in range(3))
    light = tuple(pick.randrange(170, 256) for _ in range(3))
    mid = tuple((a + b) // 2 + pick.randrange(-40, 40) for a, b in zip(dark, light, strict=True))
    mid = tuple(min(255, max(0, v)) for v in mid)
    return _vignette(_grain(_tint(img, dark, mid, light, keep=0.35), rng, 0.2), 0.4)


Effect = Callable[[Image.Image, random.Random], Image.Image]

# The first style whose words appear in the prompt wins; the order puts specific looks first.
STYLES: list[tuple[str, tuple[str, ...], Effect]] = [
    ("sketch", ("sketch", "pencil", "charcoal", "drawing", "line art", "ink"), sketch),
    ("pixel", ("pixel", "8-bit", "8 bit", "mosaic", "lowpoly", "low poly", "voxel", "retro game"), pixel),
    ("comic", ("comic", "pop art", "cartoon", "anime", "manga", "superhero", "graphic novel"), comic),
    ("neon", ("neon", "cyberpunk", "synthwave", "vaporwave", "blade runner", "futuristic city"), neon),
    ("noir", ("noir", "black and white", "black-and-white", "monochrome", "b&w", "detective"), noir),
    (
        "vintage",
        ("vintage", "retro", "sepia", "1920s", "1950s", "victorian", "film", "polaroid", "old"),
        vintage,
    ),
    (
        "watercolour",
        (
            "watercolor",
            "watercolour",
            "painting",
            "painted",
            "oil",
            "impressionist",
            "renaissance",
            "gouache",
            "pastel",
            "art nouveau",
        ),
        watercolour,
    ),
    ("space", ("space", "astronaut", "galaxy", "cosmic", "sci-fi", "star", "nebula", "planet"), space),
    (
        "fantasy",
        (
            "fantasy",
            "magic",
            "wizard",
            "elf",
            "fairy",
            "dragon",
            "medieval",
            "knight",
            "enchanted",
            "royal",
            "queen",
            "king",
            "princess",
        ),
        fantasy,
    ),
    ("winter", ("winter", "snow", "ice", "frozen", "christmas", "arctic", "ski"), winter),
    ("summer", ("summer", "beach", "sunset", "golden hour", "tropical", "warm", "desert", "autumn"), summer),
    ("forest", ("forest", "garden", "nature", "jungle", "woods", "park", "hiking", "meadow"), forest),
    (
        "business",
        (
            "business",
            "corporate",
            "linkedin",
            "headshot",
            "professional",
            "office",
            "suit",
            "studio portrait",
            "studio lighting",
            "blazer",
        ),
        business,
    ),
]


def pick_style(text: str) -> tuple[str, Effect]:
    lowered = " " + re.sub(r"\s+", " ", text.lower()) + " "
    for name, words, effect in STYLES:
        if any(re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", lowered) for word in words):
            return name, effect
    return "tinted", lambda img, rng: tinted(img, rng, hue_seed=text)


def _label(img: Image.Image, text: str) -> Image.Image:
    draw = ImageDraw.Draw(img, "RGBA")
    font = ImageFont.load_default(size=22)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    pad = 10
    box = (16, SIZE - 16 - (bottom - top) - 2 * pad, 16 + (right - left) + 2 * pad, SIZE - 16)
    draw.rounded_rectangle(box, radius=8, fill=(0, 0, 0, 140))
    draw.text((box[0] + pad - left, box[1] + pad - top), text, font=font, fill=(255, 255, 255, 230))
    return img


def faulty(likeness_fault: dict | None, *, prompt_id: int, seed: int | None, index: int, num_images: int) -> str:
    """"no_face" or "stranger" when this image is one of the share the likeness fault paints
    wrong ("" otherwise): round(share x num_images) of them, picked by the prompt and its seed."""
    if not likeness_fault:
        return ""
    order = list(range(num_images))
    _rng("likeness-fault", prompt_id, seed).shuffle(order)
    return likeness_fault["mode"] if index in order[: round(likeness_fault["share"] * num_images)] else ""


def render_prompt_image(
    *, photos: list[bytes], text: str, prompt_id: int, index: int, num_images: int, seed: int | None,
    likeness_fault: dict | None = None,
) -> bytes:
    """One generated image: 1024x1024 JPEG bytes, identical for the same arguments. With a
    likeness fault, some are painted without the subject (an empty scene) or from someone else."""
    rng = _rng(prompt_id, index, seed, text)
    fault = faulty(likeness_fault, prompt_id=prompt_id, seed=seed, index=index, num_images=num_images)
    if fault == "no_face":
        base = _abstract(rng)
    elif fault == "stranger":
        base = _crop(_decoded(STRANGER.read_bytes()), rng)
    elif photos:
        photo = photos[(_rng(prompt_id, seed).randrange(len(photos)) + index) % len(photos)]
        try:
            base = _crop(_decoded(photo), rng)
        except (OSError, ValueError, Image.DecompressionBombError):
            base = _abstract(rng)
    else:
        base = _abstract(rng)
    style, effect = pick_style(text)
    img = effect(base, rng).convert("RGB")
    img = ImageEnhance.Brightness(img).enhance(rng.uniform(0.94, 1.06))
    note = {"no_face": " · no face (fault)", "stranger": " · someone else (fault)"}.get(fault, "")
    img = _label(img, f"sandbox · {style} · prompt {prompt_id} · {index + 1}/{num_images}{note}")
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=88, optimize=True)
    return out.getvalue()


def upscaled(data: bytes, factor: int) -> bytes:
    """A generated image `factor` times larger each way, as super resolution returns it."""
    with Image.open(io.BytesIO(data), formats=("JPEG",)) as img:
        img = img.convert("RGB").resize((img.width * factor, img.height * factor), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=88)
    return out.getvalue()
