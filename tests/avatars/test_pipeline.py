"""The avatar pipeline against the sandbox, tasks run inline: confirm, submit, progress, results."""

from unittest.mock import patch

import pytest
from django.core import mail

from studio.astria.errors import AstriaTransient
from studio.avatars import services, submission
from studio.avatars.models import Avatar, AvatarState, CallbackEvent, GeneratedImage, PromptState
from studio.core.exceptions import ApplicationError, InsufficientCredits
from studio.credits.models import CreditEntry, EntryKind
from studio.credits.selectors import credit_balance, wallets_out_of_balance
from tests.concurrency import run_together
from tests.helpers import state_of

pytestmark = pytest.mark.django_db


def test_confirm_spends_once_queues_and_creates_the_prompts(user, make_draft, django_capture_on_commit_callbacks):
    avatar = make_draft(user, customs=["me reading in a cosy library"])
    before = credit_balance(user=user)

    with django_capture_on_commit_callbacks() as callbacks:
        services.avatar_confirm(user=user, avatar_id=avatar.pk)
        services.avatar_confirm(user=user, avatar_id=avatar.pk)  # a double click

    avatar.refresh_from_db()
    assert avatar.state == AvatarState.QUEUED
    assert avatar.prompts.count() == 4
    assert all(p.state == PromptState.PENDING and "sks woman" in p.text for p in avatar.prompts.all())
    assert credit_balance(user=user) == before - (2 + 4)
    assert CreditEntry.objects.filter(kind=EntryKind.SPEND, reference=f"avatar:{avatar.pk}").count() == 1
    assert len(callbacks) == 1  # one submit, enqueued once the transaction commits


def test_confirm_without_enough_credits_changes_nothing(user, make_draft):
    avatar = make_draft(user, credits=3)

    with pytest.raises(InsufficientCredits):
        services.avatar_confirm(user=user, avatar_id=avatar.pk)

    assert state_of(avatar) == AvatarState.DRAFT
    assert not avatar.prompts.exists()
    assert credit_balance(user=user) == 3


def test_confirm_needs_four_accepted_photos(user, make_draft):
    avatar = make_draft(user, photos=3)

    with pytest.raises(ApplicationError, match="at least 4"):
        services.avatar_confirm(user=user, avatar_id=avatar.pk)

    assert state_of(avatar) == AvatarState.DRAFT


def test_someone_elses_avatar_cannot_be_confirmed(user, other_user, make_draft):
    avatar = make_draft(user)

    with pytest.raises(Avatar.DoesNotExist):
        services.avatar_confirm(user=other_user, avatar_id=avatar.pk)


def test_with_callbacks_dropped_the_reconciler_finishes_every_image(
    user, make_draft, studio_on_sandbox, reconcile_until, django_capture_on_commit_callbacks
):
    studio_on_sandbox.drop_callbacks()
    avatar = make_draft(user)
    with django_capture_on_commit_callbacks(execute=True):
        services.avatar_confirm(user=user, avatar_id=avatar.pk)
    assert state_of(avatar) == AvatarState.SUBMITTED

    reconcile_until(lambda: state_of(avatar) == AvatarState.DONE)

    avatar.refresh_from_db()
    assert avatar.prompts.filter(state=PromptState.DONE).count() == 3
    assert GeneratedImage.objects.filter(avatar=avatar).count() == 3 * 8
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

    services.avatar_confirm(user=user, avatar_id=avatar.pk)

    astria_sandbox.wait_for(
        lambda: state_of(avatar) == AvatarState.DONE,
        timeout=60,  # without a step forward: a loaded machine is slow, not stuck
        progress=lambda: (state_of(avatar), GeneratedImage.objects.filter(avatar=avatar).count()),
    )
    assert GeneratedImage.objects.filter(avatar=avatar).count() == 24
    # Astria's callbacks moved it along: one for the tune and one per prompt, each recorded once.
    assert CallbackEvent.objects.filter(avatar=avatar, kind="tune").count() == 1
    assert CallbackEvent.objects.filter(avatar=avatar, kind="prompt").count() == 3
    assert astria_sandbox.stats()["callbacks"]["sent"] == 4
    assert not wallets_out_of_balance().exists()


@pytest.mark.parametrize("status", [500, 429, 504])
def test_a_create_that_fails_is_retried_and_makes_one_tune(
    status, user, make_draft, studio_on_sandbox, reconcile_until, django_capture_on_commit_callbacks
):
    avatar = make_draft(user)
    with django_capture_on_commit_callbacks(execute=False):
        services.avatar_confirm(user=user, avatar_id=avatar.pk)
    studio_on_sandbox.fail_next(1, status)

    with django_capture_on_commit_callbacks(execute=True):
        if status == 504:
            submission.avatar_submit(avatar_id=str(avatar.pk))  # "probably created": found by title
        else:
            with pytest.raises(AstriaTransient):  # what the task retries, with backoff
                submission.avatar_submit(avatar_id=str(avatar.pk))
            submission.avatar_submit(avatar_id=str(avatar.pk))  # the retry
    reconcile_until(lambda: state_of(avatar) == AvatarState.DONE)

    # A 504 had created the tune anyway: the retry found it by its title instead of making another.
    assert studio_on_sandbox.stats()["tunes_by_title"] == {str(avatar.pk): 1}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_submits_of_the_same_avatar_running_at_once_make_one_tune(user, make_draft, studio_on_sandbox):
    """`make chaos` (Astria answering 500s) had the reconciler start a second submit chain for an
    avatar whose first was still retrying. Two submits talking to Astria at once each created a
    tune: one became the avatar's, the other stayed at Astria, paid for and never deleted."""
    avatar = make_draft(user)
    with patch.object(services, "enqueue_on_commit"):  # the confirm's own submit is not sent
        services.avatar_confirm(user=user, avatar_id=avatar.pk)
    studio_on_sandbox.set_faults(latency=0.3)

    results = run_together(lambda i: submission.avatar_submit(avatar_id=str(avatar.pk)), count=4)

    assert [result for result in results if isinstance(result, Exception)] == []
    assert studio_on_sandbox.stats()["tunes_by_title"] == {str(avatar.pk): 1}
    assert Avatar.objects.get(pk=avatar.pk).state == AvatarState.SUBMITTED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_prompt_submits_running_at_once_create_each_prompt_once(user, make_draft, studio_on_sandbox):
    """`make chaos` (the worker killed mid-submit): the reconciler's resubmit of pending prompts met
    the submit's own, and both created the avatar's prompts at Astria."""
    avatar = make_draft(user)
    with patch.object(services, "enqueue_on_commit"):  # neither the submit nor its prompts are sent
        services.avatar_confirm(user=user, avatar_id=avatar.pk)
        submission.avatar_submit(avatar_id=str(avatar.pk))
    assert Avatar.objects.get(pk=avatar.pk).state == AvatarState.SUBMITTED
    studio_on_sandbox.set_faults(latency=0.3)

    results = run_together(lambda i: submission.avatar_submit_prompts(avatar_id=str(avatar.pk)), count=4)

    assert [result for result in results if isinstance(result, Exception)] == []
    assert studio_on_sandbox.stats()["prompts_created"] == 3
    assert not Avatar.objects.get(pk=avatar.pk).prompts.filter(state=PromptState.PENDING).exists()
