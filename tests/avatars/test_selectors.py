"""The operator's aggregates over avatars, prompts and tunes, against hand-counted data."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.utils import timezone

from studio.avatars import selectors
from studio.avatars.models import Avatar, AvatarState, PromptState
from tests.avatars.factories import PromptFactory, dated_avatar
from tests.factories import AvatarFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
WEEK = {"start": TODAY - timedelta(days=6), "end": TODAY}


def at(days_ago: int) -> datetime:
    return datetime.combine(TODAY - timedelta(days=days_ago), time(12), tzinfo=UTC)


def avatar(state=AvatarState.DONE, *, created: int, **fields):
    """An avatar whose times are given in days ago."""
    return dated_avatar(at=at, state=state, created=created, **fields)


def test_avatars_per_day_count_created_paid_done_and_failed_on_their_own_days():
    avatar(AvatarState.DRAFT, created=1)
    avatar(AvatarState.DONE, created=1, queued=1, finished=0)
    avatar(AvatarState.FAILED, created=0, queued=0, finished=0)
    avatar(AvatarState.DONE, created=8, queued=8, finished=1)  # started before the week
    avatar(AvatarState.TRAINING, created=9, queued=9)  # nothing in the week
    avatar(AvatarState.DONE, created=8, queued=8, finished=7)  # finished the day before the week

    rows = selectors.avatar_totals_by_day(**WEEK)

    assert rows == [
        {"day": TODAY - timedelta(days=1), "created": 2, "paid": 1, "done": 1, "failed": 0},
        {"day": TODAY, "created": 1, "paid": 1, "done": 1, "failed": 1},
    ]


def test_days_are_whole_days_in_the_current_time_zone():
    first_instant = datetime.combine(TODAY - timedelta(days=6), time.min, tzinfo=UTC)
    for moment in (first_instant - timedelta(seconds=1), first_instant, datetime.combine(TODAY, time.max, tzinfo=UTC)):
        made = AvatarFactory(state=AvatarState.DRAFT)
        Avatar.objects.filter(pk=made.pk).update(created_at=moment)

    rows = selectors.avatar_totals_by_day(**WEEK)

    assert [(row["day"], row["created"]) for row in rows] == [(TODAY - timedelta(days=6), 1), (TODAY, 1)]


def sent(avatar: Avatar, count: int, *, images: int = 8, days_ago: int = 1, **fields) -> None:
    for _ in range(count):
        prompt = PromptFactory(avatar=avatar, num_images=images, **fields)
        type(prompt).objects.filter(pk=prompt.pk).update(submitted_at=at(days_ago))


def test_astria_usage_counts_tunes_and_prompts_created_there_by_branch():
    sd15 = avatar(created=2, queued=2, submitted=2, finished=1, branch="sd15", tune_id=1001)
    fast = avatar(created=2, queued=2, submitted=1, finished=1, branch="fast", tune_id=1002)
    old = avatar(created=20, queued=20, submitted=20, finished=20, branch="sd15", tune_id=1003)
    avatar(AvatarState.QUEUED, created=1, queued=1, branch="sd15")  # no tune at Astria yet
    sent(sd15, 3)
    sent(fast, 2)
    sent(old, 4, days_ago=3)  # "generate more" on an old tune: the prompts count this week
    sent(old, 5, days_ago=20)
    PromptFactory(avatar=sd15, astria_prompt_id=None, state=PromptState.PENDING)  # never sent

    usage = selectors.astria_usage_by_branch(**WEEK)

    assert usage == [
        selectors.BranchUsage("fast", tunes=1, prompts=2),
        selectors.BranchUsage("sd15", tunes=1, prompts=7),
    ]


def test_fair_use_averages_what_was_asked_of_each_tune_in_the_period():
    first = avatar(created=3, queued=3, submitted=3, finished=2, tune_id=2001)
    second = avatar(created=2, queued=2, submitted=2, finished=1, tune_id=2002)
    before = avatar(created=30, queued=30, submitted=30, finished=30, tune_id=2003)
    sent(first, 14, images=8)
    PromptFactory(avatar=first, astria_prompt_id=None, state=PromptState.FAILED)  # refused before sending
    sent(second, 16, images=4, days_ago=0)
    sent(before, 40)

    fair_use = selectors.fair_use_for_tunes(**WEEK, prompt_limit=14)

    assert fair_use == selectors.FairUse(tunes=2, prompts=30, images=14 * 8 + 16 * 4, tunes_over_limit=1)
    assert (fair_use.prompts_per_tune, fair_use.images_per_tune) == (15.0, 88.0)


def test_fair_use_of_a_period_without_tunes_is_zero():
    fair_use = selectors.fair_use_for_tunes(start=date(2020, 1, 1), end=date(2020, 1, 7), prompt_limit=14)

    assert fair_use == selectors.FairUse(0, 0, 0, 0) and fair_use.prompts_per_tune == 0


def test_pending_jobs_are_paid_unfinished_avatars_longest_waiting_first():
    newest = avatar(AvatarState.GENERATING, created=1, queued=1)
    oldest = avatar(AvatarState.QUEUED, created=5, queued=5)
    middle = avatar(AvatarState.TRAINING, created=9, queued=3)
    avatar(AvatarState.DRAFT, created=10)
    avatar(AvatarState.DONE, created=10, queued=10, finished=9)
    PromptFactory(avatar=newest, state=PromptState.DONE)
    PromptFactory(avatar=newest, state=PromptState.SUBMITTED)

    pending = list(selectors.avatar_pending_oldest())

    assert pending == [oldest, middle, newest]
    assert (pending[2].prompts_finished, pending[2].prompts_total) == (1, 2)
    assert pending[0].waiting_since == at(5)
    assert selectors.avatar_pending_count() == 3


def test_failures_list_failed_avatars_and_the_prompts_that_failed_in_avatars_that_went_on():
    failed = avatar(AvatarState.FAILED, created=2, queued=2, finished=1, failure_reason="Training failed")
    went_on = avatar(AvatarState.DONE, created=2, queued=2, finished=1)
    avatar(AvatarState.FAILED, created=20, queued=20, finished=20, failure_reason="Long ago")
    lost = PromptFactory(avatar=went_on, state=PromptState.FAILED, failure_reason="Refused by the safety filter")
    PromptFactory(avatar=failed, state=PromptState.FAILED, failure_reason="Training failed")
    type(lost).objects.filter(avatar__in=[failed, went_on], state=PromptState.FAILED).update(finished_at=at(1))

    assert list(selectors.avatar_failures(**WEEK)) == [failed]
    assert list(selectors.prompt_failures(**WEEK)) == [lost]


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(10, "almost there"), (29, "almost there"), (70, "about a minute left"), (130, "about 2 minutes left"),
     (45 * 60, "about 45 minutes left"), (3 * 3600, "about 3 hours left")],
)
def test_time_left_is_in_plain_words_and_never_about_0_minutes(seconds, words):
    progress = selectors.Progress("Training your model…", 30, timezone.now() + timedelta(seconds=seconds), True)
    assert progress.time_left == words
    assert selectors.Progress("Done", 100, None, False).time_left == ""


@pytest.mark.django_db
def test_progress_counts_styles_with_their_plural():
    avatar = AvatarFactory(state=AvatarState.GENERATING)
    one = selectors.avatar_progress(avatar=avatar, prompts_total=1, prompts_finished=0)
    two = selectors.avatar_progress(avatar=avatar, prompts_total=2, prompts_finished=1)

    assert one.words == "Painting your portraits… 0 of 1 style done"
    assert two.words == "Painting your portraits… 1 of 2 styles done"
