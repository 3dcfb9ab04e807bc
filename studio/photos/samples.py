"""Sample photos with a real face in them, for `manage.py demo`, the benchmarks, the drills and the
tests: the face engine finds faces in real photographs only.

Every sample is made from one public-domain photograph shipped beside this module
(`sample_data/eileen-collins.jpg`, see its README). `shot(i)` re-takes it: the head turned by a
perspective warp, light from another side, another colour cast and framing. Each shot is a
different picture to the same-shot check (its aligned face differs, not just its crop or
brightness), all are the same person, and together they are not varied enough to please the
variety meter: what a customer's set of real photos needs is more than edits of one picture.
"""

import io
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

SOURCE = Path(__file__).resolve().parent / "sample_data" / "eileen-collins.jpg"
FACE_BOX = (179, 83, 88, 88)  # where the detector finds the face in SOURCE: x, y, width, height

ONE_FACE = ((0.5, 0.4, 0.34),)
TWO_FACES = ((0.3, 0.4, 0.22), (0.72, 0.4, 0.22))
WITH_BYSTANDER = ((0.38, 0.4, 0.3), (0.8, 0.5, 0.18))  # a second, smaller face
SMALL_FACE = ((0.5, 0.4, 0.06),)

# (turn, light, tone): turn moves the nose and the middle of the face sideways, in face widths
# (> 0: towards the picture's right); light darkens one side of the face (> 0: the right side)
# by that share; tone multiplies red, green and blue.
_SHOTS = (
    (0.0, 0.0, (1.0, 1.0, 1.0)),
    (0.12, 0.45, (1.08, 1.0, 0.9)),
    (-0.12, -0.45, (0.92, 1.0, 1.08)),
    (0.2, -0.3, (1.0, 1.0, 1.0)),
    (-0.2, 0.3, (1.1, 1.02, 0.85)),
    (0.05, -0.6, (0.95, 0.97, 1.1)),
    (-0.05, 0.6, (1.05, 1.05, 0.95)),
)
SHOTS = len(_SHOTS)


@cache
def _source() -> Image.Image:
    with Image.open(SOURCE) as img:
        return img.convert("RGB")


@cache
def _shot(index: int) -> Image.Image:
    turn, light, tone = _SHOTS[index % SHOTS]
    pixels = np.asarray(_source(), dtype=np.float32)
    height, width = pixels.shape[:2]
    x, y, w, h = FACE_BOX
    cx, cy = x + w / 2, y + h * 0.6
    columns, rows = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    # A bump of sideways displacement over the face, fading out before its outline: the eyes and
    # nose move while the cheeks and the hair stay, as when a head turns a little.
    bump = np.exp(-(((columns - cx) / (0.32 * w)) ** 2 + ((rows - cy) / (0.45 * h)) ** 2) / 2)
    pixels = _sample(pixels, columns - turn * w * bump, rows)
    if light:
        across = np.clip((columns - cx) / (0.6 * w), -1, 1)  # -1 at the face's left edge, 1 at its right
        near = np.exp(-(((columns - cx) / (1.2 * w)) ** 2 + ((rows - cy) / (1.4 * h)) ** 2) / 2)
        shade = 1 - abs(light) * near * np.clip(across * np.sign(light), 0, 1)
        pixels = pixels * shade[..., None]
    pixels = pixels * np.asarray(tone, dtype=np.float32)
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))


def _sample(pixels: np.ndarray, columns: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Bilinear lookup of pixels at fractional positions (edges clamped)."""
    height, width = pixels.shape[:2]
    columns = columns.clip(0, width - 1.001)
    rows = rows.clip(0, height - 1.001)
    left, top = columns.astype(np.int32), rows.astype(np.int32)
    dx, dy = (columns - left)[..., None], (rows - top)[..., None]
    upper = pixels[top, left] * (1 - dx) + pixels[top, left + 1] * dx
    lower = pixels[top + 1, left] * (1 - dx) + pixels[top + 1, left + 1] * dx
    return upper * (1 - dy) + lower * dy


def shot(index: int, *, size: int = 1024, mirrored: bool = False) -> Image.Image:
    """The index-th re-take of the sample portrait (one of `SHOTS`), `size` px square."""
    img = _shot(index).resize((size, size), Image.Resampling.LANCZOS)
    return ImageOps.mirror(img) if mirrored else img


def _head(index: int, face_width: float) -> tuple[Image.Image, Image.Image]:
    """The head and shoulders of a shot, scaled so the face is `face_width` px wide, with a soft
    oval mask to blend it into a scene."""
    x, y, w, h = FACE_BOX
    box = (x - 0.9 * w, y - 0.7 * h, x + 1.9 * w, y + 2.3 * h)
    crop = _shot(index).crop(tuple(round(v) for v in box))
    factor = face_width / w
    head = crop.resize((max(1, round(crop.width * factor)), max(1, round(crop.height * factor))),
                       Image.Resampling.LANCZOS)
    mask = Image.new("L", head.size, 0)
    ImageDraw.Draw(mask).ellipse([0, 0, head.width, head.height * 1.2], fill=255)
    return head, mask.filter(ImageFilter.GaussianBlur(max(1, head.width // 30)))


@cache
def _scene(width: int, height: int, faces: tuple, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    gx = np.linspace(0, 1, width)[None, :, None]
    gy = np.linspace(0, 1, height)[:, None, None]
    c1, c2 = rng.uniform(70, 190, 3), rng.uniform(70, 190, 3)
    base = c1 * (1 - gx) + c2 * (gx + gy) / 2
    img = Image.fromarray(base.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(40):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(0.02, 0.12) * width
        colour = tuple(int(v) for v in rng.uniform(50, 210, 3))
        shape = draw.rectangle if rng.random() < 0.5 else draw.ellipse
        shape([x, y, x + r, y + r * rng.uniform(0.4, 1.8)], fill=colour)
    img = img.filter(ImageFilter.GaussianBlur(1))
    short = min(width, height)
    for number, (fx, fy, fraction) in enumerate(faces):
        head, mask = _head(seed + number, fraction * short)
        if number % 2:
            head, mask = ImageOps.mirror(head), ImageOps.mirror(mask)
        x, y, w, _ = FACE_BOX
        left = fx * width - (0.9 * w + w / 2) * head.width / (2.8 * w)
        top = fy * height - (0.7 * w + w / 2) * head.width / (2.8 * w)
        img.paste(head, (round(left), round(top)), mask)
    noise = rng.normal(0, 4, (height, width, 3))
    return Image.fromarray((np.asarray(img, dtype=np.float64) + noise).clip(0, 255).astype(np.uint8))


def photo(width: int = 640, height: int = 800, *, faces: tuple = ONE_FACE, seed: int = 1) -> Image.Image:
    """A sharp, well-lit RGB picture of a scene with the given faces ((centre x, centre y,
    width / short side)); the face is the sample person's, from shot `seed` (and the next ones
    for more faces), so different seeds are different shots of one person."""
    return _scene(width, height, tuple(faces), seed).copy()


def sample_set(count: int = 6) -> list[tuple[str, bytes]]:
    """The demo's sample photos as JPEG files: different shots of one person."""
    photos = []
    for index in range(count):
        buffer = io.BytesIO()
        shot(index, size=960 + 16 * index).save(buffer, "JPEG", quality=90)
        photos.append((f"sample-{index + 1}.jpg", buffer.getvalue()))
    return photos
