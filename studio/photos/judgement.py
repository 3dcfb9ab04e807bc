"""The training set judged as a set: whose face it is, which photos are the same shot, how varied
it is. Pure functions on the analyses the images worker stored with each photo (no database, no
model run), so the whole set is judged again, cheaply, whenever a photo arrives or leaves.

For a person: the set's identity is the medoid of one descriptor per shot; a photo whose face is
farther from it than `same_person_max_distance` looks like someone else and is refused, naming
the photos that agree with each other; a photo that repeats an earlier shot is kept but counted
once (and not trained on). A couple's photos are checked for repeated shots only (two faces have
no single identity), and pets keep the near-duplicate warning of their whole picture.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np

from studio import faces
from studio.photos import quality
from studio.photos.quality import REFUSE, WARN, Finding

PERSON, COUPLE, PET = "person", "couple", "pet"
# Findings this module writes; everything else on a photo is the photo's own.
SET_CODES = frozenset({"someone_else", "same_shot", "near_duplicate"})


@dataclass(frozen=True)
class SetLimits:
    """The set's thresholds (settings PHOTOS_SAME_PERSON_MAX_DISTANCE, PHOTOS_SAME_SHOT,
    PHOTOS_VARIETY), in distances between dlib face descriptors.

    - same_person_max_distance: farther than this from the set's identity is someone else. 0.6 is
      dlib's own threshold; on the real photographs the tests use, two different people are 0.69
      apart and edits of one photo at most 0.27.
    - same_shot_*: two photos are the same shot (flipped, cropped, resized, recompressed, lighter or
      darker) when their faces are this close and their aligned faces this alike
      (faces.picture_similarity: edits of one photo 0.94 and more, different pictures of one face
      0.90 and less).
    - variety: the spread that counts as fully varied on each axis (head turn in eye distances, how
      different the faces look in descriptor distance, background colour and light on the face in
      grey levels); a set under `low` of that on an axis gets advice.
    """

    same_person_max_distance: float
    same_shot_max_distance: float
    same_shot_min_similarity: float
    duplicate_max_distance: int  # pets: dHash bits
    variety: dict[str, float]

    @classmethod
    def from_settings(cls) -> SetLimits:
        from django.conf import settings  # noqa: PLC0415  (judging itself runs without Django configured)

        return cls(
            same_person_max_distance=settings.PHOTOS_SAME_PERSON_MAX_DISTANCE,
            same_shot_max_distance=settings.PHOTOS_SAME_SHOT["max_distance"],
            same_shot_min_similarity=settings.PHOTOS_SAME_SHOT["min_similarity"],
            duplicate_max_distance=settings.PHOTOS_COACH["duplicate_max_distance"],
            variety=dict(settings.PHOTOS_VARIETY),
        )


@dataclass(frozen=True)
class Member:
    """One photo that passed its own checks, in upload order."""

    key: Hashable
    name: str
    analysis: faces.Analysis | None = None  # people: what the images worker found
    dhash: int | None = None  # pets

    @property
    def face(self) -> faces.Face | None:
        return self.analysis.largest if self.analysis else None


@dataclass(frozen=True)
class Variety:
    """Each axis from 0 (every photo alike) to 1 (varied enough), and advice for the low ones."""

    pose: float
    look: float
    background: float
    light: float
    advice: tuple[str, ...]

    @property
    def overall(self) -> float:
        return (self.pose + self.look + self.background + self.light) / 4

    @property
    def level(self) -> str:
        return "good" if not self.advice else ("fair" if len(self.advice) <= 2 else "low")


@dataclass
class Judgement:
    findings: dict[Hashable, list[Finding]] = field(default_factory=dict)  # set findings per member
    counted: set[Hashable] = field(default_factory=set)  # count toward the minimum, trained on
    distances: dict[Hashable, float] = field(default_factory=dict)  # to the identity (people)
    # Each repeat -> the photo it repeats: the same shot (people), a near-duplicate picture (pets).
    repeats: dict[Hashable, Hashable] = field(default_factory=dict)
    identity: np.ndarray | None = None  # the medoid descriptor of the photos that agree
    variety: Variety | None = None


def subject_for(subject_class: str) -> str:
    from studio.avatars.models import PET_CLASSES, SubjectClass  # noqa: PLC0415  (models need Django set up)

    if subject_class in PET_CLASSES:
        return PET
    return COUPLE if subject_class == SubjectClass.COUPLE else PERSON


def judge(members: Sequence[Member], *, subject: str, limits: SetLimits) -> Judgement:
    result = Judgement(findings={m.key: [] for m in members})
    if subject == PET:
        _judge_pets(members, limits=limits, result=result)
        return result

    with_face = [m for m in members if m.face is not None]
    shots = _group_shots(with_face, limits=limits, result=result)
    agreeing = shots
    if subject == PERSON and shots:
        agreeing = _judge_identity(shots, limits=limits, result=result)
    # A photo without an analysis was checked before faces were described: it keeps counting.
    for member in [*agreeing, *(m for m in members if m.face is None)]:
        result.counted.add(member.key)
    for member in with_face:
        original = result.repeats.get(member.key)
        if original is None or original not in result.counted:
            continue
        name = next(m.name for m in with_face if m.key == original)
        result.findings[member.key].append(Finding("same_shot", WARN,
            f"This is the same shot as {name}, flipped, cropped or edited, so it counts once and only "
            "one of them is used. Add a different photo instead: another day, place, outfit, "
            "expression or angle."))
    result.variety = variety(agreeing, limits=limits)
    return result


def _group_shots(members: Sequence[Member], *, limits: SetLimits, result: Judgement) -> list[Member]:
    """The first photo of each shot, in order; the repeats are noted in `result.repeats`."""
    originals: list[Member] = []
    for member in members:
        match = next((o for o in originals if faces.same_shot(
            o.face, member.face, max_distance=limits.same_shot_max_distance,
            min_similarity=limits.same_shot_min_similarity)), None)
        if match is None:
            originals.append(member)
        else:
            result.repeats[member.key] = match.key
    return originals


def _judge_identity(shots: list[Member], *, limits: SetLimits, result: Judgement) -> list[Member]:
    """Refuse the shots (and their repeats) whose face is someone else's; returns the others."""
    threshold = limits.same_person_max_distance
    descriptors = [m.face.descriptor for m in shots]
    centre = descriptors[faces.medoid(descriptors)]
    agreeing = [m for m in shots if faces.distance(m.face.descriptor, centre) <= threshold]
    result.identity = agreeing[faces.medoid([m.face.descriptor for m in agreeing])].face.descriptor
    for member in shots:
        result.distances[member.key] = faces.distance(member.face.descriptor, result.identity)
    strangers = {m.key for m in shots} - {m.key for m in agreeing}
    strangers |= {key for key, original in result.repeats.items() if original in strangers}
    names = _listed([m.name for m in agreeing])
    whose = f"the one in {names}, which look like the same person" if len(agreeing) > 1 else f"the one in {names}"
    for key in strangers:
        result.findings[key].append(Finding("someone_else", REFUSE,
            f"This looks like someone else: the face is not {whose}. Use photos of only the person "
            "the avatar is of."))
    return agreeing


