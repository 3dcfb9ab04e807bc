import uuid
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db.models import QuerySet

from accounts.models import User
from studio import faces
from studio.avatars.models import PET_CLASSES, Avatar
from studio.photos import judgement
from studio.photos.models import KEPT_VERDICTS, Photo, PhotoVerdict


def photo_list_for_avatar(*, user: User, avatar: Avatar) -> QuerySet[Photo]:
    """Every photo of the avatar, oldest first; empty unless the avatar is the user's."""
    return Photo.objects.filter(avatar=avatar, avatar__user=user).order_by("created_at", "id")


def photo_get_for_user(*, user: User, photo_id: uuid.UUID, avatar_id: uuid.UUID | None = None) -> Photo:
    """The user's photo (of that avatar, when given); raises Photo.DoesNotExist for anyone else's."""
    photos = Photo.objects.select_related("avatar").filter(avatar__user=user)
    if avatar_id is not None:
        photos = photos.filter(avatar_id=avatar_id)
    return photos.get(pk=photo_id)


def photo_count_processing_for_user(*, user: User) -> int:
    """The user's photos waiting for the images worker, over all their avatars."""
    return Photo.objects.filter(avatar__user=user, verdict=PhotoVerdict.PROCESSING).count()


def photo_list_accepted(*, avatar: Avatar) -> QuerySet[Photo]:
    """The photos to train on: accepted, with or without warnings, and not a repeat of another
    photo's shot (those count once), oldest first."""
    return Photo.objects.filter(avatar=avatar, verdict__in=KEPT_VERDICTS, counted=True).order_by("created_at", "id")


def photo_count_accepted(*, avatar: Avatar) -> int:
    return photo_list_accepted(avatar=avatar).count()


def photo_minimum_met(*, avatar: Avatar) -> bool:
    """Whether the avatar has the PHOTOS_MIN_ACCEPTED accepted photos that training needs, counted
    after the set's judgement (another person's face refused, a repeated shot counted once)."""
    return photo_count_accepted(avatar=avatar) >= settings.PHOTOS_MIN_ACCEPTED


def photo_set_identity(*, avatar: Avatar) -> np.ndarray | None:
    """The face the avatar's training photos agree on: the medoid descriptor of the photos that
    count (`studio.faces.distance` to it scores a portrait). None for pets, couples and sets without
    an analysed face. Biometric data: compare with it, never store or log it elsewhere."""
    if judgement.subject_for(avatar.subject_class) != judgement.PERSON:
        return None
    found = [faces.Analysis.from_dict(p.analysis).largest for p in photo_list_accepted(avatar=avatar) if p.analysis]
    descriptors = [face.descriptor for face in found if face is not None]
    return descriptors[faces.medoid(descriptors)] if descriptors else None


@dataclass(frozen=True)
class PhotoSet:
    """An avatar's photos as the upload page shows them, with the counts it needs."""

    photos: list[Photo]
    accepted: int  # that count toward the minimum
    kept: int  # accepted, repeated shots included: they take room
    processing: int
    minimum: int
    maximum: int
    variety: judgement.Variety | None  # of the photos that count (people only)

    @property
    def enough(self) -> bool:
        return self.accepted >= self.minimum

    @property
    def still_needed(self) -> int:
        return max(0, self.minimum - self.accepted)

    @property
    def room(self) -> int:
        """How many more photos can be added (refused ones take no room)."""
        return max(0, self.maximum - self.kept - self.processing)

    @property
    def progress_value(self) -> int:
        return min(self.accepted, self.minimum)


def photo_set_for_avatar(*, user: User, avatar: Avatar) -> PhotoSet:
    photos = list(photo_list_for_avatar(user=user, avatar=avatar))
    counted = [p for p in photos if p.counts]
    return PhotoSet(
        photos=photos,
        accepted=len(counted),
        kept=sum(1 for p in photos if p.is_kept),
        processing=sum(1 for p in photos if p.verdict == PhotoVerdict.PROCESSING),
        minimum=settings.PHOTOS_MIN_ACCEPTED,
        maximum=settings.PHOTOS_MAX_PER_AVATAR,
        variety=judgement.variety(
            [judgement.Member(key=p.pk, name=p.original_name, analysis=faces.Analysis.from_dict(p.analysis))
             for p in counted if p.analysis],
            limits=judgement.SetLimits.from_settings(),
        ) if avatar.subject_class not in PET_CLASSES else None,
    )
