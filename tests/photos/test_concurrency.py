import contextlib
import threading

import pytest
from PIL import ImageOps

from studio.photos import judgement, services
from studio.photos.exceptions import PhotoLimitReached
from studio.photos.models import Photo
from tests.concurrency import run_together
from tests.faces import photographs
from tests.factories import AvatarFactory, UserFactory
from tests.photos import corpus
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


def test_photos_finishing_together_are_judged_with_each_other(monkeypatch):
    # Each judgement waits (up to 5 s) for the others to reach theirs too: without the
    # avatar's row lock they would all judge a set missing the others' photos.
    arrived = threading.Barrier(5)
    judge = judgement.judge

    def judge_together(*args, **kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            arrived.wait(timeout=5)
        return judge(*args, **kwargs)

    monkeypatch.setattr(judgement, "judge", judge_together)
    user = UserFactory()
    avatar = AvatarFactory(user=user, subject_class="woman")
    files = {
        "first.jpg": corpus.jpeg(corpus.photo(seed=1)),
        "again.jpg": corpus.jpeg(ImageOps.mirror(corpus.photo(seed=1))),  # the same shot
        "grace.jpg": photographs.jpeg("hopper"),  # someone else
        "second.jpg": corpus.jpeg(corpus.photo(seed=2)),
        "third.jpg": corpus.jpeg(corpus.photo(seed=3)),
    }
    with monkeypatch.context() as uploading:  # the tasks run below, together, not one by one here
        uploading.setattr(services, "enqueue_on_commit", lambda *args: None)
        photos = [services.photo_upload(user=user, avatar=avatar, upload=uploaded(data, name))
                  for name, data in files.items()]

    run_together(lambda i: services.photo_process(photo_id=photos[i].pk), len(photos))

    judged = {p.original_name: p for p in Photo.objects.filter(avatar=avatar)}
    assert {name for name, p in judged.items() if p.counts} == {"first.jpg", "second.jpg", "third.jpg"}
    assert [f["code"] for f in judged["again.jpg"].findings] == ["same_shot"]
    assert [f["code"] for f in judged["grace.jpg"].findings] == ["someone_else"]
