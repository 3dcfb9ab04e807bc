import io
import random

from PIL import Image, ImageDraw


def photo_bytes(seed: int = 0, *, size: tuple[int, int] = (640, 800), image_format: str = "JPEG") -> bytes:
    """A small portrait-like picture (a face on a coloured background), different per seed."""
    rng = random.Random(seed)
    width, height = size
    background = tuple(rng.randrange(30, 120) for _ in range(3))
    img = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(img)
    skin = tuple(rng.randrange(150, 240) for _ in range(3))
    draw.ellipse(
        (width * 0.2, height * 0.65, width * 0.8, height * 1.2),
        fill=tuple(rng.randrange(256) for _ in range(3)),
    )
    draw.ellipse((width * 0.3, height * 0.2, width * 0.7, height * 0.6), fill=skin)
    out = io.BytesIO()
    img.save(out, format=image_format)
    return out.getvalue()
