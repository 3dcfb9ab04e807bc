"""Images the sandbox makes from an input image: outpainting and edits by instruction.

- Outpainting (`--outpaint <anchor> --outpaint_width W --outpaint_height H`): a W x H canvas with
  the picture at the anchor, scaled down only if it does not fit, and the new area painted as a
  soft, darker continuation of the picture's own colours.
- An instruction ("a navy blazer instead", "plain grey background"): the picture with the change
  painted in: the colour the words name (or one picked from them) laid over the background when
  they speak of a background, else over the lower part of the picture, where clothes are.

Both are deterministic functions of their arguments, and say what they are in a corner label.
"""

import hashlib
import io
import re

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageOps

COLOURS = {
    "navy": (28, 40, 72),
    "black": (20, 20, 22),
    "white": (240, 240, 236),
    "grey": (128, 128, 128),
    "gray": (128, 128, 128),
    "charcoal": (60, 62, 66),
    "red": (170, 30, 36),
    "burgundy": (110, 24, 40),
    "pink": (230, 140, 170),
    "orange": (230, 120, 30),
    "yellow": (235, 205, 60),
    "beige": (214, 196, 160),
    "brown": (110, 74, 44),
    "green": (40, 120, 60),
    "teal": (20, 120, 120),
    "blue": (40, 90, 180),
    "purple": (100, 50, 140),
}
BACKGROUND_WORDS = ("background", "backdrop", "behind", "wall", "scene", "setting")


def _open(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as img:
        return ImageOps.exif_transpose(img).convert("RGB")


def _jpeg(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=88)
    return out.getvalue()


def _label(img: Image.Image, text: str) -> Image.Image:
    """The label at the top left (the picture edited may carry its own at the bottom)."""
    draw = ImageDraw.Draw(img, "RGBA")
    font = ImageFont.load_default(size=max(14, min(img.size) // 40))
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    pad = 10
    box = (16, 16, 16 + (right - left) + 2 * pad, 16 + (bottom - top) + 2 * pad)
    draw.rounded_rectangle(box, radius=8, fill=(0, 0, 0, 140))
    draw.text((box[0] + pad - left, box[1] + pad - top), text, font=font, fill=(255, 255, 255, 230))
    return img


def position(anchor: str, canvas: tuple[int, int], size: tuple[int, int]) -> tuple[int, int]:
    """Where a picture of `size` goes on the canvas for an outpainting anchor (`top-center`...)."""
    free_x, free_y = canvas[0] - size[0], canvas[1] - size[1]
    x = 0 if "left" in anchor else free_x if "right" in anchor else free_x // 2
    y = 0 if anchor.startswith("top") else free_y if anchor.startswith("bottom") else free_y // 2
    return x, y


def outpainted(data: bytes, *, anchor: str, width: int, height: int, note: str) -> bytes:
    """The picture on a width x height canvas at the anchor, the rest painted around it."""
    picture = _open(data)
    picture.thumbnail((width, height), Image.Resampling.LANCZOS)  # only ever smaller
    scale = max(width / picture.width, height / picture.height)
    cover = picture.resize((round(picture.width * scale) + 1, round(picture.height * scale) + 1))
    left, top = (cover.width - width) // 2, (cover.height - height) // 2
    canvas = cover.crop((left, top, left + width, top + height)).filter(ImageFilter.GaussianBlur(48))
    canvas = Image.blend(canvas, Image.new("RGB", canvas.size, (24, 24, 28)), 0.25)
    # A feathered edge, so the painted area flows into the picture.
    mask = Image.new("L", picture.size, 0)
    feather = max(4, min(picture.size) // 24)
    ImageDraw.Draw(mask).rectangle((feather, feather, picture.width - feather, picture.height - feather), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(feather / 2))
    canvas.paste(picture, position(anchor, canvas.size, picture.size), mask)
    return _jpeg(_label(canvas, f"sandbox · outpaint {anchor} {width}x{height} · {note}"))


def _colour(text: str) -> tuple[int, int, int]:
    lowered = text.lower()
    for name, colour in COLOURS.items():
        if re.search(rf"\b{name}\b", lowered):
            return colour
    digest = hashlib.sha256(lowered.encode()).digest()
    return digest[0], digest[1], digest[2]


def instructed(data: bytes, *, text: str, note: str) -> bytes:
    """The picture with the instruction painted in (see the module's docstring)."""
    picture = _open(data)
    width, height = picture.size
    colour = Image.new("RGB", picture.size, _colour(text))
    shaded = ImageChops.multiply(colour, ImageOps.autocontrast(ImageOps.grayscale(picture)).convert("RGB"))
    shaded = Image.blend(shaded, colour, 0.35)
    mask = Image.new("L", picture.size, 0)
    draw = ImageDraw.Draw(mask)
    if any(word in text.lower() for word in BACKGROUND_WORDS):
        # Everything but the head and shoulders in the middle.
        draw.rectangle((0, 0, width, height), fill=255)
        draw.ellipse((width * 0.22, height * 0.08, width * 0.78, height * 0.78), fill=0)
        draw.rectangle((width * 0.12, height * 0.62, width * 0.88, height), fill=0)
    else:
        draw.rectangle((0, height * 0.64, width, height), fill=255)
    edited = Image.composite(shaded, picture, mask.filter(ImageFilter.GaussianBlur(max(2, width // 60))))
    words = " ".join(text.split(".")[0].split()[:8])  # the instruction's first sentence
    return _jpeg(_label(edited, f"sandbox · edit: {words} · {note}"))
