"""Progress back from Astria: re-read a tune or a prompt, store the result images, finish the avatar.

Callbacks and the reconciler only trigger these; each applies forward changes alone, so a replay
or a race changes nothing twice.
"""

import logging
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from studio.astria.client import get_client
from studio.astria.errors import AstriaNotFound
from studio.avatars import tasks
from studio.avatars.models import IN_FLIGHT, Avatar, AvatarState, GeneratedImage, Prompt, PromptState
from studio.avatars.result_images import DownloadRefused, download_image
from studio.avatars.services import avatar_fail, prompt_fail
from studio.core.tasks import enqueue_on_commit
from studio.photos import imaging

logger = logging.getLogger(__name__)


def avatar_sync_tune(*, avatar_id: str) -> None:
    """Re-read the avatar's tune from Astria and apply only forward changes."""
    avatar = Avatar.objects.filter(pk=avatar_id).first()
    if avatar is None or avatar.state not in IN_FLIGHT or avatar.tune_id is None:
        return
    now = timezone.now()
    Avatar.objects.filter(pk=avatar.pk).update(last_polled_at=now)
    try:
        tune = get_client().get_tune(avatar.tune_id)
    except AstriaNotFound:
        avatar_fail(avatar_id=avatar.pk, reason="The model disappeared at Astria before it was finished.")
        return
    with transaction.atomic():
        if tune.trained_at:
            moved = Avatar.objects.filter(
                pk=avatar.pk, state__in=[AvatarState.SUBMITTED, AvatarState.TRAINING]
            ).update(state=AvatarState.GENERATING, trained_at=tune.trained_at, tune_eta=tune.eta, updated_at=now)
            if moved and avatar.is_lora:
                enqueue_on_commit(tasks.avatar_submit_prompts, str(avatar.pk))
            if moved:
                enqueue_on_commit(tasks.avatar_check_finished, str(avatar.pk))
        elif tune.started_training_at:
            Avatar.objects.filter(pk=avatar.pk, state=AvatarState.SUBMITTED).update(
                state=AvatarState.TRAINING, tune_eta=tune.eta, updated_at=now
            )
        elif tune.eta and tune.eta != avatar.tune_eta:
            Avatar.objects.filter(pk=avatar.pk).update(tune_eta=tune.eta)


def prompt_sync(*, prompt_id: int) -> None:
    """Re-read one prompt from Astria; once it has images, store them all and mark it done."""
    prompt = Prompt.objects.select_related("avatar").filter(pk=prompt_id).first()
    if prompt is None or prompt.state != PromptState.SUBMITTED or prompt.astria_prompt_id is None:
        return
    avatar = prompt.avatar
    Prompt.objects.filter(pk=prompt.pk).update(last_polled_at=timezone.now())
    target_tune_id = settings.ASTRIA_BASE_TUNE_ID if avatar.is_lora else avatar.tune_id
    try:
        remote = get_client().get_prompt(target_tune_id, prompt.astria_prompt_id)
    except AstriaNotFound:
        prompt_fail(prompt_id=prompt.pk, reason="The prompt disappeared at Astria before it was finished.")
        return
    if remote.user_error:
        logger.warning("prompt %s: Astria could not run it: %s", prompt.pk, remote.user_error)
        prompt_fail(prompt_id=prompt.pk, reason="The AI service could not run this prompt.")
        return
    if not remote.images:
        return
    if avatar.state in (AvatarState.SUBMITTED, AvatarState.TRAINING):
        # A finished prompt proves the tune is trained, whatever callback went missing.
        Avatar.objects.filter(pk=avatar.pk, state__in=[AvatarState.SUBMITTED, AvatarState.TRAINING]).update(
            state=AvatarState.GENERATING, trained_at=remote.started_training_at or timezone.now()
        )
    stored = set(GeneratedImage.objects.filter(prompt=prompt).values_list("index", flat=True))
    for index, url in enumerate(remote.images[: prompt.num_images]):
        if index not in stored and _store_image(prompt=prompt, index=index, url=url):
            stored.add(index)
    if not stored:
        prompt_fail(prompt_id=prompt.pk, reason="None of its images could be stored.")
        return
    Prompt.objects.filter(pk=prompt.pk, state=PromptState.SUBMITTED).update(
        state=PromptState.DONE, finished_at=timezone.now(), updated_at=timezone.now()
    )
    enqueue_on_commit(tasks.avatar_check_finished, str(avatar.pk))


def prompt_sync_gave_up(*, prompt_id: int, exc: BaseException) -> None:
    """The prompt's task stopped for good on exc: a transient error leaves the prompt to the
    reconciler's next poll, any other fails and refunds it."""
    if not isinstance(exc, tasks.TRANSIENT):
        prompt_fail(prompt_id=prompt_id, reason="The images could not be stored.")


def _store_image(*, prompt: Prompt, index: int, url: str) -> bool:
    """Download, check and re-encode one result image with a WebP thumbnail; once per index.

    Returns False when the image cannot be used (refused host, not an image, damaged): the
    others of the prompt still count. Transient download errors propagate for a retry.
    """
    try:
        data = download_image(url)
        img = imaging.normalise(
            imaging.open_untrusted_image(data, max_pixels=settings.RESULT_MAX_PIXELS),
            long_side=settings.RESULT_LONG_SIDE,
        )
    except (DownloadRefused, imaging.ImageRefused) as exc:
        logger.warning("prompt %s image %s not stored: %s", prompt.pk, index, exc)
        return False
    full = imaging.encode_jpeg(img, quality=settings.RESULT_JPEG_QUALITY)
    thumb = imaging.make_webp_thumbnail(img, settings.RESULT_THUMB_SIZE)
    scale = min(1.0, settings.RESULT_THUMB_SIZE / max(img.size))
    stem = uuid.uuid4().hex
    image = GeneratedImage(
        avatar=prompt.avatar,
        prompt=prompt,
        index=index,
        width=img.width,
        height=img.height,
        thumb_width=max(1, round(img.width * scale)),
        thumb_height=max(1, round(img.height * scale)),
        bytes=len(full),
    )
    image.image.save(f"{stem}.jpg", ContentFile(full), save=False)
    image.thumbnail.save(f"{stem}.webp", ContentFile(thumb), save=False)
    try:
        with transaction.atomic():
            image.save()
    except IntegrityError:
        # Another run stored this index first: keep theirs, drop our copy.
        default_storage.delete(image.image.name)
        default_storage.delete(image.thumbnail.name)
    return True


def avatar_check_finished(*, avatar_id: uuid.UUID | str) -> None:
    """Once a generating avatar's prompts are all finished: done, or failed if nothing came."""
    with transaction.atomic():
        avatar = Avatar.objects.select_for_update().filter(pk=avatar_id).first()
        if avatar is None or avatar.state != AvatarState.GENERATING:
            return
        prompts = avatar.prompts.all()
        if prompts.exclude(state__in=[PromptState.DONE, PromptState.FAILED]).exists():
            return
        delivered = prompts.filter(state=PromptState.DONE).exists()
        if delivered:
            Avatar.objects.filter(pk=avatar.pk, state=AvatarState.GENERATING).update(
                state=AvatarState.DONE, finished_at=timezone.now(), updated_at=timezone.now()
            )
            enqueue_on_commit(tasks.avatar_send_ready_email, str(avatar.pk))
    if not delivered:
        avatar_fail(avatar_id=avatar_id, reason="None of the prompts could be generated.")
