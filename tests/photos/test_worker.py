import pytest
from django.conf import settings

from studio.celery import app
from studio.photos import services
from studio.photos.models import PhotoVerdict
from studio.photos.tasks import photo_process
from tests.factories import AvatarFactory, UserFactory
from tests.helpers import real_worker
from tests.photos.conftest import uploaded


@pytest.fixture
def images_worker():
    """A real worker thread consuming the images queue (not eager mode)."""
    with real_worker([settings.CELERY_TASK_ROUTES["studio.photos.tasks.*"]["queue"]]) as finished:
        yield finished


def test_photo_tasks_are_routed_to_the_images_queue():
    route = app.amqp.router.route({}, "studio.photos.tasks.photo_process")

    assert route["queue"].name.endswith("images")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_upload_is_checked_by_a_real_worker_on_the_images_queue(images_worker):
    user = UserFactory()
    avatar = AvatarFactory(user=user)

    photo = services.photo_upload(user=user, avatar=avatar, upload=uploaded())  # enqueued on commit

    images_worker.wait_for(photo_process, timeout=30)
    photo.refresh_from_db()
    assert photo.verdict == PhotoVerdict.ACCEPTED
    assert photo.image and photo.thumbnail and not photo.incoming
