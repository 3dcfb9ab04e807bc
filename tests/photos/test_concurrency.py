
import pytest

from studio.photos import services
from studio.photos.exceptions import PhotoLimitReached
from studio.photos.models import Photo
from tests.concurrency import run_together
from tests.factories import AvatarFactory, UserFactory
from tests.photos.conftest import uploaded
from tests.photos.factories import PhotoFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]




def test_concurrent_uploads_never_overfill_an_avatar(settings):
    user = UserFactory()
    avatar = AvatarFactory(user=user)
    PhotoFactory.create_batch(settings.PHOTOS_MAX_PER_AVATAR - 2, avatar=avatar)

    results = run_together(lambda i: services.photo_upload(user=user, avatar=avatar, upload=uploaded()), 6)

    added = [r for r in results if isinstance(r, Photo)]
    refused = [r for r in results if isinstance(r, PhotoLimitReached)]
    assert (len(added), len(refused)) == (2, 4), results
    assert Photo.objects.filter(avatar=avatar).count() == settings.PHOTOS_MAX_PER_AVATAR


def test_concurrent_processing_of_one_photo_stores_one_set_of_files(settings):
    user = UserFactory()
    avatar = AvatarFactory(user=user)
    photo = services.photo_upload(user=user, avatar=avatar, upload=uploaded())

    run_together(lambda i: services.photo_process(photo_id=photo.pk), 4)

    photo.refresh_from_db()
    root = settings.MEDIA_ROOT
    stored = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert stored == sorted([photo.image.name, photo.thumbnail.name])
