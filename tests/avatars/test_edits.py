"""The edit studio's paid edits, through the prompts' own pipeline against the sandbox."""

import numpy as np
import pytest
from django.db import transaction
from PIL import Image

from studio.avatars import edits, likeness, services
from studio.avatars.models import Avatar, AvatarState, EditKind, GeneratedImage, LikenessOutcome, Prompt, PromptState
from studio.core.exceptions import ApplicationError, InsufficientCredits
from studio.credits.models import CreditEntry
from studio.credits.selectors import credit_balance, wallets_out_of_balance
from studio.credits.services import credit_grant
from tests.avatars.factories import GeneratedImageFactory, PromptFactory, done_avatar
from tests.concurrency import run_together
from tests.factories import AvatarFactory, UserFactory
from tests.helpers import state_of

pytestmark = pytest.mark.django_db


def _order(user, image, capture, kind=EditKind.MORE, **choice):
    with capture(execute=True):
        return edits.edit_order(user=user, avatar_id=image.avatar_id, image_id=image.pk, kind=kind, **choice)


def test_more_like_this_costs_its_price_once_and_lands_beside_its_source(
    user, delivered, studio_on_sandbox, settings, reconcile_until, django_capture_on_commit_callbacks
):
    settings.CREDITS_PRICE_EDIT_MORE = 2
    source = delivered.images.order_by("index").last()
    before = credit_balance(user=user)

    edit = _order(user, source, django_capture_on_commit_callbacks)

    edit.refresh_from_db()
    assert credit_balance(user=user) == before - 2
    assert (edit.kind, edit.source_image, edit.price) == (EditKind.MORE, source, 2)
    assert edit.state == PromptState.SUBMITTED and state_of(delivered) == AvatarState.GENERATING
    reconcile_until(lambda: state_of(delivered) == AvatarState.DONE)
    edit.refresh_from_db()
    assert edit.state == PromptState.DONE
    made = list(GeneratedImage.objects.filter(prompt=edit))
    assert len(made) == 2 and all(image.avatar_id == delivered.pk for image in made)
    with source.image.open("rb") as handle:
        original = handle.read()
    for image in made:  # a new seed: other pictures of the same subject in the same style
        with image.image.open("rb") as handle:
            assert handle.read() != original
    assert list(source.edits.all()) == [edit]
    assert studio_on_sandbox.stats()["prompts_created"] == 2
    remote = studio_on_sandbox.client().get_prompt(delivered.tune_id, edit.astria_prompt_id)
    assert remote.raw["orig_prompt_id"] == source.prompt.astria_prompt_id  # a duplicate of its prompt
    assert not wallets_out_of_balance().exists()


@pytest.mark.parametrize(
    ("kind", "choice"),
    [(EditKind.MORE, {}), (EditKind.BIGGER, {}), (EditKind.EXTEND, {"option": "banner"}),
     (EditKind.TOUCHUP, {"instruction": "a navy blazer"})],
)
def test_a_failed_edit_is_refunded_exactly_once(
    user, delivered, studio_on_sandbox, reconcile_until, django_capture_on_commit_callbacks, kind, choice
):
    source = delivered.images.first()
    before = credit_balance(user=user)
    studio_on_sandbox.set_faults(fail_prompts_next=1)

    edit = _order(user, source, django_capture_on_commit_callbacks, kind, **choice)
    reconcile_until(lambda: state_of(delivered) == AvatarState.DONE)
    services.prompt_fail(prompt_id=edit.pk, reason="again")  # a second failure changes nothing

    edit.refresh_from_db()
    assert edit.state == PromptState.FAILED and edit.refunded
    assert credit_balance(user=user) == before
    assert CreditEntry.objects.filter(key=f"refund:prompt:{edit.pk}").count() == 1
    assert delivered.images.count() == 2  # the avatar keeps what it had
    assert not wallets_out_of_balance().exists()


def test_bigger_is_the_same_picture_four_times_larger_beside_its_source(
    user, delivered, settings, reconcile_until, django_capture_on_commit_callbacks
):
    settings.CREDITS_PRICE_EDIT_BIGGER = 3
    source = delivered.images.order_by("index").last()
    before = credit_balance(user=user)

    edit = _order(user, source, django_capture_on_commit_callbacks, EditKind.BIGGER)
    reconcile_until(lambda: state_of(delivered) == AvatarState.DONE)

    edit.refresh_from_db()
    assert edit.state == PromptState.DONE and edit.label == "Bigger: “Film noir”, image 2"
    assert credit_balance(user=user) == before - 3
    (bigger,) = edit.images.all()
    assert (bigger.width, bigger.height) == (4 * source.width, 4 * source.height) == (4096, 4096)
    pictures = []
    for image in (bigger, source):
        with image.image.open("rb") as handle:
            pictures.append(np.asarray(Image.open(handle).convert("L").resize((64, 64)), dtype=float))
    assert np.abs(pictures[0] - pictures[1]).mean() < 4  # the same picture, larger
    assert "has been made bigger already" in edits.edit_bigger_offer(image=bigger).unavailable


