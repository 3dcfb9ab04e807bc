"""Zip downloads of a gallery: exactly the chosen images, or a word on why there is nothing to zip;
kept a day, and never rebuilt once given up on."""

import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from studio.avatars import exports
from studio.avatars.models import GalleryExport, GeneratedImage
from tests.avatars.factories import done_avatar
from tests.helpers import HTMX

pytestmark = pytest.mark.django_db


def test_the_zip_holds_exactly_the_chosen_images(user_client, user, django_capture_on_commit_callbacks):
    avatar = done_avatar(user=user, prompts=2, images_per_prompt=3)
    favourites = list(GeneratedImage.objects.filter(avatar=avatar)[:2])
    GeneratedImage.objects.filter(pk__in=[i.pk for i in favourites]).update(is_favourite=True)

    sizes = {}
    for scope, expected in (("all", 6), ("favourites", 2)):
        with django_capture_on_commit_callbacks(execute=True):
            user_client.post(reverse("avatars:export_create", args=[avatar.pk]), {"scope": scope})
        export = GalleryExport.objects.filter(avatar=avatar, scope=scope).get()
        assert export.state == GalleryExport.State.READY
        response = user_client.get(reverse("avatars:export", args=[avatar.pk, export.pk]) + "?download=1")
        archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
        assert len(archive.namelist()) == expected
        sizes[scope] = sorted(info.file_size for info in archive.infolist())
    assert "attachment" in response["Content-Disposition"]


def test_a_favourites_zip_with_no_favourites_explains_itself(user_client, user):
    avatar = done_avatar(user=user, prompts=1, images_per_prompt=1)

    url = reverse("avatars:export_create", args=[avatar.pk])

    response = user_client.post(url, {"scope": "favourites"}, headers=HTMX)

    assert "Mark a few images as favourites first" in response.content.decode()
    assert not GalleryExport.objects.exists()


def test_zips_are_deleted_with_their_files_after_a_day(user, settings, django_capture_on_commit_callbacks):
    avatar = done_avatar(user=user, prompts=1, images_per_prompt=2)
    with django_capture_on_commit_callbacks(execute=True):
        old = exports.export_create(user=user, avatar_id=avatar.pk, scope=GalleryExport.Scope.ALL)
    old.refresh_from_db()
    a_day_ago = timezone.now() - timedelta(hours=settings.EXPORT_KEEP_HOURS, minutes=1)
    GalleryExport.objects.filter(pk=old.pk).update(created_at=a_day_ago)
    with django_capture_on_commit_callbacks(execute=True):  # too old to hand out again: built afresh
        fresh = exports.export_create(user=user, avatar_id=avatar.pk, scope=GalleryExport.Scope.ALL)

    assert exports.export_purge_expired() == 1

    assert list(GalleryExport.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not default_storage.exists(old.file.name)
    assert default_storage.exists(GalleryExport.objects.get().file.name)


def test_a_zip_given_up_on_is_not_built_by_a_late_run(user, settings, django_capture_on_commit_callbacks):
    avatar = done_avatar(user=user, prompts=1, images_per_prompt=1)
    with django_capture_on_commit_callbacks(execute=False):
        export = exports.export_create(user=user, avatar_id=avatar.pk, scope=GalleryExport.Scope.ALL)

    exports.export_fail(export_id=str(export.pk))
    exports.export_build(export_id=str(export.pk))

    export.refresh_from_db()
    assert export.state == GalleryExport.State.FAILED and not export.file
    assert not list(Path(settings.MEDIA_ROOT).rglob("*.zip"))
