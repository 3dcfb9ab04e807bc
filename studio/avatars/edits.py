"""The edit studio: more from one delivered image, after delivery.

A paid edit is a prompt of its own (`Prompt.kind`, `Prompt.source_image`), bought like "generate
more": one ledger spend in the transaction that creates it, the avatar back to generating, and then
the prompts' own machinery (submission, callbacks, the reconciler) makes it at Astria. Its images
land in the gallery as a section of their own that names its source, and go with the avatar. A
failed edit is refunded exactly once by `services.prompt_fail`, like any prompt.

- More like this: the image's prompt duplicated at Astria (`POST /prompts/:id/duplicate`) from
  that image (`image_index`) with a new seed: new pictures of the same prompt.
- Bigger: the image's prompt duplicated from that image (`image_index`, which re-uses the image
  rather than making it again) with `super_resolution` on, Astria's "X4 super-resolution".

Each is one more prompt on the tune, so it counts against the fair-use budget.
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


OFFERS = {EditKind.MORE: edit_more_offer, EditKind.BIGGER: edit_bigger_offer}


def edit_offers(*, image: GeneratedImage) -> dict[str, EditOffer]:
    return {kind: offer(image=image) for kind, offer in OFFERS.items()}


def edit_order(*, user: User, avatar_id: uuid.UUID, image_id: uuid.UUID, kind: str) -> Prompt:
    """Pay for and queue one paid edit of the user's delivered image.

    Raises GeneratedImage.DoesNotExist for an image that is not theirs, InsufficientCredits, or
    ApplicationError with the reason it cannot go (the avatar busy, the fair-use budget spent).
    """
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
        prompt = Prompt.objects.create(
            avatar=avatar,
            batch=batch,
            position=0,
            kind=kind,
            source_image=image,
            label=(f"More like {words}" if kind == EditKind.MORE else f"Bigger: {words}")[:120],
            theme_slug=source.theme_slug,
            text=source.text,
            negative_prompt=source.negative_prompt,
            num_images=offer.num_images,
            cfg_scale=source.cfg_scale,
            steps=source.steps,
            width=source.width,
            height=source.height,
            # More like this makes new pictures (a new seed); Bigger keeps the picture, made larger.
            seed=secrets.randbelow(2**32) if kind == EditKind.MORE else None,
            price=offer.price,
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
