"""The edit studio: more from one delivered image, after delivery.

A paid edit is a prompt of its own (`Prompt.kind`, `Prompt.source_image`), bought like "generate
more": one ledger spend in the transaction that creates it, the avatar back to generating, and then
the prompts' own machinery (submission, callbacks, the reconciler) makes it at Astria. Its images
land in the gallery as a section of their own that names its source, and go with the avatar. A
failed edit is refunded exactly once by `services.prompt_fail`, like any prompt. How each is asked
of Astria is in `edit_requests.py`; `../shared/ASTRIA-EDIT.md` is the reference cited by section.

- More like this: the image's prompt duplicated at Astria (`POST /prompts/:id/duplicate`, section
  1) from that image (`image_index`) with a new seed.
- Extend: the image outpainted (section 4: `--outpaint <anchor> --outpaint_width W
  --outpaint_height H` at the end of the text, the image as `input_image`, `denoising_strength` 0
  so only the new area is painted) to a LinkedIn banner (4:1) or a full-length portrait (9:16).
  Astria documents outpainting for Flux only, so it is offered on `flux1` (and on `fast`, Astria's
  free test mode, whose mock images stand in for every model); elsewhere the page says why not.
- Bigger: the image's prompt duplicated from that image (`image_index`, which re-uses the image
  rather than making it again) with `super_resolution` on, Astria's "X4 super-resolution".
- Touch-up: an instruction edit with the image as input (section 6c, the documented approach for
  edits by instruction): an ordinary prompt on a partner edit model's gallery tune
  (ASTRIA_EDIT_TUNE_ID, Gemini by default) whose text is the customer's instruction and whose
  `input_image` is the picture, one image, on every branch (the picture carries the person). The
  instruction goes through the custom prompts' cleaner and forbidden-word filter
  (`studio.themes.prompting.clean_user_text`). The classic img2img of section 6a (`denoising_strength`
  on the avatar's own tune) redraws the whole picture rather than following an instruction.

What the studio assumes of `image_index` with a new seed (section 13 leaves it open): the new
prompt starts from the source prompt and makes new pictures with the new seed (variations, not
copies of the chosen image), while `image_index` with the seed unchanged returns that very image,
which Bigger relies on to upscale it rather than paint another. The sandbox does exactly that.
Extends and touch-ups carry a new seed too: Astria folds prompts with the same text and seed on
one tune into one (section 6, "Dedup gotcha"), and two sources of one style share their text.

Each is one more prompt of the avatar, so it counts against the fair-use budget.
"""

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from studio.avatars import tasks
from studio.avatars.models import Avatar, AvatarState, EditKind, GeneratedImage, Prompt, PromptState
from studio.avatars.page_cache import gallery_changed
from studio.core.exceptions import ApplicationError
from studio.core.tasks import enqueue_on_commit
from studio.credits.services import credit_spend
from studio.themes.planner import fair_use_left, images_per_prompt
from studio.themes.prompting import clean_user_text, short_label


@dataclass(frozen=True)
class EditOffer:
    """One edit as the edit page offers it: its price, how many images, and why not, if it cannot go."""

    kind: str
    price: int
    num_images: int
    unavailable: str = ""
    short_of_credits: int = 0  # filled in for the page: how many more the user needs

    @property
    def available(self) -> bool:
        return not self.unavailable


def _unavailable(image: GeneratedImage) -> str:
    """Why no paid edit can be made of the image now ("" when one can)."""
    avatar = image.avatar
    if avatar.state != AvatarState.DONE:
        return "You can order edits once the images being made now are finished."
    if image.prompt.astria_prompt_id is None:
        return "This image cannot be edited."
    if fair_use_left(avatar=avatar).total < 1:
        return (
            f"{avatar.name} has used all {settings.FAIR_USE_MAX_PROMPTS} prompts its model allows, "
            "so no more can be made from it."
        )
    return ""


def edit_more_offer(*, image: GeneratedImage) -> EditOffer:
    """What "More like this" costs for this image now, and the reason when it cannot be ordered."""
    return EditOffer(
        kind=EditKind.MORE,
        price=settings.CREDITS_PRICE_EDIT_MORE,
        num_images=images_per_prompt(),
        unavailable=_unavailable(image),
    )


