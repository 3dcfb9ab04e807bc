"""Sample photos drawn from nothing: scenes with faces OpenCV's Haar cascade really detects.

Used by `manage.py demo` (an avatar without anyone's real photos) and by the benchmarks.
"""

import io
from functools import cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ONE_FACE = ((0.5, 0.4, 0.34),)
TWO_FACES = ((0.3, 0.4, 0.22), (0.72, 0.4, 0.22))
SMALL_FACE = ((0.5, 0.4, 0.04),)


def _draw_face(draw: ImageDraw.ImageDraw, cx: float, cy: float, width: float) -> None:
    """A face as the cascade sees one: dark brows and eyes, a lighter nose bridge, a mouth."""
    s = width / 220.0

    def box(x0, y0, x1, y1):
        return [cx + (x0 - 300) * s, cy + (y0 - 270) * s, cx + (x1 - 300) * s, cy + (y1 - 270) * s]

    draw.rectangle(box(270, 400, 330, 500), fill=(209, 167, 139))  # neck
    draw.ellipse(box(170, 80, 430, 380), fill=(50, 35, 25))  # hair
    draw.ellipse(box(190, 120, 410, 420), fill=(225, 180, 150))  # face
    draw.rectangle(box(225, 215, 280, 225), fill=(60, 40, 30))
    draw.rectangle(box(320, 215, 375, 225), fill=(60, 40, 30))
    for x0, x1, p0, p1 in ((230, 280, 245, 267), (320, 370, 333, 355)):
        draw.ellipse(box(x0, 240, x1, 265), fill=(250, 250, 250))
        draw.ellipse(box(p0, 242, p1, 263), fill=(40, 30, 20))
    draw.polygon([(cx, cy - 10 * s), (cx - 15 * s, cy + 50 * s), (cx + 15 * s, cy + 50 * s)], fill=(202, 162, 135))
    draw.ellipse(box(260, 345, 340, 370), fill=(150, 60, 60))


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
    short = min(width, height)
    for fx, fy, fraction in faces:
        face_width = fraction * short
        shoulders = tuple(int(v) for v in rng.uniform(30, 110, 3))
        draw.ellipse([fx * width - face_width * 1.2, fy * height + face_width * 0.8,
                      fx * width + face_width * 1.2, fy * height + face_width * 2.6], fill=shoulders)
        _draw_face(draw, fx * width, fy * height, face_width)
    img = img.filter(ImageFilter.GaussianBlur(1))
    noise = rng.normal(0, 5, (height, width, 3))
    return Image.fromarray((np.asarray(img, dtype=np.float64) + noise).clip(0, 255).astype(np.uint8))


def photo(width: int = 640, height: int = 800, *, faces: tuple = ONE_FACE, seed: int = 1) -> Image.Image:
    """A sharp, well-lit RGB picture with the given faces ((centre x, centre y, width/short side))."""
    return _scene(width, height, tuple(faces), seed).copy()


def sample_set(count: int = 6) -> list[tuple[str, bytes]]:
    """The demo's sample photos as JPEG files: one face each, in a different place."""
    photos = []
    for index in range(count):
        buffer = io.BytesIO()
        photo(faces=((0.32 + 0.07 * index, 0.4, 0.3),), seed=40 + index).save(buffer, "JPEG", quality=92)
        photos.append((f"sample-{index + 1}.jpg", buffer.getvalue()))
    return photos
