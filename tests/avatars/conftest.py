import pytest

from studio.avatars import progress, services
from studio.avatars.models import Avatar, AvatarState, PromptState
from tests.helpers import state_of


@pytest.fixture
def confirmed(user, make_draft, django_capture_on_commit_callbacks):
    """A paid avatar (3 themes: 2 + 3 credits) whose submit task has not run yet."""

    def confirm(**draft):
        avatar = make_draft(user, **draft)
        with django_capture_on_commit_callbacks(execute=False):
            services.avatar_confirm(user=user, avatar_id=avatar.pk)
        return Avatar.objects.get(pk=avatar.pk)

    return confirm


@pytest.fixture
def trained_with_seven_prompts(user, make_draft, studio_on_sandbox, settings, django_capture_on_commit_callbacks):
    """A generating avatar with 7 prompts submitted on its (now trained) tune."""

    def make(*, prompt_delay: float):
        studio_on_sandbox.set_delays(training=3600, prompt=prompt_delay)
        avatar = make_draft(user, customs=[f"portrait by the sea, take {n}" for n in range(4)])
        with django_capture_on_commit_callbacks(execute=True):
            services.avatar_confirm(user=user, avatar_id=avatar.pk)
        avatar.refresh_from_db()
        submitted = avatar.prompts.filter(state=PromptState.SUBMITTED)
        assert submitted.count() == 7
        assert not submitted.filter(next_check_at__isnull=False).exists()  # not read while the tune trains
        studio_on_sandbox.train_now(avatar.tune_id)
        with django_capture_on_commit_callbacks(execute=True):
            progress.avatar_sync_tune(avatar_id=str(avatar.pk))
        assert state_of(avatar) == AvatarState.GENERATING
        return avatar

    return make