def test_an_edit_refused_at_astria_is_refunded(
    user, delivered, studio_on_sandbox, django_capture_on_commit_callbacks
):
    source = delivered.images.first()
    before = credit_balance(user=user)
    studio_on_sandbox.client().delete_prompt(delivered.tune_id, source.prompt.astria_prompt_id)

    edit = _order(user, source, django_capture_on_commit_callbacks)

    edit.refresh_from_db()
    assert edit.state == PromptState.FAILED and edit.refunded
    assert credit_balance(user=user) == before


def test_no_edit_while_the_avatar_is_busy_and_nothing_is_spent(
    user, delivered, django_capture_on_commit_callbacks
):
    first, second = delivered.images.all()[:2]
    _order(user, first, django_capture_on_commit_callbacks)
    balance = credit_balance(user=user)

    with pytest.raises(ApplicationError, match="once the images being made now are finished"):
        _order(user, second, django_capture_on_commit_callbacks)

    assert credit_balance(user=user) == balance and delivered.prompts.count() == 2


def test_no_edit_without_the_credits(user, delivered, settings, django_capture_on_commit_callbacks):
    settings.CREDITS_PRICE_EDIT_MORE = 500

    with pytest.raises(InsufficientCredits):
        _order(user, delivered.images.first(), django_capture_on_commit_callbacks)

    assert delivered.prompts.count() == 1 and state_of(delivered) == AvatarState.DONE


def test_more_like_this_counts_against_the_fair_use_budget(
    user, delivered, settings, django_capture_on_commit_callbacks
):
    settings.FAIR_USE_MAX_PROMPTS = 1
    image = delivered.images.first()

    assert "used all 1 prompts" in edits.edit_more_offer(image=image).unavailable
    with pytest.raises(ApplicationError, match="used all 1 prompts"):
        _order(user, image, django_capture_on_commit_callbacks)


def test_someone_elses_image_cannot_be_edited(delivered, other_user, django_capture_on_commit_callbacks):
    with pytest.raises(GeneratedImage.DoesNotExist):
        _order(other_user, delivered.images.first(), django_capture_on_commit_callbacks)


def test_deleting_the_avatar_deletes_its_edits(user, delivered, django_capture_on_commit_callbacks):
    _order(user, delivered.images.first(), django_capture_on_commit_callbacks)

    services.avatar_delete(user=user, avatar_id=delivered.pk)

    assert not GeneratedImage.objects.filter(avatar_id=delivered.pk).exists()


@pytest.mark.parametrize("kind", [EditKind.BIGGER, EditKind.EXTEND, EditKind.TOUCHUP])
def test_a_copy_of_the_picture_that_scores_unlike_them_is_not_made_again(user, settings, kind):
    settings.LIKENESS_GUARANTEE = True
    avatar = AvatarFactory(user=user, state=AvatarState.GENERATING)
    source = GeneratedImageFactory(prompt=PromptFactory(avatar=avatar), avatar=avatar, index=0, likeness=0.9)
    bigger = PromptFactory(avatar=avatar, batch=1, position=0, kind=kind, source_image=source)
    GeneratedImageFactory(prompt=bigger, avatar=avatar, index=0, likeness=0.2, face_found=True)

    with transaction.atomic():
        likeness.prompts_settle_likeness(avatar=Avatar.objects.select_for_update().get(pk=avatar.pk))

    bigger.refresh_from_db()
    assert bigger.likeness_outcome == LikenessOutcome.FAILED and not bigger.refunded
    assert not Prompt.objects.filter(redo_of=bigger).exists() and avatar.prompts.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_edits_ordered_at_once_are_paid_and_made_once(settings):
    settings.CREDITS_PRICE_EDIT_MORE = 1
    user = UserFactory()
    credit_grant(user=user, amount=10, key="race", reason="Credits for the test")
    avatar = done_avatar(user=user, prompts=1, images_per_prompt=3)
    images = list(avatar.images.all())

    results = run_together(
        lambda i: edits.edit_order(
            user=user, avatar_id=avatar.pk, image_id=images[i % 3].pk, kind=[EditKind.MORE, EditKind.BIGGER][i % 2]
        ),
        6,
    )

    assert sum(isinstance(result, Prompt) for result in results) == 1
    assert all(isinstance(r, (Prompt, ApplicationError)) for r in results), results
    assert avatar.prompts.exclude(kind=EditKind.STYLE).count() == 1
    assert credit_balance(user=user) == 9 and not wallets_out_of_balance().exists()
