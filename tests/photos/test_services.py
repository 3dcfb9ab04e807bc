from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image, ImageFilter, ImageOps

from studio.avatars.models import Avatar, AvatarState
from studio.photos import selectors, services
from studio.photos.exceptions import PhotoLimitReached, PhotosLocked
from studio.photos.models import Photo, PhotoVerdict
from studio.photos.tasks import photo_process as photo_process_task
from tests.faces import photographs
from tests.factories import AvatarFactory
from tests.photos import corpus
from tests.photos.conftest import distinct_photos, uploaded
from tests.photos.factories import PhotoFactory

pytestmark = pytest.mark.django_db


def test_an_upload_is_normalised_by_the_worker_and_stored_under_generated_names(add_photo, avatar, media_files):
    photo = add_photo(corpus.oriented(6), name="../../etc/passwd\x00.jpg")

    assert photo.verdict == PhotoVerdict.ACCEPTED and photo.findings == []
    assert (photo.width, photo.height) == (600, 800)
    assert photo.original_name == "passwd.jpg"  # the browser's name is only shown, never a path
    folder = f"photos/{avatar.user_id}/{avatar.pk}/"
    assert media_files() == sorted([photo.image.name, photo.thumbnail.name])
    assert photo.image.name.startswith(folder) and photo.image.name.endswith(".jpg")
    assert photo.thumbnail.name.startswith(folder) and photo.thumbnail.name.endswith(".webp")
    assert not photo.incoming
    with default_storage.open(photo.image.name) as stored:
        assert Image.open(stored).size == (600, 800)
    assert photo.bytes == default_storage.size(photo.image.name)
    assert len(photo.dhash) == 16


def test_the_original_upload_is_not_kept_and_no_metadata_is_stored(add_photo, media_files):
    source = corpus.with_metadata("JPEG")

    add_photo(source)

    for name in media_files():
        with default_storage.open(name) as stored:
            data = stored.read()
        assert data != source
        assert corpus.SECRET.encode() not in data and b"GPSLatitude" not in data


def test_a_file_refused_at_the_door_keeps_nothing_and_queues_nothing(
    django_capture_on_commit_callbacks, user, avatar, media_files
):
    with django_capture_on_commit_callbacks() as callbacks:
        photo = services.photo_upload(user=user, avatar=avatar, upload=uploaded(corpus.HTML, "cv.jpg"))

    assert callbacks == []
    assert photo.verdict == PhotoVerdict.REJECTED
    assert photo.findings[0]["code"] == "unsupported_format" and photo.findings[0]["level"] == "refuse"
    assert photo.original_name == "cv.jpg"
    assert media_files() == []


def test_a_picture_refused_by_the_worker_keeps_only_its_thumbnail(
    add_photo, media_files, django_capture_on_commit_callbacks
):
    photo = add_photo(corpus.jpeg(corpus.photo().filter(ImageFilter.GaussianBlur(6))))

    assert photo.verdict == PhotoVerdict.REJECTED
    assert "very_blurry" in [f["code"] for f in photo.findings]
    # It decoded: its owner sees which photo was refused. Nothing of it can be sent to train.
    assert photo.thumbnail and not photo.image and not photo.incoming and photo.analysis is None
    assert media_files() == [photo.thumbnail.name]

    with django_capture_on_commit_callbacks(execute=True):
        services.photo_delete(user=photo.avatar.user, avatar_id=photo.avatar_id, photo_id=photo.pk)
    assert media_files() == []


def test_a_truncated_file_passes_the_door_and_is_refused_by_the_full_decode(add_photo, media_files):
    photo = add_photo(corpus.truncated_jpeg())

    assert [f["code"] for f in photo.findings] == ["damaged"]
    assert media_files() == []


def test_warnings_keep_the_photo(add_photo):
    photo = add_photo(corpus.jpeg(corpus.photo(faces=corpus.WITH_BYSTANDER)))

    assert photo.verdict == PhotoVerdict.WARNED
    assert photo.warnings[0]["code"] == "several_faces" and photo.refusals == []
    assert photo.image and photo.thumbnail


def test_pets_are_not_asked_for_faces(add_photo, user):
    dog = AvatarFactory(user=user, subject_class="dog")

    photo = add_photo(corpus.jpeg(corpus.photo(faces=())), to=dog)

    assert photo.verdict == PhotoVerdict.ACCEPTED


def test_the_same_shot_twice_counts_once_and_counts_again_when_its_twin_goes(add_photo, user, avatar):
    first = add_photo(corpus.jpeg(quality=92))
    second = add_photo(corpus.jpeg(ImageOps.mirror(corpus.photo()), quality=70), name="IMG_0002.jpg")

    assert second.verdict == PhotoVerdict.WARNED and not second.counted
    assert [f["code"] for f in second.findings] == ["same_shot"]
    assert "IMG_0001.jpg" in second.findings[0]["message"]
    first.refresh_from_db()
    assert first.verdict == PhotoVerdict.ACCEPTED and first.counted
    assert selectors.photo_count_accepted(avatar=avatar) == 1

    services.photo_delete(user=user, avatar_id=avatar.pk, photo_id=first.pk)

    second.refresh_from_db()
    assert second.verdict == PhotoVerdict.ACCEPTED and second.findings == [] and second.counted
    assert selectors.photo_count_accepted(avatar=avatar) == 1


