"""Opening, checking and re-encoding untrusted images.

Pure functions on bytes and Pillow images: no Django, no database. Uploaded photos go through
them, and so do the images the studio downloads from Astria.

The usual sequence::

    img = open_untrusted_image(data, max_pixels=50_000_000)   # header only: format, size, frames
    img = normalise(img, long_side=2048)                       # decode, orient, sRGB, resize
    jpeg = encode_jpeg(img, quality=90)                        # a fresh file, no metadata
    thumb = make_webp_thumbnail(img, 400)

Formats are decided by Pillow's decoders restricted to an allow-list, never by file name or the
content type a client claims. Every problem with the file itself raises `ImageRefused`, whose
message is written for the person who sent the file.
"""

from __future__ import annotations

import io
import re
import struct
from typing import BinaryIO

import numpy as np
import pillow_heif
from PIL import Image, ImageCms, UnidentifiedImageError

pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
ACCEPTED_FORMATS_TEXT = "JPEG, PNG, WebP or HEIC"
FORMAT_LABELS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "HEIF": "HEIC"}

# JPEG draft decoding scales by 1/2, 1/4 or 1/8. A result a little under the target long side is
# better than decoding at the next size up and resizing: 4032 px becomes 2016 px, not 2048.
DRAFT_SLACK = 0.9
_SNIFF_BYTES = 2048
_SRGB = ImageCms.createProfile("sRGB")


