"""When the reconciler looks again: often at what has just moved, ever less often at what waits."""

from datetime import timedelta

from django.utils import timezone

from studio.avatars import schedule


def test_something_that_has_just_moved_is_looked_at_every_poll_interval(settings):
    settings.RECONCILE_POLL_INTERVAL = 60

    assert schedule.gap(timedelta(0)) == timedelta(minutes=1)
    assert schedule.gap(timedelta(minutes=3)) == timedelta(minutes=1)


def test_the_gap_grows_with_the_wait_up_to_a_quarter_hour(settings):
    settings.RECONCILE_POLL_INTERVAL = 60

    assert schedule.gap(timedelta(minutes=20)) == timedelta(minutes=5)
    assert schedule.gap(timedelta(hours=1)) == timedelta(minutes=15)
    assert schedule.gap(timedelta(hours=10)) == timedelta(minutes=15)


def test_a_tune_is_not_looked_at_before_its_eta(settings):
    settings.RECONCILE_POLL_INTERVAL = 60
    now = timezone.now()
    eta = now + timedelta(minutes=20)

    assert schedule.next_check(since=now, now=now, not_before=eta) == eta
    assert schedule.next_check(since=now, now=now, not_before=now - timedelta(minutes=5)) == now + timedelta(minutes=1)


def test_a_claim_holds_an_object_for_the_lease_even_when_it_would_be_due_sooner(settings):
    settings.RECONCILE_POLL_INTERVAL = 60
    now = timezone.now()

    assert schedule.claimed_until(since=now, now=now) == now + timedelta(minutes=5)
    assert schedule.claimed_until(since=now - timedelta(hours=2), now=now) == now + timedelta(minutes=15)
