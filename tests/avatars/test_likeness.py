"""Likeness of delivered portraits: scored as they are stored, and the guarantee the ledger keeps (a
style that mostly does not look like the person is made again once, free, then refunded once).
The sandbox's likeness fault paints a style's images with someone else's face, offline."""

import logging
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from studio.avatars import likeness, progress, reconcile, services
from studio.avatars.models import (
    Avatar,
    AvatarState,
    GeneratedImage,
    LikenessOutcome,
    Prompt,
    PromptState,
    SubjectClass,
)
from studio.credits.models import CreditEntry, EntryKind
from studio.credits.selectors import wallets_out_of_balance
from studio.photos.selectors import photo_set_identity
from tests.avatars.factories import GeneratedImageFactory, PromptFactory
from tests.concurrency import run_together
from tests.factories import AvatarFactory
from tests.helpers import refunds, state_of

pytestmark = pytest.mark.django_db


def _confirm(user, avatar, capture) -> None:
    with capture(execute=True):
        services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)


def _style(avatar, slug: str) -> Prompt:
    return Prompt.objects.get(avatar=avatar, theme_slug=slug, redo_of=None)


def test_a_style_that_does_not_look_like_them_is_made_again_once_then_refunded_once(
    user, make_draft, studio_on_sandbox, reconcile_until, django_capture_on_commit_callbacks
):
    studio_on_sandbox.fail_likeness("stranger", share=1.0, match="noir")
    avatar = make_draft(user)
    _confirm(user, avatar, django_capture_on_commit_callbacks)

    reconcile_until(lambda: state_of(avatar) == AvatarState.DONE)

    noir = _style(avatar, "film-noir")
    assert noir.likeness_outcome == LikenessOutcome.REFUNDED and noir.refunded
    redo = noir.redo
    assert (redo.state, redo.likeness_outcome, redo.price, redo.label) == (
        PromptState.DONE, LikenessOutcome.FAILED, 0, noir.label)
    assert redo.seed is not None and redo.text == noir.text
    assert not redo.inpaint_faces  # the free `fast` branch has no face inpainting
    # Someone else's face in every image of the style, made twice; the others look like her.
    for image in GeneratedImage.objects.filter(prompt__in=[noir, redo]):
        assert image.face_found and image.likeness < 0.5
    for image in GeneratedImage.objects.filter(avatar=avatar).exclude(prompt__in=[noir, redo]):
        assert image.face_found and image.likeness >= 0.5
    assert set(avatar.prompts.filter(redo_of=None).exclude(pk=noir.pk).values_list(
        "likeness_outcome", flat=True)) == {LikenessOutcome.PASSED}
    assert avatar.prompts.count() == 4 and studio_on_sandbox.stats()["prompts_created"] == 4

    entry = CreditEntry.objects.get(user=user, kind=EntryKind.REFUND)
    assert (entry.amount, entry.key) == (noir.price, f"refund:likeness:prompt:{noir.pk}")
    assert "did not look like them" in entry.reason

    # Replayed checks, reconciler rounds and settling again change nothing.
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            reconcile.avatar_reconcile()
            progress.avatar_check_finished(avatar_id=avatar.pk)
            with transaction.atomic():
                likeness.prompts_settle_likeness(avatar=Avatar.objects.select_for_update().get(pk=avatar.pk))
    assert refunds(user) == [noir.price]
    assert avatar.prompts.count() == 4
    assert not wallets_out_of_balance().exists()


