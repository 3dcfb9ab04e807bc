"""The quality coach: plain-words findings about a photo before any credit is spent.

Pure functions on a normalised RGB image (see `imaging.normalise`): sharpness (variance of the
Laplacian), exposure (mean brightness), faces (`studio.faces`: dlib's detector, landmarks and
descriptors) and a perceptual hash (dHash) for spotting near-duplicates within a set of pet
photos. Each finding is a refusal or a warning, and says what to do about it. Findings about the
set as a whole (another person, the same shot twice) are `studio.photos.judgement`'s.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass
from typing import TypeVar

import numpy as np
from PIL import Image

from studio import faces

REFUSE = "refuse"
WARN = "warn"

# Measurements are taken on a copy scaled to this longest side, so the numbers mean the same
# thing for a 1000 px and a 2048 px photo.
MEASURE_SIDE = 512
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Finding:
    code: str
    level: str  # REFUSE or WARN
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Finding:
        return cls(code=data["code"], level=data["level"], message=data["message"])


@dataclass(frozen=True)
class CoachLimits:
    """Thresholds (values in settings.PHOTOS_COACH). Sharpness: see `sharpness()`, measured at
    512 px; brightness: mean grey, 0-255; face size: face width / the photo's shorter side;
    near-duplicates: differing bits of the 64-bit dHash."""

    sharpness_refuse: float
    sharpness_warn: float
    dark_refuse: float
    dark_warn: float
    bright_warn: float
    bright_refuse: float
    face_min_fraction: float
    dominant_face_ratio: float
    duplicate_max_distance: int

    @classmethod
    def from_settings(cls) -> CoachLimits:
        from django.conf import settings  # noqa: PLC0415  (the coach itself runs without Django configured)

        return cls(**settings.PHOTOS_COACH)


@dataclass(frozen=True)
class Measurements:
    width: int
    height: int
    sharpness: float
    brightness: float
    dhash: int
    analysis: faces.Analysis | None = None  # None: faces were not searched (pets)

    def as_dict(self) -> dict:
        """What support staff may see: counts and sizes, never a descriptor."""
        return {
            "sharpness": round(self.sharpness, 1),
            "brightness": round(self.brightness, 1),
            "faces": len(self.analysis.faces) if self.analysis else None,
            "largest_face_fraction": round(self.largest_face_fraction, 3) if self.faces else None,
            "dhash": f"{self.dhash:016x}",
        }

    @property
    def faces(self) -> tuple[faces.Face, ...]:
        return self.analysis.faces if self.analysis else ()

    @property
    def largest_face_fraction(self) -> float:
        return self.faces[0].size if self.faces else 0.0


def measure(img: Image.Image, *, find_faces: bool) -> Measurements:
    """Measure an RGB image; faces are searched only when asked (people, not pets)."""
    gray = _scaled(img.convert("L"), MEASURE_SIDE)
    levels = np.asarray(gray)
    return Measurements(
        width=img.width,
        height=img.height,
        sharpness=sharpness(levels),
        brightness=float(levels.mean()),
        dhash=dhash(img),
        analysis=faces.analyse(img) if find_faces else None,
    )


def sharpness(gray: np.ndarray) -> float:
    """Variance of the Laplacian after stretching the grey levels to the full range, so that a
    dark or low-contrast photo is not mistaken for a blurry one."""
    levels = gray.astype(np.float64)
    low, high = np.percentile(levels, (1, 99))
    if high - low >= 8:
        levels = (levels - low) * (255.0 / (high - low))
    # The 4-neighbour Laplacian, with the edges mirrored (OpenCV's default border).
    padded = np.pad(levels, 1, mode="reflect")
    laplacian = (padded[:-2, 1:-1] + padded[2:, 1:-1] + padded[1:-1, :-2] + padded[1:-1, 2:]
                 - 4 * padded[1:-1, 1:-1])
    return float(laplacian.var())


def coach(m: Measurements, *, expected_faces: int | None, limits: CoachLimits) -> list[Finding]:
    """Findings for one photo. `expected_faces` is 1 for a person, 2 for a couple, None for pets."""
    subject = "the face" if expected_faces else "your pet"
    findings: list[Finding] = []

    if m.sharpness < limits.sharpness_refuse:
        findings.append(Finding("very_blurry", REFUSE,
            f"This photo is too blurry for the AI to learn a likeness from. Choose a sharp photo "
            f"where {subject} is in focus."))
    elif m.sharpness < limits.sharpness_warn:
        findings.append(Finding("blurry", WARN,
            "This photo looks a little blurry. Sharp photos give sharper avatars: keep it only if "
            "you have no sharper one."))

    if m.brightness < limits.dark_refuse:
        findings.append(Finding("too_dark", REFUSE,
            "This photo is too dark to make anything out. Choose one taken in good light, for "
            "example near a window during the day."))
    elif m.brightness < limits.dark_warn:
        findings.append(Finding("dark", WARN,
            "This photo is rather dark, so details may be lost. Photos in soft daylight work best."))
    elif m.brightness > limits.bright_refuse:
        findings.append(Finding("too_bright", REFUSE,
            "This photo is so bright that the details are washed out. Choose one without harsh "
            "sun or flash."))
    elif m.brightness > limits.bright_warn:
        findings.append(Finding("bright", WARN,
            "This photo is very bright, so some details may be lost. Soft, even light works best."))

    if expected_faces:
        findings.extend(_face_findings(m, expected_faces=expected_faces, limits=limits))
    return findings


def _face_findings(m: Measurements, *, expected_faces: int, limits: CoachLimits) -> list[Finding]:
    # Faces much smaller than the largest are usually background detail or people passing by.
    widths = [face.box[2] for face in m.faces]
    count = sum(1 for w in widths if w >= widths[0] / 2) if widths else 0
    if count == 0:
        return [Finding("no_face", REFUSE,
            "We could not find a face in this photo, so the AI could not learn a likeness from it. "
            "Use photos where the face is clearly visible and turned towards the camera, with no "
            "sunglasses and nothing covering it.")]
    findings = []
    if count > expected_faces and widths[expected_faces] >= limits.dominant_face_ratio * widths[expected_faces - 1]:
        who = "the two of you" if expected_faces == 2 else "the person the avatar is of"
        findings.append(Finding("no_main_face", REFUSE,
            f"We found {count} faces of about the same size, so we cannot tell which is {who}. "
            f"Use photos with only {who} in them, or crop the others out first."))
    elif count > expected_faces:
        who = "just the two of you" if expected_faces == 2 else "only the person the avatar is of"
        findings.append(Finding("several_faces", WARN,
            f"We found {count} faces. Other people can end up in your avatars: use photos with "
            f"{who} in them, or crop the others out first."))
    elif count < expected_faces:
        findings.append(Finding("one_face", WARN,
            "We found only one face. For a couple, both of you should be clearly visible in "
            "every photo."))
    if m.largest_face_fraction < limits.face_min_fraction:
        findings.append(Finding("face_small", WARN,
            "The face is small in this photo. Close-ups and half-body shots teach the AI the "
            "most: crop closer, or choose another photo."))
    return findings


def near_duplicate_finding() -> Finding:
    return Finding("near_duplicate", WARN,
        "This photo is almost the same as another one in the set. Variety helps the AI: "
        "different places, clothes, expressions and light. Consider replacing it.")


def _scaled(gray: Image.Image, long_side: int) -> Image.Image:
    factor = long_side / max(gray.size)
    if factor >= 1:
        return gray
    return gray.resize((max(1, round(gray.width * factor)), max(1, round(gray.height * factor))),
                       Image.Resampling.BOX)


# --- Near-duplicates -------------------------------------------------------------------------


def dhash(img: Image.Image) -> int:
    """A 64-bit difference hash: does each of 8 by 8 cells get brighter to the right?"""
    small = np.asarray(img.convert("L").resize((9, 8), Image.Resampling.BOX), dtype=np.int16)
    bits = (small[:, 1:] > small[:, :-1]).flatten()
    return int("".join("1" if b else "0" for b in bits), 2)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def find_near_duplicates(hashes: Sequence[tuple[K, int]], *, max_distance: int) -> dict[K, K]:
    """Map each item that repeats an earlier one (in the given order) to the one it repeats."""
    duplicates: dict[K, K] = {}
    originals: list[tuple[K, int]] = []
    for key, value in hashes:
        match = next((k for k, h in originals if hamming(value, h) <= max_distance), None)
        if match is None:
            originals.append((key, value))
        else:
            duplicates[key] = match
    return duplicates
