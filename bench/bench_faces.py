"""Face analysis: the engine's way (a 1000 px copy of the normalised photo, the chip cut from it)
against the naive way (dlib's detector, landmarks and descriptor on the full-resolution photo),
and scoring a generated portrait against an identity.

Fixture: a 12 MP (4032 x 3024) JPEG with the sample portrait's face pasted into a generated scene.
"""

from __future__ import annotations

import io
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from bench import Figure, median_seconds, median_seconds_paired, peak_memory_mb
from studio import faces
from studio.photos import imaging, samples

LONG_SIDE = 2048
THRESHOLD = 0.6


def make_portrait_jpeg(width: int = 4032, height: int = 3024) -> bytes:
    buffer = io.BytesIO()
    samples.photo(width, height, faces=((0.5, 0.42, 0.22),), seed=3).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def normalised(data: bytes) -> Image.Image:
    return imaging.normalise(imaging.open_untrusted_image(data, max_pixels=60_000_000), long_side=LONG_SIDE)


def studio_analysis(img: Image.Image) -> faces.Analysis:
    return faces.analyse(img)


def naive_analysis(img: Image.Image) -> np.ndarray | None:
    """What the library's examples do: every step on the photo as decoded, at full size."""
    models = faces.load_models()
    pixels = np.asarray(img)
    rects = models.detector(pixels, 0)
    if not rects:
        return None
    shape = models.landmarks(pixels, rects[0])
    return np.asarray(models.descriptor.compute_face_descriptor(pixels, shape))


# Entry points for the memory child process (`bench._peak`), through `bench._faces_child`, which
# loads the models on import: the figure is what one more photo costs a running worker.
def memory_studio(path: str) -> None:
    studio_analysis(normalised(Path(path).read_bytes()))


def memory_naive(path: str) -> None:
    with Image.open(path) as img:
        naive_analysis(img.convert("RGB"))


def memory_models() -> None:
    faces.load_models()


def run() -> list[Figure]:
    folder = Path(tempfile.mkdtemp(prefix="bench-faces-"))
    try:
        return _run(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run(folder: Path) -> list[Figure]:
    print("  generating fixtures ...", file=sys.stderr, flush=True)
    data = make_portrait_jpeg()
    path = folder / "portrait-12mp.jpg"
    path.write_bytes(data)
    small = normalised(data)
    with Image.open(io.BytesIO(data)) as img:
        full = img.convert("RGB")
    faces.load_models()
    found = studio_analysis(small).largest
    assert found is not None, "the fixture's face was not found"
    identity = found.descriptor
    generated = samples.shot(2, size=1024)  # a portrait as Astria delivers it: 1024 px

    print("  timing ...", file=sys.stderr, flush=True)
    ours, naive = (s * 1000 for s in median_seconds_paired(
        lambda: studio_analysis(small), lambda: naive_analysis(full), repeat=5))
    scoring = median_seconds(lambda: faces.score(generated, identity, threshold=THRESHOLD), repeat=7) * 1000

    print("  measuring memory in child processes ...", file=sys.stderr, flush=True)
    here = "bench._faces_child"
    mem_ours = peak_memory_mb(f"{here}:memory_studio", str(path))
    mem_naive = peak_memory_mb(f"{here}:memory_naive", str(path))
    mem_models = peak_memory_mb("bench.bench_faces:memory_models")

    note = f"{small.width}x{small.height} normalised photo, face {found.box[2]} px"
    return [
        Figure("faces.analysis_12mp", ours, "ms", budget=1000, note=note + "; detection on a 640 px copy"),
        Figure("faces.naive_12mp", naive, "ms", note="detector, landmarks, descriptor on the full 4032x3024"),
        Figure("faces.analysis_speedup_12mp", naive / ours, "x", budget=3, higher_is_better=True,
               note="naive / ours, alternating runs"),
        Figure("faces.score_per_image", scoring, "ms", budget=300, note="a 1024 px generated portrait"),
        Figure("faces.peak_memory_analysis_12mp", mem_ours, "MB", budget=300,
               note="decode, normalise and analyse one photo, models loaded; child process"),
        Figure("faces.peak_memory_naive_12mp", mem_naive, "MB", note="same, naive way"),
        Figure("faces.models_memory", mem_models, "MB", note="loading the models, once per worker process"),
    ]
