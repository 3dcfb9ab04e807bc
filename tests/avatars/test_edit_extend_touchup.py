"""Extend and Touch-up: paid edits made from the picture itself, through the prompts' own pipeline
against the sandbox (Extend by outpainting where the model has it, Touch-up on the edit model)."""

import io

import numpy as np
import pytest
from PIL import Image

from studio.astria.errors import AstriaMaybeCreated
from studio.avatars import edits, services, submission
from studio.avatars.edit_requests import input_picture, nearest_aspect_ratio
from studio.avatars.models import AstriaTuneDeletion, AvatarState, EditKind, PromptState
from studio.core.exceptions import ApplicationError
from studio.credits.selectors import credit_balance, wallets_out_of_balance
from studio.themes.exceptions import PromptRejected
from tests.avatars.factories import done_avatar
from tests.helpers import state_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_flux(settings):
    settings.ASTRIA_BRANCH, settings.ASTRIA_TOKEN = "flux1", "ohwx"
    settings.ASTRIA_BASE_TUNE_ID = settings.ASTRIA_BASE_TUNE_IDS["flux1"]


def _order(user, image, capture, kind, **choice):
    with capture(execute=True):
        return edits.edit_order(user=user, avatar_id=image.avatar_id, image_id=image.pk, kind=kind, **choice)


def _pixels(image, size=(64, 64)) -> np.ndarray:
    with image.image.open("rb") as handle:
        return np.asarray(Image.open(handle).convert("L").resize(size), dtype=float)


def test_a_banner_is_the_portrait_outpainted_to_4_to_1_for_its_price_once(
    user, delivered, studio_on_sandbox, settings, reconcile_until, django_capture_on_commit_callbacks
):
    settings.CREDITS_PRICE_EDIT_EXTEND = 2
    source = delivered.images.order_by("index").first()
    before = credit_balance(user=user)

    edit = _order(user, source, django_capture_on_commit_callbacks, EditKind.EXTEND, option="banner")
    reconcile_until(lambda: state_of(delivered) == AvatarState.DONE)

    edit.refresh_from_db()
    assert edit.state == PromptState.DONE and edit.label == "LinkedIn banner: “Film noir”, image 1"
    assert credit_balance(user=user) == before - 2 and not wallets_out_of_balance().exists()
    (banner,) = edit.images.all()
    assert (banner.width, banner.height) == (3072, 768)
    middle = _pixels(banner, (256, 64))[:, 96:160]  # the portrait sits in the middle, as it was
    assert np.abs(middle - _pixels(source)).mean() < 12
    remote = studio_on_sandbox.client().get_prompt(delivered.tune_id, edit.astria_prompt_id)
    assert remote.raw["text"].endswith("--outpaint center --outpaint_width 3072 --outpaint_height 768")
    assert remote.raw["denoising_strength"] == 0
    assert list(source.edits.all()) == [edit]


def test_a_full_length_portrait_on_flux_goes_to_the_base_model_with_the_lora(
    user, on_flux, delivered, studio_on_sandbox, settings, reconcile_until, django_capture_on_commit_callbacks
):
    source = delivered.images.first()

    edit = _order(user, source, django_capture_on_commit_callbacks, EditKind.EXTEND, option="full_length")
    reconcile_until(lambda: state_of(delivered) == AvatarState.DONE)

    edit.refresh_from_db()
    (tall,) = edit.images.all()
    assert (tall.width, tall.height) == (1152, 2048)
    remote = studio_on_sandbox.client().get_prompt(settings.ASTRIA_BASE_TUNE_ID, edit.astria_prompt_id)
    assert remote.raw["text"].startswith(f"<lora:{delivered.tune_id}:1> ")
    assert "--outpaint top-center --outpaint_width 1152 --outpaint_height 2048" in remote.raw["text"]


def test_extend_is_not_offered_where_the_model_cannot_outpaint_and_nothing_is_spent(
    user, settings, django_capture_on_commit_callbacks
):
    settings.CREDITS_PRICE_EDIT_EXTEND = 1
    avatar = done_avatar(user=user, name="Ada", prompts=1, images_per_prompt=1, branch="sd15", tune_id=5)
    image = avatar.images.get()
    services_balance = credit_balance(user=user)

    offer = edits.edit_extend_offer(image=image)

    assert not offer.available
    assert "only on its Flux model, and Ada was made with Stable Diffusion 1.5" in offer.unavailable
    with pytest.raises(ApplicationError, match="only on its Flux model"):
        _order(user, image, django_capture_on_commit_callbacks, EditKind.EXTEND, option="banner")
    assert credit_balance(user=user) == services_balance and avatar.prompts.count() == 1


