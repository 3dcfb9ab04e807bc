"""The studio on a real S3 API (moto's standalone server, tests/s3_fixtures.py), as on more than
one machine: uploads, signed URLs, result images, zips and deletion all go through the bucket, and
nothing is read from or left on the local disk."""

import io
import zipfile

import pytest
import requests
from django.core.files.storage import default_storage
from django.urls import reverse

from studio.avatars import exports, media_sweep, progress, services
from studio.avatars.models import GalleryExport
from studio.photos import services as photo_services
from tests.avatars.factories import done_avatar
from tests.factories import AvatarFactory
from tests.photos.conftest import distinct_photos, uploaded

pytestmark = pytest.mark.django_db


def _follow_signed(response, s3_bucket) -> requests.Response:
    """The file behind a redirect to a signed URL, fetched as the browser would (no cookies)."""
    assert response.status_code == 302
    assert s3_bucket.name in response.url and "X-Amz-Signature=" in response.url
    fetched = requests.get(response.url, timeout=10)
    assert fetched.status_code == 200
    return fetched


def test_an_uploaded_photo_is_checked_from_the_bucket_and_shown_by_a_signed_url(
    s3_bucket, user, user_client, settings, django_capture_on_commit_callbacks
):
    avatar = AvatarFactory(user=user)
    with django_capture_on_commit_callbacks(execute=True):
        photo = photo_services.photo_upload(user=user, avatar=avatar, upload=uploaded(distinct_photos(1)[0]))
    photo.refresh_from_db()

    assert photo.image.name and photo.thumbnail.name
    assert s3_bucket.keys(f"photos/{user.pk}/{avatar.pk}/") == sorted([photo.image.name, photo.thumbnail.name])
    assert not (settings.MEDIA_ROOT).exists() or not any(settings.MEDIA_ROOT.rglob("*.*"))

    shown = _follow_signed(user_client.get(reverse("photos:thumbnail", args=[avatar.pk, photo.pk])), s3_bucket)
    assert shown.headers["Content-Type"] == "image/webp"
    assert shown.content == s3_bucket.read(photo.thumbnail.name)


def test_a_result_image_is_downloaded_by_a_short_lived_signed_url_with_our_headers(s3_bucket, user, user_client):
    avatar = done_avatar(user=user, prompts=1, images_per_prompt=1)
    image = avatar.images.get()

    response = user_client.get(reverse("avatars:image", args=[avatar.pk, image.pk]) + "?download=1")

    assert "X-Amz-Expires=300" in response.url
    assert response["Cache-Control"] == "private, no-store"
    fetched = _follow_signed(response, s3_bucket)
    assert fetched.headers["Content-Type"] == "image/jpeg"
    assert fetched.headers["Content-Disposition"].startswith("attachment")
    assert fetched.content == s3_bucket.read(image.image.name)


def test_result_images_are_stored_in_the_bucket(
    s3_bucket, user_client, trained_with_seven_prompts, studio_on_sandbox, django_capture_on_commit_callbacks
):
    avatar = trained_with_seven_prompts(prompt_delay=0)
    studio_on_sandbox.advance()
    with django_capture_on_commit_callbacks(execute=True):
        progress.avatar_sync_prompts(avatar_id=str(avatar.pk))

    stored = s3_bucket.keys(f"images/{avatar.user_id}/{avatar.pk}/")
    names = [name for image in avatar.images.all() for name in (image.image.name, image.thumbnail.name)]
    assert len(stored) == 7 * 2 * 2 and sorted(names) == stored
    assert s3_bucket.read(stored[0])[:3] in (b"\xff\xd8\xff", b"RIF")


def test_a_zip_is_built_from_the_bucket_into_the_bucket_and_downloaded_by_a_signed_url(
    s3_bucket, user, user_client, django_capture_on_commit_callbacks
):
    avatar = done_avatar(user=user, prompts=2, images_per_prompt=2)
    with django_capture_on_commit_callbacks(execute=True):
        export = exports.export_create(user=user, avatar_id=avatar.pk, scope=GalleryExport.Scope.ALL)
    export.refresh_from_db()
    assert export.state == GalleryExport.State.READY
    assert export.file.name in s3_bucket.keys("exports/")

    response = user_client.get(reverse("avatars:export", args=[avatar.pk, export.pk]) + "?download=1")
    fetched = _follow_signed(response, s3_bucket)
    with zipfile.ZipFile(io.BytesIO(fetched.content)) as archive:
        assert len(archive.namelist()) == 4


def test_deleting_an_avatar_removes_its_files_from_the_bucket(
    s3_bucket, user, django_capture_on_commit_callbacks
):
    kept = done_avatar(user=user, prompts=1, images_per_prompt=2)
    gone = done_avatar(user=user, prompts=1, images_per_prompt=2)
    with django_capture_on_commit_callbacks(execute=True):
        exports.export_create(user=user, avatar_id=gone.pk, scope=GalleryExport.Scope.ALL)
    before = s3_bucket.keys()
    assert len(before) == 2 * 4 + 1

    with django_capture_on_commit_callbacks(execute=True):
        services.avatar_delete(user=user, avatar_id=gone.pk)

    left = s3_bucket.keys()
    assert len(left) == 4
    assert all(str(kept.pk) in name for name in left)


def test_the_media_sweep_finds_and_deletes_orphans_in_the_bucket(s3_bucket, user, settings):
    avatar = done_avatar(user=user, prompts=1, images_per_prompt=1)
    orphan = default_storage.save(f"images/{user.pk}/{avatar.pk}/orphan.jpg", io.BytesIO(b"left behind"))
    settings.MEDIA_SWEEP_GRACE_HOURS = -1  # everything counts as old enough

    counts = media_sweep.media_sweep_orphans()

    assert counts["deleted"] == 1
    assert orphan not in s3_bucket.keys(prefix="images/") and len(s3_bucket.keys()) == 2
