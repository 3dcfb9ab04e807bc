"""dlib's face models behind a few plain functions; see the package docstring for the API."""

from __future__ import annotations

import importlib.util
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import dlib
import numpy as np
from PIL import Image

# Detection tries these (long side of the copy, upsampling) in turn until it finds a face. The HOG
# detector's window is 80 px, halved by each upsampling: the first step finds faces of an eighth
# of the picture's long side and more (portraits, generated images) at a fraction of the cost;
# the second, faces down to 4% of it.
DETECT_STEPS = ((640, 0), (1000, 1))
CHIP_SIZE = 150  # what the descriptor network takes
CHIP_PADDING = 0.25  # dlib's default around the aligned face
FINGERPRINT_SIDE = 16  # the chip's fingerprint: a 16 x 16 grey thumbnail
# The CC0 models only: the 68-point predictor's training data forbids commercial use, and the CNN
# detector is too slow for the worker.
LANDMARKS_MODEL = "shape_predictor_5_face_landmarks.dat"
DESCRIPTOR_MODEL = "dlib_face_recognition_resnet_model_v1.dat"

Box = tuple[int, int, int, int]  # x, y, width, height in the analysed image's pixels
Point = tuple[float, float]


@dataclass(frozen=True)
class Pose:
    """How the head is turned, estimated from the 5 landmarks (eyes' corners and the nose).

    yaw: the nose's sideways offset from the eyes' midpoint, in eye distances (0 facing the
    camera, about +-0.3 at a three-quarter view); pitch: the nose's drop below the eye line, in eye
    distances (about 0.5 facing the camera, less looking up, more looking down); roll: the eye
    line's angle in degrees.
    """

    yaw: float
    pitch: float
    roll: float


@dataclass(frozen=True)
class Face:
    box: Box
    landmarks: tuple[Point, ...]
    descriptor: np.ndarray  # 128 float32, unit-ish length: compare with `distance`
    size: float  # the box's width over the image's shorter side
    confidence: float  # the detector's score; over 0 is a face
    fingerprint: bytes  # the aligned face chip as a 16 x 16 grey thumbnail: see `picture_similarity`
    pose: Pose

    def as_dict(self) -> dict:
        return {
            "box": list(self.box),
            "landmarks": [[round(x, 1), round(y, 1)] for x, y in self.landmarks],
            "descriptor": [round(float(v), 5) for v in self.descriptor],
            "size": round(self.size, 4),
            "confidence": round(self.confidence, 3),
            "fingerprint": self.fingerprint.hex(),
            "pose": {"yaw": round(self.pose.yaw, 3), "pitch": round(self.pose.pitch, 3),
                     "roll": round(self.pose.roll, 1)},
        }

    @classmethod
    def from_dict(cls, data: dict) -> Face:
        return cls(
            box=tuple(data["box"]),
            landmarks=tuple((x, y) for x, y in data["landmarks"]),
            descriptor=np.asarray(data["descriptor"], dtype=np.float32),
            size=data["size"],
            confidence=data["confidence"],
            fingerprint=bytes.fromhex(data["fingerprint"]),
            pose=Pose(**data["pose"]),
        )


@dataclass(frozen=True)
class Scene:
    """The picture around the face, for the variety meter: `background` is the mean colour outside
    the face and its surroundings (YCbCr: brightness 0-255, then blue and red, -128..127), `light`
    the face's mean brightness (0-255) and `light_side` how much brighter its left half is than
    its right, as a share of its brightness."""

    background: tuple[float, float, float]
    light: float
    light_side: float

    def as_dict(self) -> dict:
        return {"background": [round(v, 1) for v in self.background], "light": round(self.light, 1),
                "light_side": round(self.light_side, 3)}

    @classmethod
    def from_dict(cls, data: dict) -> Scene:
        return cls(background=tuple(data["background"]), light=data["light"], light_side=data["light_side"])


@dataclass(frozen=True)
class Analysis:
    """Every face found, largest first, in the pixels of the image analysed."""

    width: int
    height: int
    faces: tuple[Face, ...]
    scene: Scene | None  # of the largest face; None without a face

    @property
    def largest(self) -> Face | None:
        return self.faces[0] if self.faces else None

    def as_dict(self) -> dict:
        return {"width": self.width, "height": self.height, "faces": [f.as_dict() for f in self.faces],
                "scene": self.scene.as_dict() if self.scene else None}

    @classmethod
    def from_dict(cls, data: dict) -> Analysis:
        return cls(width=data["width"], height=data["height"],
                   faces=tuple(Face.from_dict(f) for f in data["faces"]),
                   scene=Scene.from_dict(data["scene"]) if data.get("scene") else None)