def test_pets_near_duplicates_are_warned_and_still_count(add_photo, user):
    dog = AvatarFactory(user=user, subject_class="dog")
    picture = corpus.photo(faces=())

    add_photo(corpus.jpeg(picture, quality=92), to=dog)
    second = add_photo(corpus.jpeg(picture, quality=70), to=dog)

    assert [f["code"] for f in second.findings] == ["near_duplicate"] and second.counted
    assert selectors.photo_count_accepted(avatar=dog) == 2


def test_processing_twice_changes_nothing(add_photo, media_files):
    photo = add_photo()
    files = media_files()

    services.photo_process(photo_id=photo.pk)

    assert media_files() == files
    assert Photo.objects.get(pk=photo.pk).verdict == PhotoVerdict.ACCEPTED


def test_a_photo_deleted_before_processing_leaves_no_files(django_capture_on_commit_callbacks, user, avatar,
                                                           media_files):
    photo = services.photo_upload(user=user, avatar=avatar, upload=uploaded())  # task not run yet
    assert media_files() == [photo.incoming.name]

    with django_capture_on_commit_callbacks(execute=True):
        services.photo_delete(user=user, avatar_id=avatar.pk, photo_id=photo.pk)
    services.photo_process(photo_id=photo.pk)

    assert media_files() == []


def test_a_run_that_loses_the_race_removes_what_it_wrote(user, avatar, media_files, monkeypatch):
    photo = services.photo_upload(user=user, avatar=avatar, upload=uploaded())
    real_process = services.intake.process

    def finished_meanwhile(*args, **kwargs):
        result = real_process(*args, **kwargs)
        Photo.objects.filter(pk=photo.pk).update(verdict=PhotoVerdict.REJECTED)  # another run won
        return result

    monkeypatch.setattr(services.intake, "process", finished_meanwhile)
    services.photo_process(photo_id=photo.pk)

    assert media_files() == []


def test_an_unexpected_error_refuses_the_photo_with_an_apology(user, avatar, media_files, monkeypatch):
    photo = services.photo_upload(user=user, avatar=avatar, upload=uploaded())
    monkeypatch.setattr(services.intake, "process", lambda *a, **k: 1 / 0)

    # As a worker runs it: the exception is recorded, not raised, and the failure handler runs.
    result = photo_process_task.apply(args=[str(photo.pk)], throw=False)

    assert isinstance(result.result, ZeroDivisionError)
    photo.refresh_from_db()
    assert photo.verdict == PhotoVerdict.REJECTED
    assert photo.findings[0]["code"] == "processing_failed"
    assert media_files() == []


def test_a_photo_that_keeps_killing_workers_is_given_up(user, avatar, media_files, settings):
    photo = services.photo_upload(user=user, avatar=avatar, upload=uploaded())
    Photo.objects.filter(pk=photo.pk).update(attempts=settings.PHOTOS_PROCESSING_MAX_ATTEMPTS)

    services.photo_process(photo_id=photo.pk)

    photo.refresh_from_db()
    assert photo.verdict == PhotoVerdict.REJECTED and photo.findings[0]["code"] == "processing_failed"
    assert media_files() == []


def test_the_sweep_re_enqueues_lost_processing_and_gives_up_on_hopeless_cases(
    django_capture_on_commit_callbacks, user, avatar, settings
):
    lost = services.photo_upload(user=user, avatar=avatar, upload=uploaded())
    hopeless = services.photo_upload(user=user, avatar=avatar, upload=uploaded(corpus.jpeg(corpus.photo(seed=9))))
    fresh = services.photo_upload(user=user, avatar=avatar, upload=uploaded(corpus.jpeg(corpus.photo(seed=8))))
    long_ago = timezone.now() - timedelta(seconds=settings.PHOTOS_PROCESSING_RETRY_AFTER + 1)
    Photo.objects.filter(pk__in=[lost.pk, hopeless.pk]).update(updated_at=long_ago)
    Photo.objects.filter(pk=hopeless.pk).update(attempts=settings.PHOTOS_PROCESSING_MAX_ATTEMPTS)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.photo_sweep()

    assert len(callbacks) == 1
    verdicts = dict(Photo.objects.values_list("pk", "verdict"))
    assert verdicts == {
        lost.pk: PhotoVerdict.ACCEPTED,
        hopeless.pk: PhotoVerdict.REJECTED,
        fresh.pk: PhotoVerdict.PROCESSING,
    }


def test_an_avatar_takes_at_most_the_maximum_and_refused_photos_take_no_room(user, avatar, settings):
    settings.PHOTOS_MAX_PER_AVATAR = 3
    PhotoFactory.create_batch(2, avatar=avatar)
    PhotoFactory.create_batch(5, avatar=avatar, verdict=PhotoVerdict.REJECTED)
    services.photo_upload(user=user, avatar=avatar, upload=uploaded())

    with pytest.raises(PhotoLimitReached) as full:
        services.photo_upload(user=user, avatar=avatar, upload=uploaded())

    assert "3 photos, the most it can use" in full.value.message


