import pytest

from studio.avatars import services
from studio.avatars.models import Avatar


@pytest.fixture
def confirmed(user, make_draft, django_capture_on_commit_callbacks):
    """A paid avatar (3 themes: 2 + 3 credits) whose submit task has not run yet."""

    def confirm(**draft):
        avatar = make_draft(user, **draft)
        with django_capture_on_commit_callbacks(execute=False):
            services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
        return Avatar.objects.get(pk=avatar.pk)

    return confirm
