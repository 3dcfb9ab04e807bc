"""The whole avatar pipeline against the sandbox, from confirming to every image stored: moved along
by the reconciler alone, or by a real worker and Astria's callbacks."""

import pytest
from django.conf import settings
from django.core import mail

from studio.avatars import services
from studio.avatars.models import AvatarState, CallbackEvent, GeneratedImage, PromptState
from studio.credits.selectors import wallets_out_of_balance
from tests.helpers import state_of

pytestmark = pytest.mark.django_db


def test_with_callbacks_dropped_the_reconciler_finishes_every_image(
    user, make_draft, studio_on_sandbox, reconcile_until, django_capture_on_commit_callbacks
):
    studio_on_sandbox.drop_callbacks()
    avatar = make_draft(user)
    with django_capture_on_commit_callbacks(execute=True):
        services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
    assert state_of(avatar) == AvatarState.SUBMITTED

    reconcile_until(lambda: state_of(avatar) == AvatarState.DONE)

    avatar.refresh_from_db()
    assert avatar.prompts.filter(state=PromptState.DONE).count() == 3
    assert GeneratedImage.objects.filter(avatar=avatar).count() == 3 * settings.IMAGES_PER_PROMPT
    for image in GeneratedImage.objects.filter(avatar=avatar):
        assert image.image.size == image.bytes and image.thumbnail.size > 0
        assert (image.width, image.height) == (1024, 1024)
    assert studio_on_sandbox.stats()["tunes_by_title"] == {str(avatar.pk): 1}
    assert not wallets_out_of_balance().exists()
    assert [m.subject for m in mail.outbox if "ready" in m.subject] == ["Your avatars of Ada are ready"]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_whole_flow_with_a_real_worker_and_real_callbacks(
    request, user, make_draft, astria_sandbox, live_server, settings
):
    settings.PUBLIC_URL = live_server.url
    avatar = make_draft(user)
    request.getfixturevalue("celery_worker_real")

    services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)

    astria_sandbox.wait_for(
        lambda: state_of(avatar) == AvatarState.DONE,
        timeout=60,  # without a step forward: a loaded machine is slow, not stuck
        progress=lambda: (state_of(avatar), GeneratedImage.objects.filter(avatar=avatar).count()),
    )
    assert GeneratedImage.objects.filter(avatar=avatar).count() == 3 * settings.IMAGES_PER_PROMPT
    # Astria's callbacks moved it along: one for the tune and one per prompt, each recorded once.
    assert CallbackEvent.objects.filter(avatar=avatar, kind="tune").count() == 1
    assert CallbackEvent.objects.filter(avatar=avatar, kind="prompt").count() == 3
    assert astria_sandbox.stats()["callbacks"]["sent"] == 4
    assert not wallets_out_of_balance().exists()