def test_old_refusals_are_pruned(user, avatar, settings):
    settings.PHOTOS_MAX_PER_AVATAR = 4
    for index in range(6):
        services.photo_upload(user=user, avatar=avatar, upload=uploaded(b"", f"empty-{index}.jpg"))

    names = sorted(Photo.objects.values_list("original_name", flat=True))
    assert names == ["empty-2.jpg", "empty-3.jpg", "empty-4.jpg", "empty-5.jpg"]


def test_photos_cannot_change_once_the_avatar_is_ordered(add_photo, user, avatar):
    photo = add_photo()
    Avatar.objects.filter(pk=avatar.pk).update(state=AvatarState.QUEUED)

    with pytest.raises(PhotosLocked):
        services.photo_upload(user=user, avatar=avatar, upload=uploaded())
    with pytest.raises(PhotosLocked):
        services.photo_delete(user=user, avatar_id=avatar.pk, photo_id=photo.pk)
    assert Photo.objects.filter(pk=photo.pk).exists()


def test_nobody_else_can_upload_to_or_delete_from_an_avatar(add_photo, other_user, avatar):
    photo = add_photo()

    with pytest.raises(Avatar.DoesNotExist):
        services.photo_upload(user=other_user, avatar=avatar, upload=uploaded())
    with pytest.raises(Photo.DoesNotExist):
        services.photo_delete(user=other_user, avatar_id=avatar.pk, photo_id=photo.pk)


def test_deleting_a_photo_deletes_its_files(django_capture_on_commit_callbacks, add_photo, user, avatar, media_files):
    photo = add_photo()

    with django_capture_on_commit_callbacks(execute=True):
        services.photo_delete(user=user, avatar_id=avatar.pk, photo_id=photo.pk)

    assert not Photo.objects.filter(pk=photo.pk).exists()
    assert media_files() == []


def test_deleting_all_photos_of_an_avatar_in_any_state(django_capture_on_commit_callbacks, add_photo, user, avatar,
                                                       media_files):
    for data in distinct_photos(2):
        add_photo(data)
    services.photo_upload(user=user, avatar=avatar, upload=uploaded())  # still waiting for the worker
    add_photo(b"")  # refused
    other = AvatarFactory(user=user)
    kept = add_photo(to=other)
    Avatar.objects.filter(pk=avatar.pk).update(state=AvatarState.DONE)

    with django_capture_on_commit_callbacks(execute=True):
        count = services.photo_delete_all_for_avatar(avatar=avatar)

    assert count == 4
    assert list(Photo.objects.all()) == [kept]
    assert media_files() == sorted([kept.image.name, kept.thumbnail.name])


@pytest.mark.parametrize("thing", ["coffee", "chelsea"])
def test_a_cup_or_a_cat_is_refused_for_a_man_and_does_not_count(add_photo, user, thing):
    man = AvatarFactory(user=user, subject_class="man")
    for data in distinct_photos(3):
        add_photo(data, to=man)

    photo = add_photo(photographs.jpeg(thing), name=f"{thing}.jpg", to=man)

    assert photo.verdict == PhotoVerdict.REJECTED
    assert [f["code"] for f in photo.refusals] == ["no_face"]
    assert selectors.photo_count_accepted(avatar=man) == 3
    assert not selectors.photo_minimum_met(avatar=man)


def test_the_whole_set_is_judged_again_when_a_photo_arrives_or_leaves(add_photo, user, avatar):
    grace = add_photo(photographs.jpeg("hopper"), name="grace.jpg")
    assert grace.verdict == PhotoVerdict.ACCEPTED  # alone, she is the set

    others = [add_photo(data, name=f"IMG_{index}.jpg") for index, data in enumerate(distinct_photos(2))]

    grace.refresh_from_db()
    assert grace.verdict == PhotoVerdict.REJECTED and not grace.counted
    assert [f["code"] for f in grace.refusals] == ["someone_else"]
    assert "IMG_0.jpg and IMG_1.jpg" in grace.refusals[0]["message"]
    assert grace.image and grace.thumbnail  # kept: the set may change its mind
    assert selectors.photo_count_accepted(avatar=avatar) == 2

    for photo in others:
        services.photo_delete(user=user, avatar_id=avatar.pk, photo_id=photo.pk)

    grace.refresh_from_db()
    assert grace.verdict == PhotoVerdict.ACCEPTED and grace.findings == [] and grace.counted


def test_the_face_analysis_is_stored_with_the_photo_and_goes_with_it(add_photo, user, avatar):
    photo = add_photo()

    assert len(photo.analysis["faces"]) == 1 and len(photo.analysis["faces"][0]["descriptor"]) == 128

    services.photo_delete(user=user, avatar_id=avatar.pk, photo_id=photo.pk)

    assert not Photo.objects.filter(analysis__isnull=False).exists()
