"""Zip downloads of an avatar's images (all of them or the favourites), built by a task and kept a day."""

import hashlib
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from studio.avatars import tasks
from studio.avatars.models import Avatar, GalleryExport
from studio.avatars.selectors import image_list_for_export
from studio.core.exceptions import ApplicationError
from studio.core.media import delete_with_files, zip_store
from studio.core.tasks import enqueue_on_commit

# A zip is reused while it has this long left to live, so its link still works when the user clicks.
REUSE_WHILE_LEFT = timedelta(hours=1)
# A build still running after this long died with its worker (the task's time limit is 300 s).
BUILD_AT_MOST = timedelta(minutes=5)


def export_create(*, user: User, avatar_id: uuid.UUID, scope: str) -> GalleryExport:
    """Start building a zip of the avatar's images (all, or the favourites). While a zip of the same
    images is ready, or being built, that one is the answer: asking again builds nothing."""
    with transaction.atomic():
        avatar = Avatar.objects.select_for_update().get(pk=avatar_id, user=user)
        images = avatar.images.all()
        if scope == GalleryExport.Scope.FAVOURITES:
            images = images.filter(is_favourite=True)
        ids = sorted(str(pk) for pk in images.values_list("pk", flat=True))
        if not ids:
            raise ApplicationError(
                "Mark a few images as favourites first." if scope == GalleryExport.Scope.FAVOURITES
                else "There are no images to download yet."
            )
        fingerprint = hashlib.sha256(",".join(ids).encode()).hexdigest()
        now = timezone.now()
        same = avatar.exports.filter(scope=scope, fingerprint=fingerprint)
        reusable = (
            same.filter(state=GalleryExport.State.READY, created_at__gt=now - _lifetime() + REUSE_WHILE_LEFT)
            | same.filter(state=GalleryExport.State.BUILDING, created_at__gt=now - BUILD_AT_MOST)
        ).order_by("-created_at").first()
        if reusable is not None:
            return reusable
        export = GalleryExport.objects.create(avatar=avatar, scope=scope, fingerprint=fingerprint)
        enqueue_on_commit(tasks.export_build, str(export.pk))
    return export


def _lifetime() -> timedelta:
    return timedelta(hours=settings.EXPORT_KEEP_HOURS)


def export_build(*, export_id: str) -> None:
    """Write the zip of the images into private storage."""
    export = GalleryExport.objects.select_related("avatar").filter(
        pk=export_id, state=GalleryExport.State.BUILDING
    ).first()
    if export is None:
        return
    folder = slugify(export.avatar.name) or "avatar"
    files = [(_name_in_zip(folder, image), image.image) for image in image_list_for_export(export=export)]
    stored, size = zip_store(f"exports/{export.avatar.user_id}/{export.pk.hex}.zip", files)
    updated = GalleryExport.objects.filter(pk=export.pk, state=GalleryExport.State.BUILDING).update(
        state=GalleryExport.State.READY, file=stored, image_count=len(files), bytes=size, updated_at=timezone.now()
    )
    if not updated:
        default_storage.delete(stored)


def _name_in_zip(folder: str, image) -> str:
    """"<avatar>/<batch>-<position>-<style>-<n>.jpg": the gallery's order, by name."""
    prompt = image.prompt
    style = slugify(prompt.label)[:40] or "prompt"
    return f"{folder}/{prompt.batch + 1:02d}-{prompt.position + 1:02d}-{style}-{image.index + 1}.jpg"


def export_fail(*, export_id: str) -> None:
    GalleryExport.objects.filter(pk=export_id, state=GalleryExport.State.BUILDING).update(
        state=GalleryExport.State.FAILED, updated_at=timezone.now()
    )


def export_purge_expired() -> int:
    """Zips are kept for a day: they are copies, rebuilt on request."""
    return delete_with_files(GalleryExport.objects.filter(created_at__lt=timezone.now() - _lifetime()))
