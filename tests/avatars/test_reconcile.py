"""The reconciler finishes what a lost message, a broker down or an Astria outage left behind, gives
up on training that never ends, and starts no second submit beside one still trying."""

from datetime import timedelta

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from studio.astria.errors import AstriaTransient
from studio.avatars import reconcile, services, submission, tasks
from studio.avatars.models import Avatar, AvatarState
from studio.credits.selectors import credit_balance
from tests.helpers import refunds, state_of

pytestmark = pytest.mark.django_db


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


def test_a_broker_down_at_confirm_loses_nothing_and_the_reconciler_submits_later(
    user, make_draft, studio_on_sandbox, reconcile_until, monkeypatch, django_capture_on_commit_callbacks
):
    avatar = make_draft(user)

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.avatar_submit, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)  # no error for the user
    assert confirmed.state == AvatarState.QUEUED
    monkeypatch.undo()

    reconcile_until(lambda: state_of(avatar) == AvatarState.DONE)
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
