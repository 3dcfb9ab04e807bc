"""Removing media files that no row points to: left by a crash between writing a file and saving its
row, or by a delete whose file removal failed. Run by beat once a day (`media_sweep_orphans`).

The storage is read one folder at a time (`storage.listdir`, a delimited listing on S3), and each
folder's names are looked up among the rows of the avatar the folder belongs to (an indexed
lookup), so memory and each query stay the size of one folder whatever the size of the studio.
A file is deleted only when it is older than MEDIA_SWEEP_GRACE_HOURS (never one being written
right now) and no row anywhere names it.
"""

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import Storage, default_storage
from django.db import models
from django.utils import timezone

from studio.avatars.models import GalleryExport, GeneratedImage
from studio.photos.models import Photo

logger = logging.getLogger(__name__)

LOOKUP_BATCH = 500


@dataclass(frozen=True)
class MediaFolder:
    """A top folder of media storage and the file fields whose files live under it."""

    prefix: str
    fields: tuple[tuple[type[models.Model], str], ...]
    avatar_segment: int | None = None  # photos/<user id>/<avatar id>/...: the avatar id's position


MEDIA_FOLDERS = (
    # studio.photos.services.photo_folder
    MediaFolder("photos", ((Photo, "incoming"), (Photo, "image"), (Photo, "thumbnail")), avatar_segment=2),
    # studio.avatars.models._image_path
    MediaFolder("images", ((GeneratedImage, "image"), (GeneratedImage, "thumbnail")), avatar_segment=2),
    # studio.avatars.exports.export_build
    MediaFolder("exports", ((GalleryExport, "file"),)),
)


def media_sweep_orphans(*, storage: Storage | None = None) -> dict[str, int]:
    """Delete the files under the known folders that no row names and that are older than the
    grace period. Returns how many files were looked at and how many were deleted."""
    storage = storage or default_storage
    written_before = timezone.now() - timedelta(hours=settings.MEDIA_SWEEP_GRACE_HOURS)
    counts = {"files": 0, "deleted": 0}
    for media in MEDIA_FOLDERS:
        for folder, names in _folders(storage, media.prefix):
            counts["files"] += len(names)
            unnamed = names - _named(media, names, avatar_id=_avatar_id(media, folder))
            for name in sorted(unnamed):
                if _written_before(storage, name, written_before) and not _named(media, {name}):
                    storage.delete(name)
                    counts["deleted"] += 1
                    logger.info("media sweep: deleted %s, which no row names", name)
    return counts


def _folders(storage: Storage, folder: str) -> Iterator[tuple[str, set[str]]]:
    """Every folder under `folder` (itself included) that holds files, with their full names."""
    try:
        subfolders, files = storage.listdir(folder)
    except FileNotFoundError:  # a local storage that never had this folder
        return
    if files:
        yield folder, {f"{folder}/{name}" for name in files}
    for subfolder in sorted(subfolders):
        yield from _folders(storage, f"{folder}/{subfolder}")


def _avatar_id(media: MediaFolder, folder: str) -> uuid.UUID | None:
    segments = folder.split("/")
    if media.avatar_segment is None or len(segments) <= media.avatar_segment:
        return None
    try:
        return uuid.UUID(segments[media.avatar_segment])
    except ValueError:
        return None


def _named(media: MediaFolder, names: set[str], *, avatar_id: uuid.UUID | None = None) -> set[str]:
    """Which of the names a row points to: among the avatar's rows when the folder says whose
    they are, among all rows otherwise."""
    found: set[str] = set()
    ordered = sorted(names)
    for start in range(0, len(ordered), LOOKUP_BATCH):
        batch = ordered[start : start + LOOKUP_BATCH]
        for model, field in media.fields:
            rows = model.objects.filter(**{f"{field}__in": batch})
            if avatar_id is not None:
                rows = rows.filter(avatar_id=avatar_id)
            found.update(rows.values_list(field, flat=True))
    return found


def _written_before(storage: Storage, name: str, moment: datetime) -> bool:
    try:
        modified = storage.get_modified_time(name)
    except FileNotFoundError:  # deleted meanwhile
        return False
    if timezone.is_naive(modified):
        modified = timezone.make_aware(modified, timezone.get_default_timezone())
    return modified < moment
