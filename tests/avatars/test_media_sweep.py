"""The daily media sweep removes old files that no row names, and nothing else."""

import os
import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from studio.avatars.media_sweep import media_sweep_orphans
from studio.avatars.models import GalleryExport
from tests.avatars.factories import GeneratedImageFactory
from tests.photos.factories import PhotoFactory

pytestmark = pytest.mark.django_db


def _write(name: str, *, hours_old: float) -> str:
    stored = default_storage.save(name, ContentFile(b"data"))
    then = time.time() - hours_old * 3600
    os.utime(default_storage.path(stored), (then, then))
    return stored


def _exists(name: str) -> bool:
    return default_storage.exists(name)


def test_the_sweep_deletes_old_files_no_row_names_and_keeps_the_rest(settings):
    settings.MEDIA_SWEEP_GRACE_HOURS = 24
    photo = PhotoFactory()
    folder = f"photos/{photo.avatar.user_id}/{photo.avatar_id}"
    photo.image.name = _write(f"{folder}/kept.jpg", hours_old=48)
    photo.incoming.name = _write(f"{folder}/incoming/{photo.pk}", hours_old=48)
    photo.save()
    image = GeneratedImageFactory()
    for field in (image.image, image.thumbnail):
        os.utime(default_storage.path(field.name), (time.time() - 48 * 3600,) * 2)
    export = GalleryExport.objects.create(avatar=image.avatar, scope="all", state="ready")
    export.file.name = _write(f"exports/{image.avatar.user_id}/{export.pk.hex}.zip", hours_old=48)
    export.save()

    orphans = [
        _write(f"{folder}/left-behind.jpg", hours_old=48),
        _write(f"{folder}/incoming/lost-upload", hours_old=48),
        _write(f"images/{image.avatar.user_id}/{image.avatar_id}/left-behind.webp", hours_old=48),
        _write("photos/1/00000000-0000-0000-0000-000000000000/of-a-deleted-avatar.jpg", hours_old=48),
        _write(f"exports/{image.avatar.user_id}/old.zip", hours_old=48),
    ]
    being_written = _write(f"{folder}/just-now.jpg", hours_old=1)
    not_ours = _write("elsewhere/file.txt", hours_old=48)

    counts = media_sweep_orphans()

    assert counts["deleted"] == len(orphans)
    assert not any(_exists(name) for name in orphans)
    kept = [photo.image.name, photo.incoming.name, image.image.name, image.thumbnail.name, export.file.name]
    assert all(_exists(name) for name in [*kept, being_written, not_ours])


def test_a_file_named_by_a_row_of_another_avatar_is_kept(settings):
    """The quick lookup is among the folder's own avatar; a file is deleted only if no row at all names it."""
    settings.MEDIA_SWEEP_GRACE_HOURS = 24
    photo, elsewhere = PhotoFactory(), PhotoFactory()
    photo.image.name = _write(f"photos/{elsewhere.avatar.user_id}/{elsewhere.avatar_id}/moved.jpg", hours_old=48)
    photo.save()

    assert media_sweep_orphans()["deleted"] == 0
    assert _exists(photo.image.name)


def test_the_sweep_runs_on_an_empty_storage(settings):
    assert media_sweep_orphans() == {"files": 0, "deleted": 0}
    assert not Path(settings.MEDIA_ROOT, "photos").exists()
