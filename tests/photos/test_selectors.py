import pytest

from studio import faces
from studio.photos import selectors
from studio.photos.models import Photo, PhotoVerdict
from tests.faces import photographs
from tests.factories import AvatarFactory
from tests.photos.factories import PhotoFactory, ready_photos

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed_set(avatar):
    """Oldest first: accepted, warned, processing, refused, accepted."""
    verdicts = [PhotoVerdict.ACCEPTED, PhotoVerdict.WARNED, PhotoVerdict.PROCESSING, PhotoVerdict.REJECTED,
                PhotoVerdict.ACCEPTED]
    return [PhotoFactory(avatar=avatar, verdict=verdict) for verdict in verdicts]


def test_the_pipeline_trains_on_accepted_photos_with_or_without_warnings(mixed_set, avatar):
    accepted = list(selectors.photo_list_accepted(avatar=avatar))

    assert accepted == [mixed_set[0], mixed_set[1], mixed_set[4]]
    assert selectors.photo_count_accepted(avatar=avatar) == 3
    assert selectors.photo_minimum_met(avatar=avatar) is False


def test_four_accepted_photos_are_enough(avatar, settings):
    PhotoFactory.create_batch(settings.PHOTOS_MIN_ACCEPTED - 1, avatar=avatar)
    PhotoFactory(avatar=avatar, verdict=PhotoVerdict.REJECTED)
    assert not selectors.photo_minimum_met(avatar=avatar)

    PhotoFactory(avatar=avatar, verdict=PhotoVerdict.WARNED)

    assert selectors.photo_minimum_met(avatar=avatar)


def test_photos_are_listed_only_for_their_owner(mixed_set, avatar, user, other_user):
    assert list(selectors.photo_list_for_avatar(user=user, avatar=avatar)) == mixed_set
    assert list(selectors.photo_list_for_avatar(user=other_user, avatar=avatar)) == []
    with pytest.raises(Photo.DoesNotExist):
        selectors.photo_get_for_user(user=other_user, avatar_id=avatar.pk, photo_id=mixed_set[0].pk)
    with pytest.raises(Photo.DoesNotExist):  # the right owner, the wrong avatar
        selectors.photo_get_for_user(user=user, avatar_id=AvatarFactory(user=user).pk, photo_id=mixed_set[0].pk)


def test_the_photo_set_counts_what_the_page_shows(mixed_set, avatar, user, settings, django_assert_num_queries):
    with django_assert_num_queries(1):
        photo_set = selectors.photo_set_for_avatar(user=user, avatar=avatar)

    assert (photo_set.accepted, photo_set.processing, photo_set.still_needed) == (3, 1, 1)
    assert photo_set.room == settings.PHOTOS_MAX_PER_AVATAR - 4  # refused photos take no room
    assert not photo_set.enough


def test_a_photo_can_be_fetched_without_naming_its_avatar(mixed_set, user, other_user):
    assert selectors.photo_get_for_user(user=user, photo_id=mixed_set[0].pk) == mixed_set[0]
    with pytest.raises(Photo.DoesNotExist):
        selectors.photo_get_for_user(user=other_user, photo_id=mixed_set[0].pk)


def test_the_set_identity_is_the_face_the_counted_photos_agree_on(user):
    woman = AvatarFactory(user=user, subject_class="woman")
    ready_photos(woman, 3)

    identity = selectors.photo_set_identity(avatar=woman)

    assert faces.distance(identity, photographs.face("astronaut").descriptor) < 0.6
    assert faces.distance(identity, photographs.face("hopper").descriptor) > 0.6
    assert selectors.photo_set_identity(avatar=AvatarFactory(user=user, subject_class="dog")) is None
