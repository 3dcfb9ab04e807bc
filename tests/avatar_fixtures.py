"""pytest plugin: drafts ready to confirm, credits, and the studio running on the sandbox."""

import time

import pytest

from studio.avatars.models import SubjectClass
from studio.credits.services import credit_grant
from studio.themes import services as theme_services
from tests.factories import AvatarFactory
from tests.photos.factories import ready_photos

THEMES = ("golden-hour", "film-noir", "watercolour")


@pytest.fixture
def catalogue(db):
    """The real theme catalogue and prompt library, loaded as `manage.py sync_themes` does."""
    return theme_services.catalogue_sync()


@pytest.fixture
def fund(db):
    def fund(user, amount: int = 50) -> None:
        key = f"test-grant:{user.pk}:{time.monotonic_ns()}"
        credit_grant(user=user, amount=amount, key=key, reason="Credits for the test")

    return fund


@pytest.fixture
def make_draft(catalogue, fund, settings):
    """A draft ready to confirm: 4 accepted photos (stored as the images worker leaves them, see
    `ready_photos`), the given themes and custom prompts, and credits to pay for it. Its prompts
    ask for 2 images each rather than 8: every image is stored the same way, so 2 prove it."""
    settings.IMAGES_PER_PROMPT = 2

    def make(user, *, subject_class=SubjectClass.WOMAN, themes=THEMES, customs=(), photos=4, credits=50):
        avatar = AvatarFactory(user=user, name="Ada", subject_class=subject_class)
        ready_photos(avatar, photos)
        for slug in themes:
            theme_services.theme_choose(avatar=avatar, theme_slug=slug)
        for text in customs:
            theme_services.custom_prompt_add(avatar=avatar, text=text)
        if credits:
            fund(user, credits)
        return avatar

    return make


@pytest.fixture
def studio_on_sandbox(settings, astria_sandbox):
    """The studio talking to the sandbox, which cannot call it back (no server listens at
    PUBLIC_URL): only the reconciler's polling moves avatars forward, as on a laptop."""
    settings.PUBLIC_URL = "http://127.0.0.1:9"
    settings.RECONCILE_POLL_INTERVAL = 0
    settings.RECONCILE_PROMPT_POLL_AFTER = 0
    settings.RECONCILE_QUEUED_GRACE = 0
    return astria_sandbox


@pytest.fixture
def reconcile_until(studio_on_sandbox, django_capture_on_commit_callbacks):
    """Run the reconciler as beat would (its tasks inline) until condition() holds. With the
    sandbox's delays at zero, every round finds the next step due, so rounds follow each other
    without waiting."""
    from studio.avatars import reconcile

    def run(condition, *, rounds: int = 20) -> None:
        for _ in range(rounds):
            studio_on_sandbox.advance()
            with django_capture_on_commit_callbacks(execute=True):
                reconcile.avatar_reconcile()
            if condition():
                return
        raise AssertionError(f"the reconciler did not get there in {rounds} rounds")

    return run


@pytest.fixture
def submitted(user, make_draft, studio_on_sandbox, django_capture_on_commit_callbacks):
    """A paid avatar whose tune and prompts exist at the sandbox, training held back."""
    from studio.avatars import services
    from studio.avatars.models import AvatarState

    studio_on_sandbox.set_delays(training=3600)
    avatar = make_draft(user)
    with django_capture_on_commit_callbacks(execute=True):
        services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
    avatar.refresh_from_db()
    assert avatar.state == AvatarState.SUBMITTED
    return avatar


@pytest.fixture
def trained_with_seven_prompts(user, make_draft, studio_on_sandbox, settings, django_capture_on_commit_callbacks):
    """A generating avatar with 7 prompts submitted on its (now trained) tune."""
    from studio.avatars import progress, services
    from studio.avatars.models import AvatarState, PromptState
    from tests.helpers import state_of

    def make(*, prompt_delay: float):
        studio_on_sandbox.set_delays(training=3600, prompt=prompt_delay)
        avatar = make_draft(user, customs=[f"portrait by the sea, take {n}" for n in range(4)])
        with django_capture_on_commit_callbacks(execute=True):
            services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
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
