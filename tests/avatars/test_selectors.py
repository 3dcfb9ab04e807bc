"""The operator's aggregates over avatars, prompts and tunes, against hand-counted data."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from studio.avatars import selectors
from studio.avatars.models import AvatarState, PromptState
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
