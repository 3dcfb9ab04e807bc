"""Confirming an avatar spends its credits once, creates its prompts and queues it, or changes
nothing."""


import pytest

from studio.avatars import services
from studio.avatars.models import Avatar, AvatarState, PromptState
from studio.core.exceptions import ApplicationError, InsufficientCredits
from studio.credits.models import CreditEntry, EntryKind
from studio.credits.selectors import credit_balance
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