def test_a_redo_that_looks_like_them_keeps_the_credit_and_shows_first(
    user, client, make_draft, studio_on_sandbox, reconcile_until, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(likeness.secrets, "randbelow", lambda _: 7)  # the redo's seed: its images, every run
    studio_on_sandbox.set_delays(training=3600)
    studio_on_sandbox.fail_likeness("no_face", share=1.0, match="noir")
    avatar = make_draft(user)
    _confirm(user, avatar, django_capture_on_commit_callbacks)
    studio_on_sandbox.fail_likeness("off")  # the redo, made later, is painted right
    avatar.refresh_from_db()
    studio_on_sandbox.train_now(avatar.tune_id)
    with django_capture_on_commit_callbacks(execute=True):  # as the tune's callback would
        progress.avatar_sync_tune(avatar_id=avatar.pk)

    reconcile_until(lambda: state_of(avatar) == AvatarState.DONE)

    noir = _style(avatar, "film-noir")
    assert noir.likeness_outcome == LikenessOutcome.REDO_PASSED
    assert noir.redo.likeness_outcome == LikenessOutcome.PASSED
    assert not GeneratedImage.objects.filter(prompt=noir, face_found=True).exists()
    assert refunds(user) == []

    client.force_login(user)
    page = client.get(avatar.get_absolute_url()).content.decode()
    section = page[page.index(f'id="prompt-{noir.pk}"'):]
    section = section[: section.index("</section>")]
    shown, _, doubtful = section.partition("<details")
    assert shown.count('class="image-tile"') == 2
    assert "2 more that may not look like you" in doubtful and doubtful.count('class="image-tile"') == 2
    assert 'data-likeness="No face found"' in doubtful and 'data-likeness="No face found"' not in shown
    assert f'id="prompt-{noir.redo.pk}"' not in page  # a redo is shown within its style


def test_pets_are_not_scored_and_keep_every_style(
    user, make_draft, studio_on_sandbox, reconcile_until, django_capture_on_commit_callbacks
):
    studio_on_sandbox.fail_likeness("no_face", share=1.0)
    avatar = make_draft(user, subject_class=SubjectClass.CAT, themes=("pet-wizard",))
    _confirm(user, avatar, django_capture_on_commit_callbacks)

    reconcile_until(lambda: state_of(avatar) == AvatarState.DONE)

    avatar.refresh_from_db()
    assert avatar.identity is None
    assert avatar.prompts.count() == 1
    assert avatar.prompts.get().likeness_outcome == LikenessOutcome.NONE
    assert set(GeneratedImage.objects.filter(avatar=avatar).values_list("likeness", "face_found")) == {
        (None, None)}
    assert refunds(user) == []


# --- The guarantee's rules, on stored scores ---------------------------------------------------------


def _generating(user, *, scores, prompts: int = 1, **avatar_fields) -> Avatar:
    """A generating avatar whose prompts just finished, with images scored as given."""
    avatar = AvatarFactory(user=user, state=AvatarState.GENERATING, tune_id=3_000_001, branch="sd15",
                           identity=[0.0] * 128, trained_at=timezone.now(), **avatar_fields)
    for position in range(prompts):
        prompt = PromptFactory(avatar=avatar, position=position, num_images=len(scores), price=2)
        for index, score in enumerate(scores):
            GeneratedImageFactory(prompt=prompt, avatar=avatar, index=index, likeness=score,
                                  face_found=score is not None and score > 0)
    return avatar


def _check(avatar, capture) -> None:
    with capture(execute=False):
        progress.avatar_check_finished(avatar_id=avatar.pk)


@pytest.mark.parametrize(("scores", "outcome"), [
    ([0.9, 0.7, 0.2, 0.0], LikenessOutcome.PASSED),  # half failing is not "mostly"
    ([0.9, 0.3, 0.2, 0.0], LikenessOutcome.REDOING),
])
def test_a_style_is_made_again_when_most_of_its_images_fail(user, scores, outcome, django_capture_on_commit_callbacks):
    avatar = _generating(user, scores=scores)
    _check(avatar, django_capture_on_commit_callbacks)
    prompt = avatar.prompts.get(redo_of=None)
    assert prompt.likeness_outcome == outcome
    if outcome == LikenessOutcome.REDOING:
        redo = prompt.redo
        assert (redo.state, redo.price, redo.inpaint_faces, redo.num_images) == (PromptState.PENDING, 0, True, 4)
        assert state_of(avatar) == AvatarState.GENERATING  # waits for it
    else:
        assert state_of(avatar) == AvatarState.DONE


def test_without_room_in_the_tunes_fair_use_the_style_is_refunded_at_once(
    user, settings, django_capture_on_commit_callbacks
):
    settings.FAIR_USE_MAX_PROMPTS = 2
    avatar = _generating(user, scores=[0.1, 0.2], prompts=2)
    _check(avatar, django_capture_on_commit_callbacks)
    assert not Prompt.objects.filter(avatar=avatar, redo_of__isnull=False).exists()
    assert set(avatar.prompts.values_list("likeness_outcome", flat=True)) == {LikenessOutcome.REFUNDED}
    assert refunds(user) == [2, 2]
    assert state_of(avatar) == AvatarState.DONE


def test_with_the_guarantee_off_styles_are_judged_but_neither_redone_nor_refunded(
    user, settings, django_capture_on_commit_callbacks
):
    settings.LIKENESS_GUARANTEE = False
    avatar = _generating(user, scores=[0.1, 0.2])
    _check(avatar, django_capture_on_commit_callbacks)
    assert avatar.prompts.get().likeness_outcome == LikenessOutcome.FAILED
    assert refunds(user) == [] and state_of(avatar) == AvatarState.DONE


def test_a_redo_that_is_not_generated_refunds_its_style_once(user, django_capture_on_commit_callbacks):
    avatar = _generating(user, scores=[0.1, 0.2])
    _check(avatar, django_capture_on_commit_callbacks)
    redo = Prompt.objects.get(avatar=avatar, redo_of__isnull=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.prompt_fail(prompt_id=redo.pk, reason="Astria could not run this prompt: busy")
        services.prompt_fail(prompt_id=redo.pk, reason="again")
    assert avatar.prompts.get(pk=redo.redo_of_id).likeness_outcome == LikenessOutcome.REFUNDED
    assert refunds(user) == [2]
    assert state_of(avatar) == AvatarState.DONE


def test_an_avatar_failing_while_a_redo_is_under_way_refunds_that_style_once(
    user, django_capture_on_commit_callbacks
):
    avatar = _generating(user, scores=[0.1, 0.2])
    _check(avatar, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False):
        services.avatar_fail(avatar_id=avatar.pk, reason="The model disappeared at Astria.")
        services.avatar_fail(avatar_id=avatar.pk, reason="again")
    assert refunds(user) == [2]  # the style's 2; the tune delivered, so it is not refunded
    avatar.refresh_from_db()
    assert avatar.state == AvatarState.FAILED and avatar.identity is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_checks_running_at_once_make_one_redo_and_one_refund(user):
    avatar = _generating(user, scores=[0.1, 0.2, 0.3])
    run_together(lambda _: progress.avatar_check_finished(avatar_id=avatar.pk), count=6)
    assert Prompt.objects.filter(avatar=avatar).count() == 2
    redo = Prompt.objects.get(avatar=avatar, redo_of__isnull=False)
    Prompt.objects.filter(pk=redo.pk).update(state=PromptState.DONE)
    for index in range(3):
        GeneratedImageFactory(prompt=redo, avatar=avatar, index=index, likeness=0.1, face_found=True)
    run_together(lambda _: progress.avatar_check_finished(avatar_id=avatar.pk), count=6)
    assert refunds(user) == [2]
    assert CreditEntry.objects.filter(key__startswith="refund:likeness:").count() == 1
    assert state_of(avatar) == AvatarState.DONE


# --- The identity: kept from the order, forgotten when no longer needed, never logged --------------


def test_the_identity_is_kept_at_the_order_and_scores_portraits_after_the_photos_are_purged(
    user, make_draft, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.DEBUG)
    avatar = make_draft(user)
    identity = photo_set_identity(avatar=avatar)
    with django_capture_on_commit_callbacks(execute=False):
        services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
    avatar.refresh_from_db()
    assert avatar.identity == pytest.approx(list(identity), abs=1e-5)

    with django_capture_on_commit_callbacks(execute=False):
        reconcile.avatar_purge_photos(avatar_id=avatar.pk)
    avatar.refresh_from_db()
    assert not avatar.photos.exists()
    assert likeness.avatar_identity(avatar=avatar) == pytest.approx(list(identity), abs=1e-5)
    assert f"{avatar.identity[0]:.5f}"[:7] not in caplog.text


def test_identities_are_forgotten_once_no_prompt_can_need_them(user):
    now = timezone.now()
    kept = AvatarFactory(user=user, state=AvatarState.DONE, identity=[0.1] * 128, trained_at=now - timedelta(days=29))
    old = AvatarFactory(user=user, state=AvatarState.DONE, identity=[0.1] * 128, trained_at=now - timedelta(days=31))
    failed = AvatarFactory(user=user, state=AvatarState.FAILED, identity=[0.1] * 128)
    generating = AvatarFactory(user=user, state=AvatarState.GENERATING, identity=[0.1] * 128,
                               trained_at=now - timedelta(days=40))
    assert reconcile.avatar_reconcile()["identities_forgotten"] == 2
    remembered = set(Avatar.objects.filter(identity__isnull=False).values_list("pk", flat=True))
    assert remembered == {kept.pk, generating.pk}
    assert old.pk not in remembered and failed.pk not in remembered


def test_an_avatar_ordered_before_identities_were_kept_takes_it_from_its_photos_while_they_last(user, make_draft):
    avatar = make_draft(user)
    Avatar.objects.filter(pk=avatar.pk).update(state=AvatarState.GENERATING)
    avatar.refresh_from_db()
    assert avatar.identity is None

    identity = likeness.avatar_identity(avatar=avatar)

    assert identity == pytest.approx(list(photo_set_identity(avatar=avatar)), abs=1e-5)
    assert Avatar.objects.get(pk=avatar.pk).identity is not None  # kept from now on
    purged = AvatarFactory(user=user, state=AvatarState.DONE, photos_purged_at=timezone.now())
    assert likeness.avatar_identity(avatar=purged) is None  # nothing to score against: not scored
