import os
import threading

import pytest
from django.db import connection

from studio.photos import services
from studio.photos.models import Photo
from tests.factories import AvatarFactory, UserFactory
from tests.photos.conftest import uploaded
from tests.photos.factories import PhotoFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_postgres():
    if connection.vendor != "postgresql":
        if os.environ.get("CI"):
            pytest.fail("CI must run the concurrency tests on PostgreSQL")
        pytest.skip("needs PostgreSQL: SQLite takes one writer at a time, so nothing races")


def run_together(count: int, action) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(index: int) -> None:
        try:
            barrier.wait()
            results[index] = action(index)
        except Exception as error:  # collected and asserted on by the test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_concurrent_uploads_never_overfill_an_avatar(settings):
    user = UserFactory()
    avatar = AvatarFactory(user=user)
    PhotoFactory.create_batch(settings.PHOTOS_MAX_PER_AVATAR - 2, avatar=avatar)

    results = run_together(6, lambda i: services.photo_upload(user=user, avatar=avatar, upload=uploaded()))

    added = [r for r in results if isinstance(r, Photo)]
    refused = [r for r in results if isinstance(r, services.PhotoLimitReached)]
    assert (len(added), len(refused)) == (2, 4), results
    assert Photo.objects.filter(avatar=avatar).count() == settings.PHOTOS_MAX_PER_AVATAR


def test_concurrent_processing_of_one_photo_stores_one_set_of_files(settings):
    user = UserFactory()
    avatar = AvatarFactory(user=user)
    photo = services.photo_upload(user=user, avatar=avatar, upload=uploaded())

    run_together(4, lambda i: services.photo_process(photo_id=photo.pk))

    photo.refresh_from_db()
    root = settings.MEDIA_ROOT
    stored = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert stored == sorted([photo.image.name, photo.thumbnail.name])