class ImageRefused(ValueError):
    """The file cannot be used. `code` is stable for programs, `message` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- Opening ---------------------------------------------------------------------------------


def open_untrusted_image(
    source: bytes | BinaryIO,
    *,
    max_pixels: int,
    formats: tuple[str, ...] = ALLOWED_FORMATS,
    allow_animated: bool = False,
) -> Image.Image:
    """Open an image from an untrusted source, reading its header but no pixels.

    Refuses, before anything is decoded: empty files, anything that is not one of `formats`
    (with a plain description of what it is instead when we can tell), images with more than
    `max_pixels` pixels (decompression bombs) and, unless allowed, animations or image sequences.
    The returned image is lazy: `normalise()` decodes it, which also catches truncated files.
    """
    owns_file = isinstance(source, bytes | bytearray | memoryview)
    fp = io.BytesIO(source) if owns_file else source
    start = fp.tell()
    head = fp.read(_SNIFF_BYTES)
    fp.seek(start)
    if not head:
        raise ImageRefused("empty", "This file is empty (0 bytes). Try adding it again.")
    try:
        img = Image.open(fp, formats=formats)
    # Pillow raises past twice its own limit (and past its limit when warnings are errors);
    # our lower cap is checked just below, still before any pixel is decoded.
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(None, max_pixels) from None
    except UnidentifiedImageError:
        raise _not_a_photo(head) from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, RuntimeError):
        raise _damaged() from None
    width, height = img.size
    if width * height > max_pixels:
        _discard(img, owns_file=owns_file)
        raise _too_many_pixels((width, height), max_pixels)
    # A multi-picture JPEG (MPO: Ultra HDR gain maps, depth maps, previews) is a still photo: its
    # first picture is the photo itself.
    if not allow_animated and img.format != "MPO" and getattr(img, "n_frames", 1) > 1:
        _discard(img, owns_file=owns_file)
        raise ImageRefused(
            "animated",
            "This is an animation or a set of several pictures. Add a single still photo instead.",
        )
    return img


def _discard(img: Image.Image, *, owns_file: bool) -> None:
    # Image.close() closes the file it reads from, even one Pillow was handed: a caller's upload
    # must stay open, since the caller still has to rewind it, report on it or read the next part.
    if owns_file:
        img.close()


def oriented_size(img: Image.Image) -> tuple[int, int]:
    """Width and height as the picture will stand once its EXIF orientation is applied."""
    width, height = img.size
    return (height, width) if exif_orientation(img) in (5, 6, 7, 8) else (width, height)


def exif_orientation(img: Image.Image) -> int:
    try:
        value = img.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block must not make the picture unusable
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _too_many_pixels(size: tuple[int, int] | None, max_pixels: int) -> ImageRefused:
    limit = f"{max_pixels / 1_000_000:.0f} megapixels"
    what = f"{size[0]:,} by {size[1]:,} pixels" if size else "far too large"
    return ImageRefused(
        "too_many_pixels",
        f"This image is {what}, more than the {limit} we accept. "
        "Export a smaller copy (a normal phone or camera photo is fine).",
    )


def _damaged() -> ImageRefused:
    return ImageRefused(
        "damaged",
        "This file is damaged or incomplete, so the picture cannot be read. It may not have "
        "finished copying or downloading: try again with the original photo.",
    )


_KNOWN_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"BM", "a BMP image"),
    (b"8BPS", "a Photoshop file"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive or office document"),
    (b"MZ", "a program"),
    (b"\x7fELF", "a program"),
    (b"\x00\x00\x01\x00", "an icon file"),
)


def _not_a_photo(head: bytes) -> ImageRefused:
    kind = next((label for magic, label in _KNOWN_SIGNATURES if head.startswith(magic)), None)
    if kind is None and head[4:12] in (b"ftypavif", b"ftypavis"):
        kind = "an AVIF image"
    if kind is None and (_MARKUP.search(head) or head.lstrip()[:5].lower() in (b"<?xml", b"<svg ", b"<svg>")):
        kind = "a web page or SVG drawing"
    if kind:
        return ImageRefused(
            "unsupported_format", f"This file is {kind}, not a photo we can use. "
            f"Add photos in {ACCEPTED_FORMATS_TEXT} format."
        )
    return ImageRefused(
        "not_an_image",
        f"This file is not a picture we can read. Add photos in {ACCEPTED_FORMATS_TEXT} format.",
    )


# --- Content smuggled beside the picture -----------------------------------------------------

# What a browser's content sniffing, a PDF reader or an unzip tool would act on. Matched only in
# the first bytes of the file and after the picture's logical end, never inside compressed
# pixel data, where such byte sequences can occur by chance.
_MARKUP = re.compile(
    rb"<\s*(?:script|html|head>|body|iframe|object|embed|svg[\s>/]|!doctype|\?php|a\s+href)"
    rb"|%PDF-|PK\x03\x04",
    re.IGNORECASE,
)


def find_smuggled_content(data: bytes, image_format: str) -> str | None:
    """Describe a document hidden in an image file (a polyglot), or None if there is none.

    Looks at the first 2 KiB, where browsers sniff, and at everything stored after the
    picture's logical end (after IEND, EOI, the RIFF chunk or the last ISO box).
    """
    end = _logical_end(data, image_format)
    for region in (data[:_SNIFF_BYTES], data[end:] if end is not None else b""):
        if match := _MARKUP.search(region):
            token = match.group(0).lower()
            if token.startswith(b"%pdf"):
                return "a PDF document"
            if token.startswith(b"pk"):
                return "a ZIP archive"
            return "a web page or script"
    return None


def _logical_end(data: bytes, image_format: str) -> int | None:
    try:
        if image_format == "PNG":
            return _png_end(data)
        if image_format in ("JPEG", "MPO"):
            return _jpeg_end(data)
        if image_format == "WEBP":
            (size,) = struct.unpack_from("<I", data, 4)
            return min(len(data), 8 + size + (size & 1))
        if image_format == "HEIF":
            return _isobmff_end(data)
    except struct.error:
        return None
    return None


def _png_end(data: bytes) -> int | None:
    pos = 8
    while pos + 8 <= len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        chunk_type = data[pos + 4 : pos + 8]
        pos += 12 + length
        if chunk_type == b"IEND":
            return pos
    return None


def _jpeg_end(data: bytes) -> int | None:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker == 0xD9:
            return pos + 2
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if marker == 0xDA:  # start of scan: entropy-coded data never holds FF D9, so EOI is next
            eoi = data.find(b"\xff\xd9", pos + 2 + length)
            return eoi + 2 if eoi >= 0 else None
        pos += 2 + length
    return None


def _isobmff_end(data: bytes) -> int | None:
    pos = 0
    while pos + 8 <= len(data):
        size, box_type = struct.unpack_from(">I4s", data, pos)
        if not box_type.isascii():
            return pos
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, pos + 8)
        elif size == 0:
            return len(data)
        if size < 8:
            return pos
        pos += size
    return min(pos, len(data))


# --- Decoding and normalisation --------------------------------------------------------------


def normalise(img: Image.Image, *, long_side: int) -> Image.Image:
    """Decode an image opened by `open_untrusted_image` into a new, upright sRGB RGB image.

    - JPEGs are decoded at 1/2, 1/4 or 1/8 scale when that still gives about `long_side`
      pixels (libjpeg's DCT scaling: much less work and memory than a full decode);
    - the whole picture is decoded, so a truncated or corrupt file raises `ImageRefused`;
    - the EXIF orientation is applied to the pixels (HEIF decoders apply it themselves);
    - 16-bit, palette, grey, CMYK and transparent images become 8-bit RGB (transparency on
      white), and an embedded colour profile is converted to sRGB;
    - the longest side is capped at `long_side`;
    - the result carries no metadata at all (`info` is empty), so nothing can leak on save.
    """
    if img.format in ("JPEG", "MPO"):
        width, height = img.size
        scale = long_side / max(width, height)
        if scale < 1:
            wanted = (max(1, int(width * scale * DRAFT_SLACK)), max(1, int(height * scale * DRAFT_SLACK)))
            img.draft(None, wanted)
    icc_profile = img.info.get("icc_profile")
    orientation = exif_orientation(img)
    try:
        img.load()
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, RuntimeError):
        raise _damaged() from None
    result = img.transpose(_TRANSPOSE[orientation]) if orientation != 1 else img
    result = to_srgb_rgb(result, icc_profile=icc_profile)
    if result is img:
        result = img.copy()  # never hand back the file-backed image: closing it would destroy ours
    if max(result.size) > long_side:
        result.thumbnail((long_side, long_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
    result.info = {}
    return result


_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def to_srgb_rgb(img: Image.Image, *, icc_profile: bytes | None = None) -> Image.Image:
    """8-bit RGB in sRGB: converts through the embedded colour profile when there is one."""
    if img.mode.startswith("I;16") or img.mode == "I":
        # 16-bit grey: keep the top 8 bits (a plain convert would clip everything above 255).
        img = Image.fromarray((np.asarray(img, dtype=np.uint32) >> 8).astype(np.uint8))
    elif img.mode == "F":
        img = Image.fromarray(np.clip(np.asarray(img), 0, 255).astype(np.uint8))
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("LA", "La", "PA", "RGBa", "RGBA"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba).convert("RGB")
    if icc_profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            if img.mode == "RGB" and ImageCms.getProfileDescription(source).startswith("sRGB"):
                return img
            converted = ImageCms.profileToProfile(img, source, _SRGB, outputMode="RGB")
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a broken or mismatched profile: fall back to a plain conversion
    return img if img.mode == "RGB" else img.convert("RGB")


# --- Encoding --------------------------------------------------------------------------------


def encode_jpeg(img: Image.Image, *, quality: int = 90) -> bytes:
    """A fresh baseline JPEG of an RGB image: no EXIF, GPS, XMP, ICC profile or comment."""
    return _encode(img, "JPEG", quality=quality, exif=b"", comment=b"", xmp=b"", icc_profile=None)


def make_webp_thumbnail(img: Image.Image, size: int, *, quality: int = 80) -> bytes:
    """A WebP whose longest side is at most `size` pixels, with no metadata."""
    thumb = img.copy()
    thumb.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return _encode(thumb, "WEBP", quality=quality, method=4, exif=b"", xmp=b"", icc_profile=None)


def _encode(img: Image.Image, image_format: str, **params) -> bytes:
    # Every metadata parameter is passed explicitly (empty), so nothing from the source image's
    # `info` or a stray `encoderinfo` can reach the file.
    if img.mode != "RGB":
        img = img.convert("RGB")
    buffer = io.BytesIO()
    img.save(buffer, image_format, **params)
    return buffer.getvalue()
