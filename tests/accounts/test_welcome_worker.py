import pytest
from django.core import mail

from accounts.tasks import user_send_welcome_email
from tests.factories import UserFactory


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_welcome_email_is_sent_by_a_real_worker(celery_worker_real):
    user = UserFactory()

    user_send_welcome_email.delay(user.pk)

    celery_worker_real.wait_for(user_send_welcome_email, timeout=20)
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert mail.outbox[0].subject == "Welcome to Avatar Studio"