def edit_bigger_offer(*, image: GeneratedImage) -> EditOffer:
    """What "Bigger" costs for this image now, and the reason when it cannot be ordered."""
    reason = _unavailable(image)
    if image.prompt.kind == EditKind.BIGGER:
        reason = "This image has been made bigger already."
    return EditOffer(kind=EditKind.BIGGER, price=settings.CREDITS_PRICE_EDIT_BIGGER, num_images=1, unavailable=reason)


@dataclass(frozen=True)
class ExtendShape:
    """A shape an Extend makes: the canvas, where the portrait stays on it (Astria's anchor), and
    the box the portrait is scaled into first (so the canvas stays within Flux's sizes)."""

    name: str
    label: str
    button: str
    width: int
    height: int
    anchor: str
    fit: tuple[int, int]


EXTEND_SHAPES = {
    shape.name: shape
    for shape in (
        ExtendShape("banner", "LinkedIn banner", "Make a LinkedIn banner", 3072, 768, "center", (3072, 768)),
        ExtendShape(
            "full_length", "Full-length portrait", "Make a full-length portrait", 1152, 2048, "top-center", (768, 1024)
        ),
    )
}
# Astria documents outpainting "for Flux" (ASTRIA-EDIT.md section 4); `fast` is its mock mode.
EXTEND_BRANCHES = frozenset({"flux1", "fast"})
BRANCH_MODELS = {"sd15": "Stable Diffusion 1.5", "sdxl1": "Stable Diffusion XL", "flux1": "Flux"}


def edit_extend_offer(*, image: GeneratedImage) -> EditOffer:
    """What "Extend" costs for this image now, and the reason when it is not offered."""
    avatar = image.avatar
    reason = _unavailable(image)
    if avatar.branch not in EXTEND_BRANCHES:
        model = BRANCH_MODELS.get(avatar.branch)
        made_with = f"{avatar.name} was made with {model}" if model else f"{avatar.name} was not made with it"
        reason = (
            f"Not offered for {avatar.name}: extending a picture needs outpainting, which the AI service "
            f"offers only on its Flux model, and {made_with}."
        )
    elif image.prompt.kind == EditKind.EXTEND:
        reason = "This image has been extended already."
    return EditOffer(kind=EditKind.EXTEND, price=settings.CREDITS_PRICE_EDIT_EXTEND, num_images=1, unavailable=reason)


def edit_touchup_offer(*, image: GeneratedImage) -> EditOffer:
    """What a touch-up costs for this image now, and the reason when it is not offered."""
    reason = _unavailable(image)
    if not settings.ASTRIA_EDIT_TUNE_ID:
        reason = "Touch-ups are not offered at the moment."
    return EditOffer(kind=EditKind.TOUCHUP, price=settings.CREDITS_PRICE_EDIT_TOUCHUP, num_images=1, unavailable=reason)


OFFERS = {
    EditKind.MORE: edit_more_offer,
    EditKind.EXTEND: edit_extend_offer,
    EditKind.BIGGER: edit_bigger_offer,
    EditKind.TOUCHUP: edit_touchup_offer,
}
TOUCHUP_EMPTY = "Say what to change, for example “a navy blazer instead” or “plain grey background”."


def edit_offers(*, image: GeneratedImage) -> dict[str, EditOffer]:
    return {kind: offer(image=image) for kind, offer in OFFERS.items()}


