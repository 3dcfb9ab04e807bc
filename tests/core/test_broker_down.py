"""With the broker down, what people do still succeeds; the work is picked up once it is back."""

import pytest
from celery.app.task import Task
from django.core import mail
from django.urls import reverse
from kombu.exceptions import OperationalError

from accounts.models import User
from studio.credits.selectors import credit_balance
from studio.photos import services as photo_services
from studio.photos.models import Photo, PhotoVerdict
from tests.photos import corpus
from tests.photos.conftest import uploaded

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down(monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(Task, "apply_async", unreachable)
    return monkeypatch


def test_signing_up_works_with_the_broker_down(client, broker_down, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_signup"),
            {"email": "new@example.test", "password1": "a-long-Pass-123", "password2": "a-long-Pass-123"},
        )

    assert response.status_code == 302
    user = User.objects.get(email="new@example.test")
    assert credit_balance(user=user) == settings.CREDITS_SIGNUP_GRANT
    assert not [m for m in mail.outbox if "Welcome" in m.subject]  # the welcome email is the one thing lost


def test_an_upload_with_the_broker_down_is_kept_and_processed_later(
    user, client, broker_down, settings, django_capture_on_commit_callbacks
):
    from tests.factories import AvatarFactory

    avatar = AvatarFactory(user=user)
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("photos:upload", args=[avatar.pk]), {"photos": [uploaded(corpus.jpeg())]})

    assert response.status_code == 302
    photo = Photo.objects.get(avatar=avatar)
    assert photo.verdict == PhotoVerdict.PROCESSING

    broker_down.undo()  # the broker is back; the sweep on beat finds the photo
    settings.PHOTOS_PROCESSING_RETRY_AFTER = 0
    with django_capture_on_commit_callbacks(execute=True):
        photo_services.photo_sweep()
    photo.refresh_from_db()
    assert photo.verdict == PhotoVerdict.ACCEPTED
