"""Zip downloads of an avatar's images (all of them or the favourites), built by a task and kept a day."""

import hashlib
import uuid

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from studio.avatars import tasks
from studio.avatars.models import Avatar, GalleryExport
from studio.avatars.selectors import image_list_for_export
from studio.core.exceptions import ApplicationError
from studio.core.media import zip_store, zip_to_reuse, zips_purge_expired
from studio.core.tasks import enqueue_on_commit


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
        reusable = zip_to_reuse(avatar.exports.filter(scope=scope, fingerprint=fingerprint))
        if reusable is not None:
            return reusable
        export = GalleryExport.objects.create(avatar=avatar, scope=scope, fingerprint=fingerprint)
        enqueue_on_commit(tasks.export_build, str(export.pk))
    return export


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
    return zips_purge_expired(GalleryExport.objects.all())
