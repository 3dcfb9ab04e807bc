"""The reconciler finishes what a lost message, a broker down or an Astria outage left behind, gives
up on training that never ends, and starts no second submit beside one still trying. It looks only
at what is due, a bounded batch per run, never twice while a check is waiting, and two runs at once
share the work rather than doubling it."""

import itertools
import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from studio.astria.errors import AstriaTransient
from studio.avatars import reconcile, services, submission, tasks
from studio.avatars.models import Avatar, AvatarState
from studio.core import tasks as core_tasks
from studio.credits.selectors import credit_balance
from tests.concurrency import run_together
from tests.factories import AvatarFactory
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
    Avatar.objects.filter(pk=avatar.pk).update(
        queued_at=long_ago, submit_attempts=3, updated_at=timezone.now(), next_check_at=long_ago
    )

    with django_capture_on_commit_callbacks(execute=False):
        assert reconcile.avatar_reconcile()["resubmitted"] == 0  # a retrying submit just tried

    # Nothing for minutes (its message is lost) and its next check has come.
    Avatar.objects.filter(pk=avatar.pk).update(updated_at=long_ago, next_check_at=long_ago)
    with django_capture_on_commit_callbacks(execute=False):
        assert reconcile.avatar_reconcile()["resubmitted"] == 1


# --- Only what is due, a bounded batch, never twice --------------------------------------------------

_tune_ids = itertools.count(7_000_000)


def _training(count: int, *, due_minutes_ago: int = 1) -> list[Avatar]:
    """Avatars whose tunes train at Astria, each due for a check (the oldest first)."""
    now = timezone.now()
    made = []
    for index in range(count):
        avatar = AvatarFactory(state=AvatarState.TRAINING, tune_id=next(_tune_ids), submitted_at=now)
        due = now - timedelta(minutes=due_minutes_ago + count - index)
        Avatar.objects.filter(pk=avatar.pk).update(next_check_at=due)
        made.append(avatar)
    return made


@pytest.fixture
def enqueued(monkeypatch):
    """(task name, first argument) of every task the code enqueues, in order; nothing runs."""
    sent: list[tuple[str, str]] = []
    lock = threading.Lock()

    def record(task, args):
        with lock:
            sent.append((task.name.rsplit(".", 1)[-1], str(args[0]) if args else ""))

    monkeypatch.setattr(core_tasks, "_send", record)
    return sent


def test_a_run_checks_a_bounded_batch_of_due_avatars_oldest_first_and_none_twice(
    settings, enqueued, django_capture_on_commit_callbacks
):
    settings.RECONCILE_POLL_INTERVAL = 60
    waiting = _training(5)
    later = AvatarFactory(state=AvatarState.TRAINING, tune_id=next(_tune_ids), submitted_at=timezone.now())
    Avatar.objects.filter(pk=later.pk).update(next_check_at=timezone.now() + timedelta(minutes=10))

    with django_capture_on_commit_callbacks(execute=True):
        assert reconcile.avatar_reconcile(batch=3)["tunes_polled"] == 3
    assert enqueued == [("avatar_sync_tune", str(avatar.pk)) for avatar in waiting[:3]]

    with django_capture_on_commit_callbacks(execute=True):
        reconcile.avatar_reconcile(batch=3)  # their checks are still waiting in the queue
        reconcile.avatar_reconcile(batch=3)
    assert enqueued[3:] == [("avatar_sync_tune", str(avatar.pk)) for avatar in waiting[3:]]
    assert ("avatar_sync_tune", str(later.pk)) not in enqueued


def test_an_avatar_the_reconciler_checked_is_due_again_later_the_longer_it_has_waited(
    settings, enqueued, django_capture_on_commit_callbacks
):
    settings.RECONCILE_POLL_INTERVAL = 60
    fresh, old = _training(2)
    Avatar.objects.filter(pk=old.pk).update(submitted_at=timezone.now() - timedelta(hours=2))

    with django_capture_on_commit_callbacks(execute=True):
        reconcile.avatar_reconcile()

    fresh.refresh_from_db()
    old.refresh_from_db()
    assert timedelta(minutes=4) < fresh.next_check_at - timezone.now() <= timedelta(minutes=5)
    assert timedelta(minutes=14) < old.next_check_at - timezone.now() <= timedelta(minutes=15)


def test_a_run_costs_the_same_queries_for_many_avatars_in_flight_as_for_a_few(
    settings, enqueued, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    _training(3)
    with django_capture_on_commit_callbacks(execute=True), django_assert_max_num_queries(20) as few:
        reconcile.avatar_reconcile()
    _training(40)
    with django_capture_on_commit_callbacks(execute=True), django_assert_max_num_queries(len(few)):
        reconcile.avatar_reconcile()
    assert len(enqueued) == 43


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_claim_disjoint_batches_and_enqueue_nothing_twice(settings, enqueued):
    settings.RECONCILE_POLL_INTERVAL = 60
    waiting = _training(30)

    results = run_together(lambda i: reconcile.avatar_reconcile(batch=20), 2)

    assert sum(result["tunes_polled"] for result in results) == 30
    checked = [avatar_id for name, avatar_id in enqueued if name == "avatar_sync_tune"]
    assert sorted(checked) == sorted(str(avatar.pk) for avatar in waiting)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_run_skips_the_avatars_another_run_is_claiming_right_now(settings, enqueued):
    settings.RECONCILE_POLL_INTERVAL = 60
    waiting = _training(6)
    held = [str(avatar.pk) for avatar in waiting[:3]]
    claimed, release = threading.Event(), threading.Event()

    def other_run(index: int) -> None:
        if index == 0:  # a run part-way through its claim: these rows are locked
            with transaction.atomic():
                list(Avatar.objects.select_for_update().filter(pk__in=held))
                claimed.set()
                release.wait(10)
        else:
            claimed.wait(10)
            try:
                return reconcile.avatar_reconcile()
            finally:
                release.set()

    results = run_together(other_run, 2)

    assert results[1]["tunes_polled"] == 3
    assert sorted(avatar_id for _, avatar_id in enqueued) == sorted(str(avatar.pk) for avatar in waiting[3:])