def test_a_touch_up_edits_the_picture_on_the_edit_model_with_the_cleaned_instruction(
    user, delivered, studio_on_sandbox, settings, reconcile_until, django_capture_on_commit_callbacks
):
    settings.CREDITS_PRICE_EDIT_TOUCHUP = 2
    source = delivered.images.order_by("index").last()
    before = credit_balance(user=user)

    edit = _order(
        user, source, django_capture_on_commit_callbacks, EditKind.TOUCHUP,
        instruction="  plain grey background <lora:123:1> --upscale_v4 ",
    )
    reconcile_until(lambda: state_of(delivered) == AvatarState.DONE)

    edit.refresh_from_db()
    assert (edit.state, edit.text) == (PromptState.DONE, "plain grey background")
    assert edit.label == "Touch-up: “Film noir”, image 2 · plain grey background"
    assert credit_balance(user=user) == before - 2
    remote = studio_on_sandbox.client().get_prompt(settings.ASTRIA_EDIT_TUNE_ID, edit.astria_prompt_id)
    assert remote.tune_id == settings.ASTRIA_EDIT_TUNE_ID
    assert remote.raw["text"].startswith("plain grey background. Keep")
    (made,) = edit.images.all()
    assert np.abs(_pixels(made) - _pixels(source)).mean() > 10  # visibly changed
    assert list(source.edits.all()) == [edit]


@pytest.mark.parametrize(
    ("instruction", "reason"),
    [("   ", "Say what to change"), ("make me nude", "“nude” is not allowed"), ("--seed 5 <x>", "Say what to change")],
)
def test_a_touch_up_refused_by_the_prompt_filter_costs_nothing(
    user, delivered, instruction, reason, django_capture_on_commit_callbacks
):
    before = credit_balance(user=user)

    image = delivered.images.first()
    with pytest.raises(PromptRejected, match=reason):
        _order(user, image, django_capture_on_commit_callbacks, EditKind.TOUCHUP, instruction=instruction)

    assert credit_balance(user=user) == before and delivered.prompts.count() == 1
    assert state_of(delivered) == AvatarState.DONE


def test_deleting_the_avatar_deletes_its_touch_ups_on_the_edit_model_at_astria(
    user, delivered, settings, reconcile_until, django_capture_on_commit_callbacks
):
    image = delivered.images.first()
    edit = _order(user, image, django_capture_on_commit_callbacks, EditKind.TOUCHUP, instruction="a red scarf")
    reconcile_until(lambda: state_of(delivered) == AvatarState.DONE)
    edit.refresh_from_db()

    services.avatar_delete(user=user, avatar_id=delivered.pk)

    deletion = AstriaTuneDeletion.objects.get(tune_id=delivered.tune_id)
    assert deletion.prompts == [[settings.ASTRIA_EDIT_TUNE_ID, edit.astria_prompt_id]]


def test_touch_ups_are_not_offered_when_switched_off(user, settings):
    settings.ASTRIA_EDIT_TUNE_ID = 0
    image = done_avatar(user=user, prompts=1, images_per_prompt=1, tune_id=5).images.get()

    assert edits.edit_touchup_offer(image=image).unavailable == "Touch-ups are not offered at the moment."


def test_the_picture_sent_fits_the_shape_without_distortion(user):
    image = done_avatar(user=user, prompts=1, images_per_prompt=1, tune_id=5).images.get()

    smaller = Image.open(io.BytesIO(input_picture(image, fit=(3072, 32))))
    kept = Image.open(io.BytesIO(input_picture(image, fit=(2048, 2048))))

    assert (smaller.size, kept.size, smaller.format) == ((32, 32), (64, 64), "JPEG")  # never scaled up
    assert [nearest_aspect_ratio(*size) for size in ((1024, 1024), (896, 1152), (3072, 768))] == ["1:1", "4:5", "21:9"]


def test_a_touch_up_created_despite_a_timeout_is_found_on_the_edit_model_not_made_twice(
    user, delivered, studio_on_sandbox, reconcile_until, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):  # its submit is run by hand below
        edit = edits.edit_order(
            user=user, avatar_id=delivered.pk, image_id=delivered.images.first().pk, kind=EditKind.TOUCHUP,
            instruction="a red scarf",
        )
    created = studio_on_sandbox.stats()["prompts_created"]
    studio_on_sandbox.fail_next(1, 504)  # Astria's gateway times out, the prompt made all the same

    with pytest.raises(AstriaMaybeCreated):
        submission.avatar_submit_prompts(avatar_id=str(delivered.pk))
    submission.avatar_submit_prompts(avatar_id=str(delivered.pk))  # the task's retry
    reconcile_until(lambda: state_of(delivered) == AvatarState.DONE)

    edit.refresh_from_db()
    assert edit.state == PromptState.DONE and edit.images.count() == 1
    assert studio_on_sandbox.stats()["prompts_created"] == created + 1
