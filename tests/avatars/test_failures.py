"""When things go wrong: every failure ends the avatar or prompt once and refunds exactly once."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from kombu.exceptions import OperationalError

from studio.astria.errors import AstriaTransient
from studio.avatars import progress, reconcile, services, submission, tasks
from studio.avatars.models import AstriaTuneDeletion, Avatar, AvatarState, Prompt, PromptState
from studio.credits.models import CreditEntry, EntryKind
from studio.credits.selectors import credit_balance, wallets_out_of_balance
from tests.factories import UserFactory
from tests.helpers import state_of

pytestmark = pytest.mark.django_db


def refunds(user) -> list[int]:
    return list(CreditEntry.objects.filter(user=user, kind=EntryKind.REFUND).values_list("amount", flat=True))


@pytest.fixture
def confirmed(user, make_draft, django_capture_on_commit_callbacks):
    """A paid avatar (3 themes: 2 + 3 credits) whose submit task has not run yet."""

    def confirm(**draft):
        avatar = make_draft(user, **draft)
        with django_capture_on_commit_callbacks(execute=False):
            services.avatar_confirm(user=user, avatar_id=avatar.pk)
        return Avatar.objects.get(pk=avatar.pk)

    return confirm


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
    assert "Astria could not run this prompt" in failed.failure_reason
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


def test_astria_refusing_the_photos_fails_the_avatar_at_once_with_the_reason(
    user, confirmed, studio_on_sandbox, monkeypatch
):
    from studio.astria.errors import AstriaRejected

    avatar = confirmed()

    def refuse(*args, **kwargs):
        raise AstriaRejected("Images must be at least 512 pixels", status=422, body="{}")

    monkeypatch.setattr("studio.astria.client.AstriaClient.create_tune", refuse)
    tasks.avatar_submit.apply(args=[str(avatar.pk)], throw=False)  # as a worker runs it, on_failure too

    avatar.refresh_from_db()
    assert avatar.state == AvatarState.FAILED
    assert "at least 512 pixels" in avatar.failure_reason
    assert refunds(user) == [5]


def test_an_error_of_ours_while_submitting_fails_the_avatar_and_deletes_the_tune_it_left_at_astria(
    user, confirmed, studio_on_sandbox, monkeypatch, django_capture_on_commit_callbacks
):
    from studio.astria.client import AstriaClient

    avatar = confirmed()
    real_create = AstriaClient.create_tune

    def create_then_break(client, **fields):
        real_create(client, **fields)
        raise KeyError("id")  # an answer we cannot read: the tune exists, we never learn its id

    monkeypatch.setattr(AstriaClient, "create_tune", create_then_break)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.avatar_submit.apply(args=[str(avatar.pk)], throw=False)  # as a worker runs it, on_failure too

    avatar.refresh_from_db()
    assert avatar.state == AvatarState.FAILED
    assert avatar.failure_reason == "Training could not be started because of an error on our side."
    assert refunds(user) == [5]
    assert studio_on_sandbox.stats()["tunes_by_title"] == {str(avatar.pk): 1}
    assert studio_on_sandbox.stats()["tunes"] == 0  # found by its title and deleted


def test_an_astria_outage_longer_than_the_retries_fails_nothing_and_the_reconciler_submits_later(
    user, confirmed, studio_on_sandbox, settings, reconcile_until
):
    """`make chaos` (Astria answering 500 for a minute): an avatar confirmed during the outage used
    to run out of submit attempts and be refunded instead of made."""
    avatar = confirmed()
    paid = credit_balance(user=user)
    studio_on_sandbox.fail_next(1000, 500, scope="any")
    for _ in range(3):
        with pytest.raises(AstriaTransient):
            submission.avatar_submit(avatar_id=str(avatar.pk))  # the task's retries
    last = tasks.avatar_submit.apply(args=[str(avatar.pk)], retries=tasks.avatar_submit.max_retries, throw=False)
    assert last.failed()  # the task has given up, as a worker's would, on_failure included

    assert state_of(avatar) == AvatarState.QUEUED
    assert credit_balance(user=user) == paid

    studio_on_sandbox.fail_next(0)
    settings.RECONCILE_QUEUED_GRACE = 0
    reconcile_until(lambda: state_of(avatar) == AvatarState.DONE)
    assert studio_on_sandbox.stats()["tunes_by_title"] == {str(avatar.pk): 1}
    assert refunds(user) == []


def test_an_astria_outage_past_the_give_up_time_fails_and_refunds_once(
    user, confirmed, studio_on_sandbox, settings, django_capture_on_commit_callbacks
):
    avatar = confirmed()
    paid = credit_balance(user=user)
    studio_on_sandbox.fail_next(1000, 429, scope="any")
    waited = timedelta(seconds=settings.AVATAR_SUBMIT_GIVE_UP_AFTER + 60)
    Avatar.objects.filter(pk=avatar.pk).update(queued_at=timezone.now() - waited)

    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        submission.avatar_submit(avatar_id=str(avatar.pk))  # tries Astria once more, then gives up
        submission.avatar_submit(avatar_id=str(avatar.pk))

    avatar.refresh_from_db()
    assert avatar.state == AvatarState.FAILED
    assert avatar.failure_reason == "Astria could not be reached to start training."
    assert refunds(user) == [5]
    assert credit_balance(user=user) == paid + 5

    # Had a cut-short run made a tune, it would be found by title and deleted once Astria answers.
    deletion = AstriaTuneDeletion.objects.get(title=str(avatar.pk))
    studio_on_sandbox.fail_next(0)
    with django_capture_on_commit_callbacks(execute=True):
        for callback in after_commit:
            callback()
    deletion.refresh_from_db()
    assert deletion.done_at is not None and deletion.tune_id is None
    assert studio_on_sandbox.stats()["tunes_created"] == 0


def test_a_submit_whose_worker_keeps_dying_fails_the_avatar_after_a_few_runs(
    user, confirmed, studio_on_sandbox, settings, django_capture_on_commit_callbacks
):
    avatar = confirmed()
    for crash in range(settings.AVATAR_SUBMIT_MAX_CRASHES):
        # What a run SIGKILLed mid-way leaves behind: its claim, until the lease runs out.
        died = timezone.now() - timedelta(seconds=settings.AVATAR_SUBMIT_LEASE + 1)
        Avatar.objects.filter(pk=avatar.pk).update(submitting_since=died, submit_attempts=crash + 1)
        with django_capture_on_commit_callbacks(execute=True):
            submission.avatar_submit(avatar_id=str(avatar.pk))
        if crash + 1 < settings.AVATAR_SUBMIT_MAX_CRASHES:
            assert state_of(avatar) == AvatarState.SUBMITTED  # a crash or two: the next run makes it
            Avatar.objects.filter(pk=avatar.pk).update(state=AvatarState.QUEUED, tune_id=None)

    avatar.refresh_from_db()
    assert avatar.state == AvatarState.FAILED
    assert avatar.submit_crashes == settings.AVATAR_SUBMIT_MAX_CRASHES
    assert "error on our side" in avatar.failure_reason
    assert refunds(user) == [5]
    # The tune the earlier runs made (one, found by its title each time) is deleted at Astria.
    assert studio_on_sandbox.stats()["tunes_by_title"] == {str(avatar.pk): 1}
    assert studio_on_sandbox.stats()["tunes"] == 0


def test_a_tune_created_while_support_refunds_the_avatar_is_deleted_at_astria(
    user, confirmed, studio_on_sandbox, monkeypatch, django_capture_on_commit_callbacks
):
    from studio.astria.client import AstriaClient

    staff_user = UserFactory(is_staff=True)
    avatar = confirmed()
    real_create = AstriaClient.create_tune

    def create_while_support_refunds(client, **fields):
        tune = real_create(client, **fields)
        services.avatar_refund_by_staff(avatar_id=avatar.pk, staff_user=staff_user)
        return tune

    monkeypatch.setattr(AstriaClient, "create_tune", create_while_support_refunds)
    with django_capture_on_commit_callbacks(execute=True):
        submission.avatar_submit(avatar_id=str(avatar.pk))

    assert state_of(avatar) == AvatarState.FAILED
    assert refunds(user) == [5]
    assert studio_on_sandbox.stats()["tunes_by_title"] == {str(avatar.pk): 1}
    assert studio_on_sandbox.stats()["tunes"] == 0  # made, then deleted


def test_training_that_never_finishes_is_given_up_and_refunded(
    user, confirmed, studio_on_sandbox, settings, django_capture_on_commit_callbacks
):
    studio_on_sandbox.set_delays(training=3600)
    avatar = confirmed()
    with django_capture_on_commit_callbacks(execute=True):
        submission.avatar_submit(avatar_id=str(avatar.pk))
    Avatar.objects.filter(pk=avatar.pk).update(submitted_at=timezone.now() - timedelta(hours=4))

    with django_capture_on_commit_callbacks(execute=True):
        reconcile.avatar_reconcile()
        reconcile.avatar_reconcile()

    assert state_of(avatar) == AvatarState.FAILED
    assert refunds(user) == [5]


def test_a_worker_killed_after_creating_the_tune_makes_no_second_tune(
    user, confirmed, studio_on_sandbox, reconcile_until, monkeypatch, django_capture_on_commit_callbacks
):
    avatar = confirmed()
    real_update = type(Avatar.objects.all()).update
    calls = {"n": 0}

    def crash_once(queryset, **fields):
        if fields.get("state") == AvatarState.SUBMITTED and not calls["n"]:
            calls["n"] += 1
            raise SystemExit("worker killed")  # the tune exists at Astria; we never wrote it down
        return real_update(queryset, **fields)

    monkeypatch.setattr(type(Avatar.objects.all()), "update", crash_once)
    with pytest.raises(SystemExit):
        submission.avatar_submit(avatar_id=str(avatar.pk))
    monkeypatch.undo()

    with django_capture_on_commit_callbacks(execute=True):
        submission.avatar_submit(avatar_id=str(avatar.pk))  # the redelivered task
    reconcile_until(lambda: state_of(avatar) == AvatarState.DONE)

    assert studio_on_sandbox.stats()["tunes_by_title"] == {str(avatar.pk): 1}
    assert studio_on_sandbox.stats()["prompts_created"] == 3


def test_a_broker_down_at_confirm_loses_nothing_and_the_reconciler_submits_later(
    user, make_draft, studio_on_sandbox, reconcile_until, monkeypatch, django_capture_on_commit_callbacks
):
    avatar = make_draft(user)

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.avatar_submit, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = services.avatar_confirm(user=user, avatar_id=avatar.pk)  # no error for the user
    assert confirmed.state == AvatarState.QUEUED
    monkeypatch.undo()

    reconcile_until(lambda: state_of(avatar) == AvatarState.DONE)
    assert studio_on_sandbox.stats()["tunes_by_title"] == {str(avatar.pk): 1}



def test_a_submit_killed_mid_way_keeps_others_out_only_until_its_lease_ends(
    user, confirmed, studio_on_sandbox, settings, django_capture_on_commit_callbacks
):
    avatar = confirmed()
    killed_at = timezone.now()
    # What a submit SIGKILLed while talking to Astria leaves behind: its claim.
    Avatar.objects.filter(pk=avatar.pk).update(submit_attempts=1, submitting_since=killed_at, updated_at=killed_at)

    submission.avatar_submit(avatar_id=str(avatar.pk))  # the reconciler's resubmit, too soon
    assert state_of(avatar) == AvatarState.QUEUED
    assert studio_on_sandbox.stats()["tunes_created"] == 0

    lease_over = killed_at - timedelta(seconds=settings.AVATAR_SUBMIT_LEASE + 1)
    Avatar.objects.filter(pk=avatar.pk).update(submitting_since=lease_over)
    with django_capture_on_commit_callbacks(execute=True):
        submission.avatar_submit(avatar_id=str(avatar.pk))
    assert state_of(avatar) == AvatarState.SUBMITTED
    assert studio_on_sandbox.stats()["tunes_by_title"] == {str(avatar.pk): 1}


def test_the_reconciler_resubmits_only_what_no_submit_tried_lately(
    user, confirmed, settings, django_capture_on_commit_callbacks
):
    """`make chaos` (Astria answering 500s): the reconciler started a new submit chain every few
    seconds beside the one still retrying, and the attempts ran out within seconds."""
    settings.RECONCILE_QUEUED_GRACE = 120
    avatar = confirmed()
    long_ago = timezone.now() - timedelta(minutes=10)
    Avatar.objects.filter(pk=avatar.pk).update(queued_at=long_ago, submit_attempts=3, updated_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=False):
        assert reconcile.avatar_reconcile()["resubmitted"] == 0  # a retrying submit just tried

    Avatar.objects.filter(pk=avatar.pk).update(updated_at=long_ago)  # nothing for minutes: its message is lost
    with django_capture_on_commit_callbacks(execute=False):
        assert reconcile.avatar_reconcile()["resubmitted"] == 1
