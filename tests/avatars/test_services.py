"""The avatar actions users take: confirming (credits spent once, prompts created, queued, or
nothing changed), favourites and their likes at Astria, and drafts."""

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from studio.avatars import services
from studio.avatars.models import Avatar, AvatarState, GeneratedImage, Prompt, PromptState, SubjectClass
from studio.core.exceptions import ApplicationError, InsufficientCredits
from studio.credits.models import CreditEntry, EntryKind
from studio.credits.selectors import credit_balance
from studio.photos.samples import sample_set
from studio.photos.selectors import photo_count_accepted
from studio.photos.services import photo_upload
from tests.avatars.factories import GeneratedImageFactory, PromptFactory, done_avatar
from tests.concurrency import run_together
from tests.faces import photographs
from tests.factories import UserFactory
from tests.helpers import state_of

pytestmark = pytest.mark.django_db


def test_confirm_spends_once_queues_and_creates_the_prompts(user, make_draft, django_capture_on_commit_callbacks):
    avatar = make_draft(user, customs=["me reading in a cosy library"])
    before = credit_balance(user=user)

    with django_capture_on_commit_callbacks() as callbacks:
        services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
        services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)  # a double click

    avatar.refresh_from_db()
    assert avatar.state == AvatarState.QUEUED
    assert avatar.prompts.count() == 4
    assert all(p.state == PromptState.PENDING and "sks woman" in p.text for p in avatar.prompts.all())
    assert credit_balance(user=user) == before - (2 + 4)
    assert CreditEntry.objects.filter(kind=EntryKind.SPEND, reference=f"avatar:{avatar.pk}").count() == 1
    assert len(callbacks) == 1  # one submit, enqueued once the transaction commits


def test_nothing_is_ordered_without_the_owners_consent_which_is_recorded_with_its_time(user, make_draft):
    avatar = make_draft(user)
    before = credit_balance(user=user)

    with pytest.raises(ApplicationError, match="permission"):
        services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=False)
    avatar.refresh_from_db()
    assert avatar.state == AvatarState.DRAFT and avatar.consent_at is None and credit_balance(user=user) == before

    services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
    avatar.refresh_from_db()
    assert avatar.state == AvatarState.QUEUED and avatar.consent_at is not None


def test_the_ledger_counts_styles_with_their_plural(user, make_draft):
    one = make_draft(user, themes=["golden-hour"], credits=20)
    services.avatar_confirm(user=user, avatar_id=one.pk, consent=True)

    assert CreditEntry.objects.get(reference=f"avatar:{one.pk}").reason == "Avatar “Ada”: training and 1 style"


def test_confirm_without_enough_credits_changes_nothing(user, make_draft):
    avatar = make_draft(user, credits=3)

    with pytest.raises(InsufficientCredits):
        services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)

    assert state_of(avatar) == AvatarState.DRAFT
    assert not avatar.prompts.exists()
    assert credit_balance(user=user) == 3


def test_confirm_needs_four_accepted_photos(user, make_draft):
    avatar = make_draft(user, photos=3)

    with pytest.raises(ApplicationError, match="at least 4"):
        services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)

    assert state_of(avatar) == AvatarState.DRAFT


def _upload(user, avatar, name: str, data: bytes, capture) -> None:
    """Upload through the service and let the images task run, as the worker would."""
    with capture(execute=True):
        photo_upload(user=user, avatar=avatar, upload=SimpleUploadedFile(name, data, content_type="image/jpeg"))


