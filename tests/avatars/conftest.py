import pytest
from django.core import mail

from studio.avatars import services
from studio.avatars.models import Avatar, AvatarState
from tests.helpers import state_of


@pytest.fixture
def confirmed(user, make_draft, django_capture_on_commit_callbacks):
    """A paid avatar (3 themes: 2 + 3 credits) whose submit task has not run yet."""

    def confirm(**draft):
        avatar = make_draft(user, **draft)
        with django_capture_on_commit_callbacks(execute=False):
            services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
        return Avatar.objects.get(pk=avatar.pk)

    return confirm


@pytest.fixture
def delivered(user, make_draft, studio_on_sandbox, reconcile_until, django_capture_on_commit_callbacks):
    """A finished avatar (Astria's `fast` test branch): one style of 2 images, made by the sandbox and stored."""
    avatar = make_draft(user, themes=("film-noir",), credits=10)
    with django_capture_on_commit_callbacks(execute=True):
        services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
    reconcile_until(lambda: state_of(avatar) == AvatarState.DONE)
    mail.outbox.clear()
    avatar.refresh_from_db()
    return avatar
