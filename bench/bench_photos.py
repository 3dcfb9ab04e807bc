"""Photo intake: normalising a phone photo with JPEG draft decoding, against the naive way.

Fixtures are photo-like JPEGs generated here (gradients, shapes, sensor-like noise, an EXIF
orientation tag as phones write it): 12 MP (4032 x 3024) and 48 MP (8064 x 6048).
"""

from __future__ import annotations

import io
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

from bench import Figure, median_seconds, median_seconds_paired, peak_memory_mb
from studio.photos import imaging, intake, quality

LONG_SIDE = 2048
QUALITY = 90
MAX_PIXELS = 60_000_000
# The studio's default thresholds (PHOTOS_* in studio/settings.py), spelled out: this module runs
# without Django settings, which bench_studio configures for its own stack in the same process.
INTAKE_LIMITS = intake.PhotoLimits(
    max_file_bytes=25 * 1024 * 1024,
    max_pixels=MAX_PIXELS,
    max_pixels_png_webp=25_000_000,
    max_pixels_per_byte=200,
    min_side=512,
    max_aspect_ratio=3.0,
    long_side=LONG_SIDE,
    jpeg_quality=QUALITY,
    thumbnail_size=400,
    thumbnail_quality=80,
    coach=quality.CoachLimits(
        sharpness_refuse=12.0,
        sharpness_warn=40.0,
        dark_refuse=30.0,
        dark_warn=60.0,
        bright_warn=210.0,
        bright_refuse=235.0,
        face_min_fraction=0.08,
        dominant_face_ratio=0.8,
        duplicate_max_distance=4,
    ),
)


def make_phone_jpeg(width: int, height: int, *, seed: int = 0) -> bytes:
    """A JPEG that costs what a phone photo costs to decode: detail, noise, about 3 bits/pixel."""
    rng = np.random.default_rng(seed)
    small = Image.new("RGB", (width // 4, height // 4))
    draw = ImageDraw.Draw(small)
    for _ in range(160):
        x, y = rng.uniform(0, small.width), rng.uniform(0, small.height)
        r = rng.uniform(0.01, 0.15) * small.width
        colour = tuple(int(v) for v in rng.uniform(30, 230, 3))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape([x, y, x + r, y + r * rng.uniform(0.4, 2)], fill=colour)
    base = small.filter(ImageFilter.GaussianBlur(1.5)).resize((width, height), Image.Resampling.BICUBIC)
    pixels = np.asarray(base, dtype=np.int16) + rng.normal(0, 7, (height, width, 3)).astype(np.int16)
    img = Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways, as a phone held upright does
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=92, exif=exif.tobytes())
    return buffer.getvalue()


def studio_normalise(data: bytes) -> bytes:
    img = imaging.open_untrusted_image(data, max_pixels=MAX_PIXELS)
    return imaging.encode_jpeg(imaging.normalise(img, long_side=LONG_SIDE), quality=QUALITY)


def naive_normalise(data: bytes) -> bytes:
    """What most code does: full decode, orientation, resize with Lanczos, save."""
    img = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    scale = LONG_SIDE / max(img.size)
    img = img.resize((round(img.width * scale), round(img.height * scale)), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=QUALITY)
    return buffer.getvalue()


def studio_intake(data: bytes) -> intake.IntakeResult:
    return intake.process(data, expected_faces=1, limits=INTAKE_LIMITS)


# Entry points for the memory child process: each reads the fixture itself.
def memory_studio(path: str) -> None:
    studio_normalise(Path(path).read_bytes())


def memory_naive(path: str) -> None:
    naive_normalise(Path(path).read_bytes())


def memory_intake(path: str) -> None:
    studio_intake(Path(path).read_bytes())


def run() -> list[Figure]:
    folder = Path(tempfile.mkdtemp(prefix="bench-photos-"))
    try:
        return _run(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run(folder: Path) -> list[Figure]:
    print("  generating fixtures ...", file=sys.stderr, flush=True)
    jpeg_12 = make_phone_jpeg(4032, 3024, seed=12)
    jpeg_48 = make_phone_jpeg(8064, 6048, seed=48)
    path_12 = folder / "phone-12mp.jpg"
    path_12.write_bytes(jpeg_12)

    out = Image.open(io.BytesIO(studio_normalise(jpeg_12)))
    note_12 = f"{len(jpeg_12) / 1e6:.1f} MB in, {out.width}x{out.height} out"

    print("  timing ...", file=sys.stderr, flush=True)
    ours, naive = (s * 1000 for s in median_seconds_paired(
        lambda: studio_normalise(jpeg_12), lambda: naive_normalise(jpeg_12), repeat=7))
    ours_48, naive_48 = (s * 1000 for s in median_seconds_paired(
        lambda: studio_normalise(jpeg_48), lambda: naive_normalise(jpeg_48), repeat=3))
    whole = median_seconds(lambda: studio_intake(jpeg_12), repeat=5) * 1000

    print("  measuring memory in child processes ...", file=sys.stderr, flush=True)
    here = "bench.bench_photos"
    mem_ours = peak_memory_mb(f"{here}:memory_studio", str(path_12))
    mem_naive = peak_memory_mb(f"{here}:memory_naive", str(path_12))
    mem_intake = peak_memory_mb(f"{here}:memory_intake", str(path_12))

    return [
        Figure("photos.normalise_12mp", ours, "ms", budget=150, note=note_12),
        Figure("photos.naive_12mp", naive, "ms", note="full decode + exif_transpose + Lanczos resize"),
        Figure("photos.normalise_speedup_12mp", naive / ours, "x", budget=3, higher_is_better=True,
               note="naive / ours, alternating runs"),
        Figure("photos.normalise_48mp", ours_48, "ms", budget=400, note=f"{len(jpeg_48) / 1e6:.1f} MB in"),
        Figure("photos.normalise_speedup_48mp", naive_48 / ours_48, "x", budget=3, higher_is_better=True,
               note="naive / ours, alternating runs"),
        Figure("photos.intake_12mp", whole, "ms", budget=1000,
               note="worker cost per photo: checks, normalise, faces (none here: every scale), coach, JPEG + WebP"),
        Figure("photos.peak_memory_normalise_12mp", mem_ours, "MB", budget=80,
               note="peak RSS added by one photo, child process"),
        Figure("photos.peak_memory_naive_12mp", mem_naive, "MB", note="same, naive way"),
        Figure("photos.peak_memory_ratio_12mp", mem_naive / max(mem_ours, 0.1), "x",
               note="naive / ours"),
        Figure("photos.peak_memory_intake_12mp", mem_intake, "MB", budget=150,
               note="whole worker pipeline per photo, the face models' first load included"),
    ]
