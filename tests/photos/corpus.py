"""A generated corpus of good, bad and hostile image files for the photo intake tests.

Nothing is downloaded: every file is made here, and the faces in them are the sample portrait's
(`studio.photos.samples`, a real photograph), so the face checks run on the real detector.
"""

from __future__ import annotations

import functools
import io
import struct
import zlib

import numpy as np
import pillow_heif
from PIL import Image, ImageDraw, ImageFilter

from studio.photos.samples import (  # noqa: F401 (part of the corpus)
    ONE_FACE,
    SMALL_FACE,
    TWO_FACES,
    WITH_BYSTANDER,
    photo,
)

pillow_heif.register_heif_opener()

# A marker written into every kind of metadata; it must never reach a stored file.
SECRET = "HOME-51.5007N-0.1246W"
XMP_GPS = (
    '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" '
    f'exif:GPSLatitude="51,30.04N" exif:GPSLongitude="0,7.48W" exif:UserComment="{SECRET}"/>'
    '</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
).encode()

def encode(img: Image.Image, image_format: str = "JPEG", **params) -> bytes:
    buffer = io.BytesIO()
    if image_format == "JPEG":
        params.setdefault("quality", 92)
    img.save(buffer, image_format, **params)
    return buffer.getvalue()


def jpeg(img: Image.Image | None = None, **params) -> bytes:
    return encode(img or photo(), "JPEG", **params)


# --- Orientation -----------------------------------------------------------------------------

# The transform that turns upright pixels into what a camera stores with each orientation tag
# (the inverse of what a viewer applies).
STORE_AS = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}
CORNER_COLOURS = {"top_left": (230, 20, 20), "top_right": (20, 200, 20), "bottom_left": (20, 40, 230)}


def upright_marked(width: int = 600, height: int = 800) -> Image.Image:
    """A portrait picture with coloured blocks in three corners, to check which way is up."""
    img = photo(width, height, faces=ONE_FACE, seed=7)
    draw = ImageDraw.Draw(img)
    block = width // 6
    draw.rectangle([0, 0, block, block], fill=CORNER_COLOURS["top_left"])
    draw.rectangle([width - block, 0, width, block], fill=CORNER_COLOURS["top_right"])
    draw.rectangle([0, height - block, block, height], fill=CORNER_COLOURS["bottom_left"])
    return img


def oriented(orientation: int, image_format: str = "JPEG") -> bytes:
    upright = upright_marked()
    transform = STORE_AS[orientation]
    stored = upright if transform is None else upright.transpose(transform)
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(stored, image_format, exif=exif.tobytes())


# --- Metadata --------------------------------------------------------------------------------


def exif_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010E] = f"Taken at {SECRET}"  # ImageDescription
    exif[0x013B] = "Ada Example"  # Artist
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (51.0, 30.0, 2.52)
    gps[3] = "W"
    gps[4] = (0.0, 7.0, 28.56)
    gps[27] = b"ASCII\x00\x00\x00" + SECRET.encode()  # GPSProcessingMethod
    return exif.tobytes()


def with_metadata(image_format: str) -> bytes:
    """A photo carrying GPS in EXIF, GPS in XMP and a comment, in the given format."""
    img = photo(seed=3)
    if image_format == "JPEG":
        return encode(img, "JPEG", exif=exif_with_gps(), xmp=XMP_GPS, comment=f"comment {SECRET}")
    if image_format == "PNG":
        from PIL.PngImagePlugin import PngInfo

        info = PngInfo()
        info.add_itxt("XML:com.adobe.xmp", XMP_GPS.decode())
        info.add_text("Comment", f"comment {SECRET}")
        return encode(img, "PNG", exif=exif_with_gps(), pnginfo=info)
    if image_format == "WEBP":
        return encode(img, "WEBP", exif=exif_with_gps(), xmp=XMP_GPS, quality=90)
    if image_format == "HEIF":
        return encode(img, "HEIF", exif=exif_with_gps(), xmp=XMP_GPS, quality=85)
    raise ValueError(image_format)


# --- Formats and odd pixels ------------------------------------------------------------------


def png_16bit_grey() -> bytes:
    """A 16-bit greyscale gradient: black on the left, white on the right."""
    ramp = np.tile(np.linspace(0, 65535, 640, dtype=np.uint16), (800, 1))
    return encode(Image.fromarray(ramp), "PNG")


