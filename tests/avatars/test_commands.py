import pytest
from django.core.management import CommandError, call_command

from studio.avatars.models import Avatar
from tests.factories import AvatarFactory

pytestmark = pytest.mark.django_db


def test_demo_says_so_when_the_demo_user_holds_too_many_drafts(user, settings):
    settings.AVATAR_MAX_DRAFTS = 1
    AvatarFactory(user=user)

    with pytest.raises(CommandError, match="You already have 1 avatar waiting for photos or an order"):
        call_command("demo", "--email", user.email, "--no-wait")

    assert Avatar.objects.filter(user=user).count() == 1
