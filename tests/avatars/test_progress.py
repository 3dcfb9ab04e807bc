"""Progress read back from Astria: a prompt that fails is refunded once and the rest delivered; a
tune that disappears fails the avatar and refunds everything once."""


import pytest
from django.core import mail
from django.utils import timezone

from studio.avatars import progress, services, submission
from studio.avatars.models import Avatar, AvatarState, Prompt, PromptState
from studio.credits.selectors import credit_balance, wallets_out_of_balance
from tests.helpers import refunds, state_of

pytestmark = pytest.mark.django_db


def test_a_prompt_that_fails_is_refunded_once_and_the_rest_is_delivered(
    user, confirmed, studio_on_sandbox, reconcile_until, django_capture_on_commit_callbacks
):
    avatar = confirmed()
    balance = credit_balance(user=user)
    studio_on_sandbox.set_faults(fail_prompts_next=1)
    with django_capture_on_commit_callbacks(execute=True):
        submission.avatar_submit(avatar_id=str(avatar.pk))

    reconcile_until(lambda: state_of(avatar) == AvatarState.DONE)
    failed = Prompt.objects.get(avatar=avatar, state=PromptState.FAILED)
    services.prompt_fail(prompt_id=failed.pk, reason="again")  # a duplicate failure changes nothing

    assert avatar.prompts.filter(state=PromptState.DONE).count() == 2
    assert refunds(user) == [1]
    assert credit_balance(user=user) == balance + 1
    assert failed.failure_reason == "The AI service could not run this prompt."
    ready = [m for m in mail.outbox if "ready" in m.subject]
    assert len(ready) == 1 and failed.label in ready[0].body
    assert not wallets_out_of_balance().exists()


def test_a_tune_that_disappears_fails_the_avatar_and_refunds_everything_once(
    user, confirmed, studio_on_sandbox, django_capture_on_commit_callbacks
):
    studio_on_sandbox.set_delays(training=3600)
    avatar = confirmed()
    paid = credit_balance(user=user)
    with django_capture_on_commit_callbacks(execute=True):
        submission.avatar_submit(avatar_id=str(avatar.pk))
    studio_on_sandbox.client().delete_tune(Avatar.objects.get(pk=avatar.pk).tune_id)

    with django_capture_on_commit_callbacks(execute=True):
        progress.avatar_sync_tune(avatar_id=str(avatar.pk))
        progress.avatar_sync_tune(avatar_id=str(avatar.pk))
        services.avatar_fail(avatar_id=avatar.pk, reason="a second failure")

    avatar.refresh_from_db()
    assert avatar.state == AvatarState.FAILED
    assert "disappeared" in avatar.failure_reason
    assert refunds(user) == [2 + 3]
    assert credit_balance(user=user) == paid + 5
    assert set(avatar.prompts.values_list("state", flat=True)) == {PromptState.FAILED}
    failed_mails = [m for m in mail.outbox if "refunded" in m.subject]
    assert len(failed_mails) == 1 and "disappeared" in failed_mails[0].body


def test_a_tunes_unfinished_prompts_are_read_with_one_list_call_and_looked_at_again_later(
    trained_with_seven_prompts, studio_on_sandbox, settings, django_capture_on_commit_callbacks
):
    avatar = trained_with_seven_prompts(prompt_delay=3600)
    settings.RECONCILE_POLL_INTERVAL = 60

    calls = studio_on_sandbox.stats()["requests"]
    with django_capture_on_commit_callbacks(execute=True):
        progress.avatar_sync_prompts(avatar_id=str(avatar.pk))

    assert studio_on_sandbox.stats()["requests"] == calls + 1
    assert avatar.prompts.filter(state=PromptState.SUBMITTED, next_check_at__gt=timezone.now()).count() == 7


def test_a_tunes_finished_prompts_are_all_stored_after_one_list_call(
    trained_with_seven_prompts, studio_on_sandbox, django_capture_on_commit_callbacks
):
    avatar = trained_with_seven_prompts(prompt_delay=0)
    studio_on_sandbox.advance()

    calls = studio_on_sandbox.stats()["requests"]
    with django_capture_on_commit_callbacks(execute=True):
        progress.avatar_sync_prompts(avatar_id=str(avatar.pk))

    assert studio_on_sandbox.stats()["requests"] == calls + 1
    assert state_of(avatar) == AvatarState.DONE
    assert avatar.images.count() == 7 * 2


def test_the_reconciler_finishes_an_avatar_whose_callbacks_were_all_lost(
    user, confirmed, studio_on_sandbox, reconcile_until, django_capture_on_commit_callbacks
):
    avatar = confirmed()
    reconcile_until(lambda: state_of(avatar) == AvatarState.DONE)

    assert avatar.prompts.filter(state=PromptState.DONE).count() == 3
    assert avatar.images.count() == 3 * 2


def test_a_lora_avatars_prompts_on_the_shared_base_tune_are_read_one_by_one(
    user, make_draft, studio_on_sandbox, settings, django_capture_on_commit_callbacks
):
    """The base tune's list holds everyone's prompts: reading it would grow with the whole account."""
    settings.ASTRIA_BRANCH = "flux1"
    settings.ASTRIA_BASE_TUNE_ID = 1504944
    studio_on_sandbox.set_delays(training=3600, prompt=3600)
    avatar = make_draft(user)
    with django_capture_on_commit_callbacks(execute=True):
        services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
    avatar.refresh_from_db()
    studio_on_sandbox.train_now(avatar.tune_id)
    studio_on_sandbox.wait_for(lambda: studio_on_sandbox.client().get_tune(avatar.tune_id).trained_at)
    with django_capture_on_commit_callbacks(execute=True):
        progress.avatar_sync_tune(avatar_id=str(avatar.pk))
    assert avatar.prompts.filter(state=PromptState.SUBMITTED).count() == 3

    calls = studio_on_sandbox.stats()["requests"]
    with django_capture_on_commit_callbacks(execute=True):
        progress.avatar_sync_prompts(avatar_id=str(avatar.pk))

    assert studio_on_sandbox.stats()["requests"] == calls + 3
    assert avatar.prompts.filter(state=PromptState.SUBMITTED).count() == 3
