"""When the reconciler next looks at an in-flight avatar or prompt (`next_check_at`).

Callbacks are the fast path; the reconciler only catches what they missed, so it looks at each
object when it is due rather than at everything on every run:

- A queued avatar is due RECONCILE_QUEUED_GRACE after it was paid for; then its submit is started
  again if nothing has touched it for that long (its message was lost, or its task gave up).
- A submitted or training avatar is due once its tune's ETA has passed; a generating one is
  checked for pending prompts left behind and for a lost "finished" check.
- A submitted prompt is due RECONCILE_PROMPT_POLL_AFTER after its tune is trained (NULL while the
  tune trains: a prompt cannot finish before its tune). Due prompts are read with one list call
  per tune (progress.avatar_sync_prompts), never one call per prompt.

The gap between two checks of one object grows with its age in its current state: a quarter of
that age, at least RECONCILE_POLL_INTERVAL and at most 15 times it, so an object that has just
moved is looked at every minute and one stuck for an hour every quarter hour.
Progress (a state change, a callback) starts the age again.

A run claims a bounded batch (BATCH) of due rows per sweep, oldest first, with `FOR UPDATE SKIP
LOCKED` on PostgreSQL, and pushes their `next_check_at` forward by at least the lease (five poll
intervals) in the same transaction: two runs at once claim disjoint batches, and an object is not enqueued
again while the check it was enqueued for is still waiting in the queue. The check itself sets the
next time when it runs. How long until giving up and what is refunded: submission.py.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

BACKOFF_DIVISOR = 4  # the gap is a quarter of the time spent in the state so far
MAX_GAP = 15  # poll intervals: the longest gap between two checks
LEASE = 5  # poll intervals: a claimed object is not due again sooner, even if its check has not run
# Objects one sweep takes per run: with beat's run a minute, at most a few hundred tasks a minute
# whatever the number in flight (the rest stay due, in the database, for the next runs).
BATCH = 200


def gap(age: timedelta) -> timedelta:
    """How long to wait before looking again at something that has been waiting for `age`."""
    seconds = age.total_seconds() / BACKOFF_DIVISOR
    low = settings.RECONCILE_POLL_INTERVAL
    seconds = min(low * MAX_GAP, max(low, seconds))
    return timedelta(seconds=seconds)


def next_check(*, since: datetime | None, now: datetime | None = None, not_before: datetime | None = None) -> datetime:
    """The next time to look at something waiting since `since` (None: it has just moved)."""
    now = now or timezone.now()
    at = now + gap(now - (since or now))
    return max(at, not_before) if not_before else at


def claimed_until(*, since: datetime | None, now: datetime) -> datetime:
    """Where a claim pushes `next_check_at`: the next time, and never sooner than the lease."""
    return max(next_check(since=since, now=now), now + timedelta(seconds=settings.RECONCILE_POLL_INTERVAL * LEASE))