# --- The models ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Models:
    detector: dlib.fhog_object_detector
    landmarks: dlib.shape_predictor
    descriptor: dlib.face_recognition_model_v1


_models: _Models | None = None
_load_lock = threading.Lock()
# dlib's detector and network keep scratch buffers in the object: two threads using them at once
# crash the process. One analysis at a time per process (the images worker is a process pool).
_run_lock = threading.Lock()


def models_folder() -> Path:
    # face_recognition_models' own __init__ imports pkg_resources only to build these paths.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the face_recognition_models package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def load_models() -> _Models:
    """The models, loaded once per process on first use (about half a second)."""
    global _models
    if _models is None:
        with _load_lock:
            if _models is None:
                folder = models_folder()
                _models = _Models(
                    detector=dlib.get_frontal_face_detector(),
                    landmarks=dlib.shape_predictor(str(folder / LANDMARKS_MODEL)),
                    descriptor=dlib.face_recognition_model_v1(str(folder / DESCRIPTOR_MODEL)),
                )
    return _models


# --- Analysis --------------------------------------------------------------------------------


def analyse(img: Image.Image, *, max_faces: int = 4) -> Analysis:
    """Find the faces of an RGB image (the normalised photo, any size) and describe the
    `max_faces` largest: box, landmarks, descriptor, size, pose; and the scene around the largest.

    Detection runs on a small copy, and when it finds nothing, on a larger one upsampled
    (`DETECT_STEPS`). Landmarks are then mapped back to the image's own pixels, and the aligned
    chip the descriptor is computed from is cut from the full image, so a small face keeps its
    detail.
    """
    if img.mode != "RGB":
        img = img.convert("RGB")
    models = load_models()
    pixels = np.asarray(img)
    faces: tuple[Face, ...] = ()
    for side, upsample in DETECT_STEPS:
        scale = min(1.0, side / max(img.size))
        small = img if scale == 1 else img.resize(
            (max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.Resampling.BILINEAR)
        small_pixels = np.asarray(small)
        with _run_lock:
            rects, scores, _ = models.detector.run(small_pixels, upsample, 0.0)
            found = sorted(zip(rects, scores, strict=True), key=lambda rs: -rs[0].width())[:max_faces]
            faces = tuple(_describe(models, small_pixels, pixels, rect, score, scale) for rect, score in found)
        if faces:
            break
    if not faces:
        return Analysis(width=img.width, height=img.height, faces=(), scene=None)
    return Analysis(width=img.width, height=img.height, faces=faces, scene=_scene(pixels, faces[0]))


def _describe(models: _Models, small: np.ndarray, pixels: np.ndarray, rect: dlib.rectangle, score: float,
              scale: float) -> Face:
    shape = models.landmarks(small, rect)
    points = [(p.x / scale, p.y / scale) for p in shape.parts()]
    full_rect = dlib.rectangle(round(rect.left() / scale), round(rect.top() / scale),
                               round(rect.right() / scale), round(rect.bottom() / scale))
    full_shape = dlib.full_object_detection(full_rect, [dlib.point(round(x), round(y)) for x, y in points])
    chip = dlib.get_face_chip(pixels, full_shape, size=CHIP_SIZE, padding=CHIP_PADDING)
    descriptor = np.asarray(models.descriptor.compute_face_descriptor(chip), dtype=np.float32)
    height, width = pixels.shape[:2]
    x0, y0 = max(0, full_rect.left()), max(0, full_rect.top())
    x1, y1 = min(width, full_rect.right() + 1), min(height, full_rect.bottom() + 1)
    return Face(
        box=(x0, y0, x1 - x0, y1 - y0),
        landmarks=tuple(points),
        descriptor=descriptor,
        size=(x1 - x0) / min(width, height),
        confidence=float(score),
        fingerprint=Image.fromarray(chip).convert("L").resize(
            (FINGERPRINT_SIDE, FINGERPRINT_SIDE), Image.Resampling.BOX).tobytes(),
        pose=_pose(points),
    )


def _pose(points: Sequence[Point]) -> Pose:
    # dlib's 5 points: one eye's outer and inner corner, the other eye's outer and inner corner,
    # then the bottom of the nose.
    eye_a = np.mean(points[0:2], axis=0)
    eye_b = np.mean(points[2:4], axis=0)
    nose = np.asarray(points[4])
    left, right = (eye_a, eye_b) if eye_a[0] <= eye_b[0] else (eye_b, eye_a)
    axis = right - left
    span = float(np.hypot(*axis)) or 1.0
    unit = axis / span
    offset = nose - (left + right) / 2
    along = float(offset @ unit) / span
    across = float(offset @ np.array([-unit[1], unit[0]])) / span
    return Pose(yaw=along, pitch=across, roll=math.degrees(math.atan2(axis[1], axis[0])))


def _scene(pixels: np.ndarray, face: Face) -> Scene:
    """The mean colour outside the face (the box grown to take in hair and shoulders) and the
    face's own light, measured on a 128 px copy."""
    height, width = pixels.shape[:2]
    factor = 128 / max(width, height)
    small = Image.fromarray(pixels).resize((max(1, round(width * factor)), max(1, round(height * factor))),
                                           Image.Resampling.BOX)
    x, y, w, h = (v * factor for v in face.box)
    colours = np.asarray(small.convert("YCbCr"), dtype=np.float32)
    outside = np.ones(colours.shape[:2], dtype=bool)
    outside[max(0, int(y - h)): int(y + 2.5 * h), max(0, int(x - w)): int(x + 2 * w)] = False
    background = colours[outside] if outside.any() else colours.reshape(-1, 3)
    luma, blue, red = background.mean(axis=0)
    grey = colours[..., 0]
    inner = grey[int(y): max(int(y) + 1, int(y + h)), int(x): max(int(x) + 1, int(x + w))]
    light = float(inner.mean())
    half = inner.shape[1] // 2
    side = (float(inner[:, :half].mean()) - float(inner[:, -half:].mean())) / max(light, 1.0) if half else 0.0
    return Scene(background=(float(luma), float(blue) - 128, float(red) - 128), light=light,
                 light_side=max(-1.0, min(1.0, side)))


def picture_similarity(a: bytes, b: bytes) -> float:
    """How alike two fingerprints are, -1..1: the correlation of their grey levels, taking the
    better of `b` as it is and mirrored. Correlation ignores brightness and contrast, and the
    chips are aligned on the eyes and nose, so crops, rescaling and flips of one picture stay
    near 1, while another picture of the same face (another angle, expression or light) does not."""
    first = _standardised(np.frombuffer(a, dtype=np.uint8))
    second = np.frombuffer(b, dtype=np.uint8).reshape(FINGERPRINT_SIDE, FINGERPRINT_SIDE)
    return max(float(first @ _standardised(candidate.ravel())) / first.size
               for candidate in (second, second[:, ::-1]))


def _standardised(values: np.ndarray) -> np.ndarray:
    values = values.astype(np.float64)
    spread = values.std()
    return (values - values.mean()) / (spread if spread > 0 else 1.0)


# --- Comparing -------------------------------------------------------------------------------


def distance(a: np.ndarray | Sequence[float], b: np.ndarray | Sequence[float]) -> float:
    """Euclidean distance between two descriptors: under about 0.6 is the same person."""
    return float(np.linalg.norm(np.asarray(a, dtype=np.float32) - np.asarray(b, dtype=np.float32)))


def medoid(descriptors: Sequence[np.ndarray]) -> int:
    """Index of the descriptor with the smallest total distance to all the others (the earliest
    on a tie): a member of the set, unlike a mean, so one stray face cannot drag it."""
    if not descriptors:
        raise ValueError("the medoid of no descriptors")
    stacked = np.asarray(descriptors, dtype=np.float32)
    totals = np.linalg.norm(stacked[:, None, :] - stacked[None, :, :], axis=2).sum(axis=1)
    return int(np.argmin(totals))


def likeness(distance_to_identity: float, *, threshold: float) -> float:
    """A 0-1 score from a descriptor distance, linear: 1 at half the same-person threshold or
    closer, 0.5 at the threshold, 0 at one and a half times it or farther. So "looks like them"
    is exactly likeness >= 0.5, whatever the threshold is set to."""
    value = 1.5 - distance_to_identity / threshold
    return max(0.0, min(1.0, value))


def same_shot(a: Face, b: Face, *, max_distance: float, min_similarity: float) -> bool:
    """Whether two faces come from one picture: flipped, cropped, resized, recompressed, lighter
    or darker. Both must hold: nearly the same descriptor, and nearly the same aligned face chip
    (`picture_similarity`, mirror included)."""
    if distance(a.descriptor, b.descriptor) > max_distance:
        return False
    return picture_similarity(a.fingerprint, b.fingerprint) >= min_similarity


@dataclass(frozen=True)
class Score:
    face_found: bool
    distance: float | None  # to the identity, for the largest face
    likeness: float  # 0 without a face


def score(img: Image.Image, identity: np.ndarray | Sequence[float], *, threshold: float) -> Score:
    """How much the largest face of an image looks like `identity` (a set's medoid descriptor)."""
    face = analyse(img, max_faces=1).largest
    if face is None:
        return Score(face_found=False, distance=None, likeness=0.0)
    gap = distance(face.descriptor, identity)
    return Score(face_found=True, distance=gap, likeness=likeness(gap, threshold=threshold))