def edit_order(
    *, user: User, avatar_id: uuid.UUID, image_id: uuid.UUID, kind: str, option: str = "", instruction: str = ""
) -> Prompt:
    """Pay for and queue one paid edit of the user's delivered image: `option` is an Extend's
    shape (EXTEND_SHAPES), `instruction` a touch-up's words.

    Raises GeneratedImage.DoesNotExist for an image that is not theirs, InsufficientCredits, or
    ApplicationError with the reason it cannot go (the avatar busy, the fair-use budget spent, no
    such shape, an instruction refused by the prompt filter: PromptRejected).
    """
    if kind == EditKind.EXTEND and option not in EXTEND_SHAPES:
        raise ApplicationError("Choose a LinkedIn banner or a full-length portrait.")
    if kind == EditKind.TOUCHUP:
        instruction = clean_user_text(instruction, empty=TOUCHUP_EMPTY)
    with transaction.atomic():
        avatar = Avatar.objects.select_for_update().filter(pk=avatar_id, user=user).first()
        if avatar is None:
            raise GeneratedImage.DoesNotExist("No such image.")
        image = GeneratedImage.objects.select_related("prompt", "avatar").get(
            pk=image_id, avatar=avatar, prompt__state=PromptState.DONE
        )
        offer = OFFERS[kind](image=image)
        if not offer.available:
            raise ApplicationError(offer.unavailable)
        gallery_changed(avatar_id=avatar.pk)  # a new section, and the avatar generating again
        source = image.prompt
        batch = (avatar.prompts.order_by("-batch").values_list("batch", flat=True).first() or 0) + 1
        words = f"“{source.label}”, image {image.index + 1}"
        shape = EXTEND_SHAPES.get(option) if kind == EditKind.EXTEND else None
        labels = {
            EditKind.MORE: f"More like {words}",
            EditKind.EXTEND: f"{shape.label if shape else ''}: {words}",
            EditKind.BIGGER: f"Bigger: {words}",
            EditKind.TOUCHUP: f"Touch-up: {words} · {short_label(instruction)}",
        }
        touchup = kind == EditKind.TOUCHUP
        prompt = Prompt.objects.create(
            avatar=avatar,
            batch=batch,
            position=0,
            kind=kind,
            source_image=image,
            edit_option=shape.name if shape else "",
            label=labels[kind][:120],
            theme_slug=source.theme_slug,
            # A touch-up's text is the instruction (the gallery shows it as the images' caption).
            text=instruction if touchup else source.text,
            negative_prompt="" if touchup else source.negative_prompt,
            num_images=offer.num_images,
            cfg_scale=None if touchup else source.cfg_scale,
            steps=None if touchup else source.steps,
            width=shape.width if shape else None if touchup else source.width,
            height=shape.height if shape else None if touchup else source.height,
            # Bigger keeps the picture, made larger; every other edit makes new pictures (a new seed).
            seed=None if kind == EditKind.BIGGER else secrets.randbelow(2**32),
            price=offer.price,
            astria_tune_id=settings.ASTRIA_EDIT_TUNE_ID if touchup else None,
        )
        if offer.price:
            credit_spend(
                user=user,
                amount=offer.price,
                key=f"spend:avatar:{avatar.pk}:edit:{batch}",
                reason=f"Avatar “{avatar.name}”: {EditKind(kind).label.lower()}, {words}",
                reference=f"avatar:{avatar.pk}",
            )
        _reopen(avatar)
    return prompt


def edit_more_like_this(*, user: User, avatar_id: uuid.UUID, image_id: uuid.UUID) -> Prompt:
    """Order "More like this" of one of the user's images (see `edit_order`)."""
    return edit_order(user=user, avatar_id=avatar_id, image_id=image_id, kind=EditKind.MORE)


def edit_bigger(*, user: User, avatar_id: uuid.UUID, image_id: uuid.UUID) -> Prompt:
    """Order "Bigger" of one of the user's images (see `edit_order`)."""
    return edit_order(user=user, avatar_id=avatar_id, image_id=image_id, kind=EditKind.BIGGER)


def _reopen(avatar: Avatar) -> None:
    """The (locked, finished) avatar generates again for its new edit, which is sent once this commits."""
    now = timezone.now()
    Avatar.objects.filter(pk=avatar.pk, state=AvatarState.DONE).update(
        state=AvatarState.GENERATING,
        finished_at=None,
        updated_at=now,
        # The reconciler looks once the task should have run (schedule.py).
        next_check_at=now + timedelta(seconds=settings.RECONCILE_QUEUED_GRACE),
    )
    enqueue_on_commit(tasks.avatar_submit_prompts, str(avatar.pk))