def test_a_man_cannot_be_ordered_with_a_cup_a_cat_a_second_person_or_six_copies_of_one_shot(
    user, make_draft, django_capture_on_commit_callbacks
):
    man = make_draft(user, subject_class=SubjectClass.MAN, photos=0)
    for name, data in sample_set(3):
        _upload(user, man, name, data, django_capture_on_commit_callbacks)
    for thing in ("coffee", "chelsea", "hopper"):  # a cup, a cat, another person
        _upload(user, man, f"{thing}.jpg", photographs.jpeg(thing), django_capture_on_commit_callbacks)
    copies = make_draft(user, subject_class=SubjectClass.MAN, photos=0)
    for edit in photographs.EDITS[:6]:  # one shot flipped, cropped, lighter, darker...
        _upload(user, copies, f"{edit}.jpg", photographs.jpeg("astronaut", edit), django_capture_on_commit_callbacks)

    for avatar, counted in ((man, 3), (copies, 1)):
        assert photo_count_accepted(avatar=avatar) == counted
        with pytest.raises(ApplicationError, match="at least 4"):
            services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
        assert state_of(avatar) == AvatarState.DRAFT

    # One more real photo of him, and the same set goes.
    _upload(user, man, "another.jpg", sample_set(4)[3][1], django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False):
        services.avatar_confirm(user=user, avatar_id=man.pk, consent=True)
    assert state_of(man) == AvatarState.QUEUED


def test_someone_elses_avatar_cannot_be_confirmed(user, other_user, make_draft):
    avatar = make_draft(user)

    with pytest.raises(Avatar.DoesNotExist):
        services.avatar_confirm(user=other_user, avatar_id=avatar.pk, consent=True)



class RecordingAstria:
    """Astria's like routes, recording each call. With `overlap` set, a call waits that long for a
    second one to start (none should), so that calls made at once would be seen overlapping."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []
        self.overlap = 0.0
        self._second = threading.Event()

    def _record(self, call: str, prompt_id: int) -> None:
        self.calls.append((call, prompt_id))
        if len(self.calls) > 1:
            self._second.set()
        self._second.wait(timeout=self.overlap)

    def like_prompt(self, prompt_id: int) -> None:
        self._record("like", prompt_id)

    def unlike_prompt(self, prompt_id: int) -> None:
        self._record("unlike", prompt_id)


@pytest.fixture
def astria(monkeypatch) -> RecordingAstria:
    recording = RecordingAstria()
    monkeypatch.setattr(services, "get_client", lambda: recording)
    return recording


@pytest.fixture
def image(user) -> GeneratedImage:
    avatar = done_avatar(user=user, prompts=0)
    return GeneratedImageFactory(prompt=PromptFactory(avatar=avatar, astria_prompt_id=4242), avatar=avatar)


def test_rapid_favourite_toggles_make_one_astria_call_per_change(
    user, image, astria, django_capture_on_commit_callbacks
):
    def toggle(*states: bool) -> None:
        # The syncs run after all the clicks, as on a busy worker.
        with django_capture_on_commit_callbacks() as syncs:
            for favourite in states:
                services.image_set_favourite(user=user, image_id=image.pk, favourite=favourite)
        for sync in syncs:
            sync()

    toggle(True, False, True)
    toggle(False, True, False, True, False)
    toggle(False)

    assert astria.calls == [("like", 4242), ("unlike", 4242)]
    assert Prompt.objects.get(pk=image.prompt_id).liked is False


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_like_syncs_running_at_once_call_astria_once(image, astria):
    GeneratedImage.objects.filter(pk=image.pk).update(is_favourite=True)
    astria.overlap = 0.5

    results = run_together(lambda i: services.prompt_sync_like(prompt_id=image.prompt_id), 4)

    assert results == [None] * 4
    assert astria.calls == [("like", 4242)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_drafts_created_at_once_never_exceed_the_limit(settings):
    settings.AVATAR_MAX_DRAFTS = 3
    user = UserFactory()

    results = run_together(
        lambda i: services.avatar_create(user=user, name=f"Avatar {i}", subject_class="woman"), 6
    )

    assert sum(isinstance(result, Avatar) for result in results) == 3
    assert sum(isinstance(result, services.DraftLimitReached) for result in results) == 3
    assert Avatar.objects.filter(user=user, state=AvatarState.DRAFT).count() == 3
