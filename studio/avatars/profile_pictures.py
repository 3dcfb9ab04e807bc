"""Profile pictures of a delivered image: square and round crops centred on the face, made here,
free, at a few sizes.

The face is found by the face engine (`studio.faces`) once per image and remembered in the cache
(only its box: no descriptor leaves the engine); a picture without a face is cropped on its
centre. A crop takes the head and shoulders: a square about PROFILE_FACE_SHARE times the face's
width, its centre a little below the face's, kept inside the picture. Round ones are PNGs whose
corners are transparent; square ones JPEGs.
"""

import io
from dataclasses import dataclass

from django.core.cache import cache
from PIL import Image, ImageDraw

from studio import faces
from studio.avatars.models import GeneratedImage

SHAPES = ("square", "round")
SIZES = (400, 800, 1600)
PROFILE_FACE_SHARE = 2.6  # the crop's side over the face box's width
FACE_BOX_KEEP = 30 * 24 * 3600  # seconds: an image never changes, so its face box neither
_NO_FACE = "none"


@dataclass(frozen=True)
class ProfilePicture:
    data: bytes
    content_type: str
    extension: str


def crop_box(width: int, height: int, face: tuple[int, int, int, int] | None) -> tuple[int, int, int, int]:
    """The square (left, top, right, bottom) to cut from a width x height picture: on the face's
    head and shoulders when there is one, else on the picture's centre."""
    short = min(width, height)
    if face is None:
        left, top = (width - short) // 2, (height - short) // 2
        return left, top, left + short, top + short
    x, y, w, h = face
    side = min(short, max(round(w * PROFILE_FACE_SHARE), 1))
    centre_x, centre_y = x + w / 2, y + h * 0.65  # a little below the face: the shoulders show
    left = min(max(round(centre_x - side / 2), 0), width - side)
    top = min(max(round(centre_y - side / 2), 0), height - side)
    return left, top, left + side, top + side


def face_box(image: GeneratedImage, picture: Image.Image) -> tuple[int, int, int, int] | None:
    """The largest face's box in the image's pixels, found once and remembered."""
    key = f"profile-face-box:{image.pk}"
    known = cache.get(key)
    if known is None:
        face = faces.analyse(picture, max_faces=1).largest
        known = list(face.box) if face is not None else _NO_FACE
        cache.set(key, known, FACE_BOX_KEEP)
    return None if known == _NO_FACE else tuple(known)


def profile_picture(image: GeneratedImage, *, shape: str, size: int) -> ProfilePicture:
    """The image cropped on the face to a size x size square, or a circle on a transparent square."""
    if shape not in SHAPES or size not in SIZES:
        raise ValueError(f"no {shape} profile picture of {size} px")
    with image.image.open("rb") as handle:
        picture = Image.open(handle)
        picture.load()
    picture = picture.convert("RGB")
    square = picture.crop(crop_box(picture.width, picture.height, face_box(image, picture)))
    square = square.resize((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if shape == "square":
        square.save(out, format="JPEG", quality=90, optimize=True)
        return ProfilePicture(data=out.getvalue(), content_type="image/jpeg", extension="jpg")
    # The circle is drawn four times larger and scaled down, so its edge is smooth.
    mask = Image.new("L", (size * 4, size * 4), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, size * 4 - 1, size * 4 - 1), fill=255)
    square.putalpha(mask.resize((size, size), Image.Resampling.LANCZOS))
    square.save(out, format="PNG")
    return ProfilePicture(data=out.getvalue(), content_type="image/png", extension="png")
