import pytest
from django.core.management import CommandError, call_command

from studio.avatars.management.commands import demo
from studio.avatars.models import Avatar
from tests.factories import AvatarFactory

pytestmark = pytest.mark.django_db


def test_demo_says_so_when_the_demo_user_holds_too_many_drafts(user, settings):
    settings.AVATAR_MAX_DRAFTS = 1
    AvatarFactory(user=user)

    with pytest.raises(CommandError, match="You already have 1 avatar waiting for photos or an order"):
        call_command("demo", "--email", user.email, "--no-wait")

    assert Avatar.objects.filter(user=user).count() == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_demo_with_edits_ends_with_one_of_each_kind(
    request, astria_sandbox, live_server, settings, capsys, monkeypatch
):
    monkeypatch.setattr(demo.Command, "poll_seconds", 0.05)  # the worker is quick here: look more often
    settings.PUBLIC_URL = live_server.url
    settings.IMAGES_PER_PROMPT = 2
    call_command("sync_themes")
    request.getfixturevalue("celery_worker_real")

    call_command("demo", "--themes", "film-noir", "--edits", "--timeout", "120")

    out = capsys.readouterr().out
    assert "More like “Film noir”, image 1: done, 1 credit, images 1024x1024, 1024x1024" in out
    assert "LinkedIn banner: “Film noir”, image 1: done, 1 credit, images 3072x768" in out
    assert "Bigger: “Film noir”, image 1: done, 1 credit, images 4096x4096" in out
    assert "Touch-up: “Film noir”, image 1 · plain grey background: done, 1 credit, images 1024x1024" in out
    assert "Profile picture, square: 400 px JPG, free" in out and "Profile picture, round: 400 px PNG, free" in out
    avatar = Avatar.objects.get()
    assert avatar.prompts.filter(kind__in=["more", "extend", "bigger", "touchup"], state="done").count() == 4
