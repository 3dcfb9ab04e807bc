"""Real photographs that packages ship with their wheels, and edits of them.

Never downloaded: scikit-image bundles `astronaut.png` (Eileen Collins, NASA, public domain),
`coffee.png` and `chelsea.png` (CC0); matplotlib bundles `sample_data/grace_hopper.jpg` (a US Navy
portrait of Grace Hopper, public domain). Each is loaded, and each edit analysed, once per process.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

import matplotlib
import numpy as np
import skimage
from PIL import Image, ImageEnhance, ImageOps

from studio import faces

SKIMAGE_DATA = Path(skimage.__file__).parent / "data"
MATPLOTLIB_DATA = Path(matplotlib.__file__).parent / "mpl-data" / "sample_data"
FILES = {
    "astronaut": SKIMAGE_DATA / "astronaut.png",
    "hopper": MATPLOTLIB_DATA / "grace_hopper.jpg",
    "coffee": SKIMAGE_DATA / "coffee.png",
    "chelsea": SKIMAGE_DATA / "chelsea.png",
}


@functools.cache
def _original(name: str) -> Image.Image:
    with Image.open(FILES[name]) as img:
        return img.convert("RGB")


# Edits that leave one picture one picture: what a customer's six copies of one selfie are.
EDITS = ("original", "flipped", "cropped", "flipped_cropped", "brighter", "darker", "smaller", "recompressed",
         "warmer")


def photograph(name: str, edit: str = "original", *, min_side: int = 768) -> Image.Image:
    """A photograph, edited, and scaled up so its shorter side is at least `min_side` (the
    intake refuses photos under 512 px, which these small samples are, or become once cropped)."""
    return _edited(name, edit, min_side).copy()


@functools.cache
def _edited(name: str, edit: str, min_side: int) -> Image.Image:
    img = _original(name)
    width, height = img.size
    crop = (round(width * 0.08), 0, width, round(height * 0.9))
    img = {
        "original": lambda: img,
        "flipped": lambda: ImageOps.mirror(img),
        "cropped": lambda: img.crop(crop),
        "flipped_cropped": lambda: ImageOps.mirror(img.crop(crop)),
        "brighter": lambda: ImageEnhance.Brightness(img).enhance(1.25),
        "darker": lambda: ImageEnhance.Brightness(img).enhance(0.75),
        "smaller": lambda: img.resize((width * 3 // 4, height * 3 // 4), Image.Resampling.LANCZOS),
        "recompressed": lambda: _recompressed(img),
        "warmer": lambda: Image.fromarray((np.asarray(img, dtype=np.float32) * [1.1, 1.0, 0.85]).clip(0, 255)
                                          .astype(np.uint8)),
    }[edit]()
    factor = max(1.0, min_side / min(img.size))
    return img.resize((round(img.width * factor), round(img.height * factor)), Image.Resampling.LANCZOS)


def _recompressed(img: Image.Image) -> Image.Image:
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=40)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def jpeg(name: str, edit: str = "original") -> bytes:
    buffer = io.BytesIO()
    photograph(name, edit).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


@functools.cache
def analysis(name: str, edit: str = "original") -> faces.Analysis:
    return faces.analyse(photograph(name, edit))


def face(name: str, edit: str = "original") -> faces.Face:
    found = analysis(name, edit).largest
    assert found is not None, f"no face found in {name} ({edit})"
    return found