def _judge_pets(members: Sequence[Member], *, limits: SetLimits, result: Judgement) -> None:
    hashed = [(m.key, m.dhash) for m in members if m.dhash is not None]
    duplicates = quality.find_near_duplicates(hashed, max_distance=limits.duplicate_max_distance)
    result.repeats.update(duplicates)
    for member in members:
        result.counted.add(member.key)
        if member.key in duplicates:
            result.findings[member.key].append(quality.near_duplicate_finding())


def variety(members: Sequence[Member], *, limits: SetLimits) -> Variety | None:
    """How varied the counted photos are; None for fewer than two."""
    members = [m for m in members if m.face is not None and m.analysis.scene is not None]
    if len(members) < 2:
        return None
    full = limits.variety
    poses = np.asarray([(m.face.pose.yaw, m.face.pose.pitch) for m in members])
    pose = float(np.max(poses.std(axis=0) / np.asarray([full["pose"], full["pose"]])))
    look = float(np.median([faces.distance(a.face.descriptor, b.face.descriptor)
                            for a, b in itertools.combinations(members, 2)])) / full["look"]
    colours = np.asarray([m.analysis.scene.background for m in members])
    gaps = [np.linalg.norm(a - b) for a, b in itertools.combinations(colours, 2)]
    background = float(np.mean(gaps)) / full["background"]
    lights = np.asarray([(m.analysis.scene.light, 100 * m.analysis.scene.light_side) for m in members])
    light = float(np.max(lights.std(axis=0))) / full["light"]
    scores = {name: min(1.0, value) for name, value in
              (("pose", pose), ("look", look), ("background", background), ("light", light))}
    advice = [text for name, text in _ADVICE if scores[name] < full["low"]]
    return Variety(advice=tuple(advice), **scores)


_ADVICE = (
    ("pose", "Your face is turned the same way in every photo: add some taken a little from the side, "
             "from slightly above or below."),
    ("look", "Your photos look very much alike: add some with other expressions (a smile, a neutral "
             "face), hairstyles or glasses, taken on other days."),
    ("background", "The background is much the same in every photo: add some taken elsewhere, indoors "
                   "and out."),
    ("light", "The light is the same in every photo: add some in daylight, in the shade, or lit from the "
              "side."),
)


def _listed(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    shown = list(names[:4]) + ([f"{len(names) - 4} more"] if len(names) > 4 else [])
    return ", ".join(shown[:-1]) + " and " + shown[-1]