def png_16bit_rgb() -> bytes:
    """A 16-bit RGB PNG (Pillow cannot write one): big-endian samples, one filter byte per row."""
    pixels = (np.asarray(photo(seed=5), dtype=np.uint16) * 257).astype(">u2")
    height, width = pixels.shape[:2]
    rows = b"".join(b"\x00" + pixels[row].tobytes() for row in range(height))
    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(rows, 6))
            + _png_chunk(b"IEND", b""))


def png_16bit_grey_photo() -> bytes:
    pixels = np.asarray(photo(seed=5).convert("L"), dtype=np.uint16) * 257
    return encode(Image.fromarray(pixels), "PNG")


def cmyk_photo_jpeg() -> bytes:
    return encode(photo(seed=5).convert("CMYK"), "JPEG")


def cmyk_jpeg() -> bytes:
    """Pure red in CMYK (no cyan, full magenta and yellow)."""
    return encode(Image.new("CMYK", (640, 800), (0, 255, 255, 0)), "JPEG")


def half_transparent_png() -> bytes:
    """The left half fully transparent, the right half opaque."""
    img = photo(seed=6).convert("RGBA")
    alpha = Image.new("L", img.size, 255)
    ImageDraw.Draw(alpha).rectangle([0, 0, img.width // 2, img.height], fill=0)
    img.putalpha(alpha)
    return encode(img, "PNG")


def animated(image_format: str) -> bytes:
    frames = [photo(seed=s) for s in (8, 9)]
    params = {"save_all": True, "append_images": frames[1:], "duration": 200}
    return encode(frames[0], image_format, **params)


# --- Broken and hostile files ----------------------------------------------------------------


def multi_picture_jpeg() -> bytes:
    """A JPEG carrying a second picture (MPO), as phones store gain maps and depth maps."""
    return encode(photo(seed=12), "MPO", save_all=True, append_images=[photo(320, 400, seed=13)])


def truncated_jpeg() -> bytes:
    data = jpeg(photo(seed=4))
    return data[: len(data) * 6 // 10]


HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n"
SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="640" height="800">'
       b'<script>alert(1)</script><rect width="640" height="800"/></svg>')
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def png_html_polyglot() -> bytes:
    """A valid PNG with a web page appended after its end (passes Pillow's own checks)."""
    return encode(photo(seed=2), "PNG") + HTML


def png_with_html_chunk() -> bytes:
    """A valid PNG whose first text chunk is a web page, where browsers sniff."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Title", HTML.decode())
    return encode(photo(seed=2), "PNG", pnginfo=info)


def jpeg_with_trailer(trailer: bytes) -> bytes:
    return jpeg(photo(seed=2)) + trailer


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def pixel_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A 1-bit PNG of width x height that really decompresses to that many pixels (about 110 MB
    of pixel data in a file of a few hundred kilobytes)."""
    compressor = zlib.compressobj(9)
    row = b"\x00" + bytes((width + 7) // 8)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def strip_png(width: int = 1, height: int = 100_000) -> bytes:
    return encode(Image.new("RGB", (width, height), (120, 130, 140)), "PNG")


def pixel_flood_png() -> bytes:
    """7000 x 7000 pixels in about 6 KB: a 1-bit PNG of blank rows."""
    return pixel_bomb(7000, 7000)


def heic_claiming(width: int, height: int) -> bytes:
    """A small HEIC whose header (its `ispe` box) says width x height: what a decoder would be
    asked to allocate, without the cost of encoding that many pixels here."""
    data = bytearray(encode(Image.new("RGB", (64, 64), (120, 130, 140)), "HEIF", quality=10))
    box = data.index(b"ispe")
    struct.pack_into(">II", data, box + 8, width, height)
    return bytes(data)


def blank(image_format: str, width: int, height: int) -> bytes:
    params = {"lossless": True} if image_format == "WEBP" else {}
    return encode(Image.new("L", (width, height)), image_format, **params)


def smooth_photo(image_format: str, width: int = 2016, height: int = 1512) -> bytes:
    """A photo with no grain and soft detail, as a phone's noise reduction or an export makes it:
    the most pixels per byte a real photo of this size reaches in each format."""
    params = {"JPEG": {"quality": 85}, "WEBP": {"quality": 80}, "HEIF": {"quality": 50}}.get(image_format, {})
    return encode(_smooth(width, height), image_format, **params)


@functools.cache
def _smooth(width: int, height: int) -> Image.Image:
    return photo(width, height, seed=3).filter(ImageFilter.GaussianBlur(6))
