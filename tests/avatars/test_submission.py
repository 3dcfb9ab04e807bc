"""Submitting to Astria: one tune per avatar whatever fails, crashes or runs twice, and a submit that
gives up fails the avatar and refunds it once."""

from datetime import timedelta
from unittest.mock import patch

import pytest
import requests
from django.utils import timezone

from studio.astria.errors import AstriaTransient
from studio.avatars import services, submission, tasks
from studio.avatars.models import AstriaTuneDeletion, Avatar, AvatarState, Prompt, PromptState
from studio.credits.selectors import credit_balance
from tests.concurrency import run_together
from tests.factories import UserFactory
from tests.helpers import refunds, state_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("status", [500, 429, 504])
def test_a_create_that_fails_is_retried_and_makes_one_tune(
    status, user, make_draft, studio_on_sandbox, reconcile_until, django_capture_on_commit_callbacks
):
    avatar = make_draft(user)
    with django_capture_on_commit_callbacks(execute=False):
        services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
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
        services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
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
        services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
        submission.avatar_submit(avatar_id=str(avatar.pk))
    assert Avatar.objects.get(pk=avatar.pk).state == AvatarState.SUBMITTED
    studio_on_sandbox.set_faults(latency=0.3)

    results = run_together(lambda i: submission.avatar_submit_prompts(avatar_id=str(avatar.pk)), count=4)

    assert [result for result in results if isinstance(result, Exception)] == []
    assert studio_on_sandbox.stats()["prompts_created"] == 3
    assert not Avatar.objects.get(pk=avatar.pk).prompts.filter(state=PromptState.PENDING).exists()


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
    # Its owner reads plain words; Astria's own text (and API paths) go to the log only.
    assert avatar.failure_reason == submission.PHOTOS_REFUSED
    assert "512" not in avatar.failure_reason and "/tunes" not in avatar.failure_reason
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


def test_a_likeness_redo_is_sent_with_its_own_seed_and_the_faces_inpainted(
    submitted, studio_on_sandbox, django_capture_on_commit_callbacks
):
    original = submitted.prompts.order_by("position").first()
    redo = Prompt.objects.create(
        avatar=submitted, batch=0, position=9, label=original.label, text=original.text,
        num_images=original.num_images, price=0, redo_of=original, seed=123_456_789, inpaint_faces=True,
    )

    with django_capture_on_commit_callbacks(execute=True):
        submission.avatar_submit_prompts(avatar_id=str(submitted.pk))

    redo.refresh_from_db()
    assert redo.state == PromptState.SUBMITTED
    sent = requests.get(
        f"{studio_on_sandbox.url}/tunes/{submitted.tune_id}/prompts/{redo.astria_prompt_id}",
        headers={"Authorization": f"Bearer {studio_on_sandbox.api_key}"}, timeout=10,
    ).json()
    assert (sent["seed"], sent["super_resolution"], sent["inpaint_faces"]) == (123_456_789, True, True)
    assert original.text in sent["text"]
