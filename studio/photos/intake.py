"""The photo intake pipeline: one function from untrusted bytes to a verdict and clean files.

Used by the worker that processes uploads and by `manage.py inspect_photos`, so support staff
see exactly what a customer's upload went through. No database access here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from studio import faces
from studio.photos import imaging, quality
from studio.photos.imaging import ImageRefused
from studio.photos.quality import REFUSE, WARN, CoachLimits, Finding, Measurements

ACCEPTED = "accepted"
WARNED = "warned"
REJECTED = "rejected"


@dataclass(frozen=True)
class PhotoLimits:
    """The thresholds of the intake. Their values live in settings (PHOTOS_*), and only there."""

    max_file_bytes: int
    max_pixels: int
    max_pixels_png_webp: int
    max_pixels_per_byte: int
    min_side: int
    max_aspect_ratio: float
    long_side: int
    jpeg_quality: int
    thumbnail_size: int
    thumbnail_quality: int
    coach: CoachLimits

    @classmethod
    def from_settings(cls) -> PhotoLimits:
        from django.conf import settings  # noqa: PLC0415  (the intake itself runs without Django configured)

        return cls(
            max_file_bytes=settings.PHOTOS_MAX_FILE_BYTES,
            max_pixels=settings.PHOTOS_MAX_PIXELS,
            max_pixels_png_webp=settings.PHOTOS_MAX_PIXELS_PNG_WEBP,
            max_pixels_per_byte=settings.PHOTOS_MAX_PIXELS_PER_BYTE,
            min_side=settings.PHOTOS_MIN_SIDE,
            max_aspect_ratio=settings.PHOTOS_MAX_ASPECT_RATIO,
            long_side=settings.PHOTOS_LONG_SIDE,
            jpeg_quality=settings.PHOTOS_JPEG_QUALITY,
            thumbnail_size=settings.PHOTOS_THUMBNAIL_SIZE,
            thumbnail_quality=settings.PHOTOS_THUMBNAIL_QUALITY,
            coach=CoachLimits.from_settings(),
        )


@dataclass
class IntakeResult:
    verdict: str
    findings: list[Finding]
    source_format: str | None = None
    source_size: tuple[int, int] | None = None
    width: int | None = None
    height: int | None = None
    jpeg: bytes | None = None
    thumbnail: bytes | None = None
    measurements: Measurements | None = None

    @property
    def dhash(self) -> int | None:
        return self.measurements.dhash if self.measurements else None

    @property
    def analysis(self) -> faces.Analysis | None:
        """The faces found (people only): biometric data, stored with the photo and nowhere else."""
        return self.measurements.analysis if self.measurements else None


def verdict_for(findings: list[Finding]) -> str:
    if any(f.level == REFUSE for f in findings):
        return REJECTED
    return WARNED if any(f.level == WARN for f in findings) else ACCEPTED


def expected_faces_for(subject_class: str) -> int | None:
    """How many faces a photo of this subject should show; None when faces are not checked."""
    from studio.avatars.models import PET_CLASSES, SubjectClass  # noqa: PLC0415  (models need Django set up)

    if subject_class in PET_CLASSES:
        return None
    return 2 if subject_class == SubjectClass.COUPLE else 1


def check_upload(source: BinaryIO, *, size: int, limits: PhotoLimits) -> tuple[str, tuple[int, int]]:
    """The cheap checks made while the upload request is still open: size, and the header's
    format, pixel count and shape. Returns (format, oriented size); raises `ImageRefused`."""
    check_file_size(size, limits=limits)
    start = source.tell()
    try:
        img = imaging.open_untrusted_image(source, max_pixels=limits.max_pixels)
        image_format, oriented = img.format, imaging.oriented_size(img)
    finally:
        source.seek(start)
    check_dimensions(oriented, limits=limits)
    check_pixel_count(image_format, oriented, size_bytes=size, limits=limits)
    return image_format, oriented


def process(data: bytes, *, expected_faces: int | None, limits: PhotoLimits) -> IntakeResult:
    """Everything: the upload checks again, a full decode, normalisation, the coach, the WebP
    thumbnail of every photo that decoded (its owner sees which one was refused) and, unless
    refused, the clean JPEG. Never raises for a bad file."""
    source_format = source_size = None
    try:
        check_file_size(len(data), limits=limits)
        img = imaging.open_untrusted_image(data, max_pixels=limits.max_pixels)
        source_format, source_size = img.format, imaging.oriented_size(img)
        check_dimensions(source_size, limits=limits)
        check_pixel_count(img.format, source_size, size_bytes=len(data), limits=limits)
        if smuggled := imaging.find_smuggled_content(data, img.format):
            raise ImageRefused(
                "hidden_content",
                f"This file holds {smuggled} besides the picture, and for safety we don't accept "
                "such files. Open the photo in a photo app, save or export it again, and add that copy.",
            )
        normalised = imaging.normalise(img, long_side=limits.long_side)
    except ImageRefused as refusal:
        return IntakeResult(
            verdict=REJECTED,
            findings=[Finding(refusal.code, REFUSE, refusal.message)],
            source_format=source_format,
            source_size=source_size,
        )

    measurements = quality.measure(normalised, find_faces=expected_faces is not None)
    findings = quality.coach(measurements, expected_faces=expected_faces, limits=limits.coach)
    result = IntakeResult(
        verdict=verdict_for(findings),
        findings=findings,
        source_format=source_format,
        source_size=source_size,
        width=normalised.width,
        height=normalised.height,
        measurements=measurements,
    )
    if result.verdict != REJECTED:
        result.jpeg = imaging.encode_jpeg(normalised, quality=limits.jpeg_quality)
    result.thumbnail = imaging.make_webp_thumbnail(normalised, limits.thumbnail_size, quality=limits.thumbnail_quality)
    return result


def check_file_size(size: int, *, limits: PhotoLimits) -> None:
    if size > limits.max_file_bytes:
        raise file_too_large(size, limits=limits)


def file_too_large(size: int | None, *, limits: PhotoLimits) -> ImageRefused:
    what = f"is {megabytes(size)}" if size else "is"
    return ImageRefused(
        "file_too_large",
        f"This file {what} over the {megabytes(limits.max_file_bytes)} limit for one photo. "
        "Add a smaller copy: photos straight from a phone are usually 2 to 8 MB.",
    )


def check_dimensions(size: tuple[int, int], *, limits: PhotoLimits) -> None:
    width, height = size
    if max(width, height) > limits.max_aspect_ratio * min(width, height):
        raise ImageRefused(
            "odd_shape",
            f"This image is {width:,} by {height:,} pixels: far too long and narrow for a photo "
            "of a person or pet. Add an ordinary photo, upright or sideways.",
        )
    if min(width, height) < limits.min_side:
        raise ImageRefused(
            "too_small",
            f"This photo is only {width:,} by {height:,} pixels; we need at least "
            f"{limits.min_side} on the shorter side. Use the original from your phone or camera, "
            "not a copy saved from a chat or social media app.",
        )


# Formats decoded at full size whatever the size we keep (JPEG is decoded at 1/2 to 1/8 scale).
# Cameras write JPEG or HEIC; a PNG or WebP of camera size is an export or a screenshot.
_FULL_DECODE_FORMATS = frozenset({"PNG", "WEBP"})


def check_pixel_count(image_format: str, size: tuple[int, int], *, size_bytes: int, limits: PhotoLimits) -> None:
    """Refuse, from the header alone, pictures that would cost far more to decode than a photo:
    PNG and WebP over their own cap, and any file with far too few bytes for its pixel count
    (a photo holds at least a byte for every few dozen pixels; a "pixel flood" file claims
    millions of pixels in a few kilobytes)."""
    width, height = size
    pixels = width * height
    if image_format in _FULL_DECODE_FORMATS and pixels > limits.max_pixels_png_webp:
        label = imaging.FORMAT_LABELS.get(image_format, image_format)
        raise ImageRefused(
            "too_many_pixels",
            f"This {label} image is {width:,} by {height:,} pixels, more than the "
            f"{limits.max_pixels_png_webp / 1_000_000:.0f} megapixels we accept in {label}. "
            "Add the photo as JPEG or HEIC, or export a smaller copy.",
        )
    if pixels > limits.max_pixels_per_byte * size_bytes:
        raise ImageRefused(
            "too_little_data",
            f"This file claims to be {width:,} by {height:,} pixels but holds only "
            f"{_kilobytes(size_bytes)}: far too little for a real photo of that size. "
            "Add the original photo from your phone or camera.",
        )


def _kilobytes(size: int) -> str:
    return megabytes(size) if size >= 1024 * 1024 else f"{max(1, round(size / 1024))} KB"


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
