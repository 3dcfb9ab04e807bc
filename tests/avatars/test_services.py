import pytest

from studio.avatars import services
from studio.avatars.models import Avatar, AvatarState
from tests.concurrency import run_together
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_drafts_created_at_once_never_exceed_the_limit(settings):
    settings.AVATAR_MAX_DRAFTS = 3
    user = UserFactory()

    results = run_together(
        lambda i: services.avatar_create(user=user, name=f"Avatar {i}", subject_class="woman"), 6
    )

    assert sum(isinstance(result, Avatar) for result in results) == 3
    assert sum(isinstance(result, services.DraftLimitReached) for result in results) == 3
    assert Avatar.objects.filter(user=user, state=AvatarState.DRAFT).count() == 3
