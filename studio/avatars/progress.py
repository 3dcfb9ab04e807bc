"""Progress back from Astria: re-read a tune or a prompt, store the result images, finish the avatar.

Callbacks and the reconciler only trigger these; each applies forward changes alone, so a replay
or a race changes nothing twice.
"""

import contextlib
import logging
import uuid
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from studio.astria.client import get_client
from studio.astria.errors import AstriaNotFound
from studio.astria.types import Prompt as AstriaPrompt
from studio.avatars import likeness, schedule, tasks
from studio.avatars.models import IN_FLIGHT, Avatar, AvatarState, GeneratedImage, Prompt, PromptState
from studio.avatars.result_images import DownloadRefused, download_image
from studio.avatars.services import avatar_fail, gallery_changed, prompt_fail
from studio.core.tasks import enqueue_on_commit
from studio.photos import imaging

logger = logging.getLogger(__name__)

PROMPT_LIST_LIMIT = 120  # prompts per page of a tune's list: Astria's most


def avatar_sync_tune(*, avatar_id: str) -> None:
    """Re-read the avatar's tune from Astria and apply only forward changes; then set when the
    reconciler looks again (schedule.py)."""
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
            ).update(
                state=AvatarState.GENERATING, trained_at=tune.trained_at, tune_eta=tune.eta, updated_at=now,
                next_check_at=schedule.next_check(since=None, now=now), gallery_version=F("gallery_version") + 1,
            )
            if moved:
                _schedule_prompts_of_trained(avatar.pk, now)
            if moved and avatar.is_lora:
                enqueue_on_commit(tasks.avatar_submit_prompts, str(avatar.pk))
            if moved:
                enqueue_on_commit(tasks.avatar_check_finished, str(avatar.pk))
            return
        next_check_at = schedule.next_check(since=avatar.submitted_at, now=now, not_before=tune.eta)
        if tune.started_training_at:
            Avatar.objects.filter(pk=avatar.pk, state=AvatarState.SUBMITTED).update(
                state=AvatarState.TRAINING, tune_eta=tune.eta, updated_at=now,
                gallery_version=F("gallery_version") + 1,
            )
        elif tune.eta and tune.eta != avatar.tune_eta:
            Avatar.objects.filter(pk=avatar.pk).update(tune_eta=tune.eta)
        Avatar.objects.filter(pk=avatar.pk, state__in=[AvatarState.SUBMITTED, AvatarState.TRAINING]).update(
            next_check_at=next_check_at
        )


def _schedule_prompts_of_trained(avatar_id, now: datetime) -> None:
    """The tune is trained: its submitted prompts can now finish, so the reconciler starts reading them."""
    Prompt.objects.filter(avatar_id=avatar_id, state=PromptState.SUBMITTED, next_check_at__isnull=True).update(
        next_check_at=now + timedelta(seconds=settings.RECONCILE_PROMPT_POLL_AFTER)
    )


def prompt_sync(*, prompt_id: int) -> None:
    """Re-read one prompt from Astria (its callback came); once it has images, store them all and
    mark it done."""
    prompt = Prompt.objects.select_related("avatar").filter(pk=prompt_id).first()
    if prompt is None or prompt.state != PromptState.SUBMITTED or prompt.astria_prompt_id is None:
        return
    try:
        remote = get_client().get_prompt(prompt.tune_at_astria, prompt.astria_prompt_id)
    except AstriaNotFound:
        remote = None
    _apply_remote_prompt(prompt, remote)


def avatar_sync_prompts(*, avatar_id: str) -> None:
    """Re-read every submitted prompt of a generating avatar with one list of its tune's prompts
    (not one call per prompt), apply what finished, and set when to look again.

    A LoRA's prompts live on the shared base tune, among everyone's, and a touch-up on the edit
    model's gallery tune: those are read one by one.
    """
    avatar = Avatar.objects.filter(pk=avatar_id).first()
    if avatar is None or avatar.tune_id is None:
        return
    submitted = list(
        Prompt.objects.select_related("avatar").filter(
            avatar=avatar, state=PromptState.SUBMITTED, astria_prompt_id__isnull=False
        )
    )
    if not submitted:
        return
    if avatar.state != AvatarState.GENERATING:
        # Not trained yet, so none can have finished: the tune's own check schedules them once it is.
        Prompt.objects.filter(pk__in=[prompt.pk for prompt in submitted]).update(next_check_at=None)
        return
    now = timezone.now()
    Prompt.objects.filter(pk__in=[prompt.pk for prompt in submitted]).update(last_polled_at=now)
    remotes = _read_prompts(avatar, submitted)
    for prompt in submitted:
        _apply_remote_prompt(prompt, remotes.get(prompt.astria_prompt_id))
    waiting = list(Prompt.objects.filter(pk__in=[prompt.pk for prompt in submitted], state=PromptState.SUBMITTED))
    for prompt in waiting:
        since = max(filter(None, [prompt.submitted_at, avatar.trained_at]), default=None)
        prompt.next_check_at = schedule.next_check(since=since)
    Prompt.objects.bulk_update(waiting, ["next_check_at"])


def _read_prompts(avatar: Avatar, wanted: list[Prompt]) -> dict:
    """The wanted prompts as Astria has them now, by Astria's id; one missing was deleted there."""
    client = get_client()
    found: dict = {}
    missing = set()
    for prompt in wanted:
        if prompt.tune_at_astria == avatar.tune_id:
            missing.add(prompt.astria_prompt_id)
            continue
        with contextlib.suppress(AstriaNotFound):  # on a shared tune, among everyone's
            found[prompt.astria_prompt_id] = client.get_prompt(prompt.tune_at_astria, prompt.astria_prompt_id)
    if not missing:
        return found
    try:
        for remote in client.iter_prompts(avatar.tune_id, limit=PROMPT_LIST_LIMIT):
            if remote.id in missing:
                found[remote.id] = remote
                missing.discard(remote.id)
                if not missing:
                    break
    except AstriaNotFound:
        pass  # the tune is gone, and its prompts with it
    return found


def _apply_remote_prompt(prompt: Prompt, remote: AstriaPrompt | None) -> None:
    """Apply what Astria says of a submitted prompt (None: it is gone there)."""
    avatar = prompt.avatar
    Prompt.objects.filter(pk=prompt.pk).update(last_polled_at=timezone.now())
    if remote is None:
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
        now = timezone.now()
        with transaction.atomic():
            moved = Avatar.objects.filter(
                pk=avatar.pk, state__in=[AvatarState.SUBMITTED, AvatarState.TRAINING]
            ).update(
                state=AvatarState.GENERATING, trained_at=remote.started_training_at or now,
                next_check_at=schedule.next_check(since=None, now=now), gallery_version=F("gallery_version") + 1,
            )
            if moved:
                _schedule_prompts_of_trained(avatar.pk, now)
    stored = set(GeneratedImage.objects.filter(prompt=prompt).values_list("index", flat=True))
    identity = likeness.avatar_identity(avatar=avatar) if len(stored) < prompt.num_images else None
    for index, url in enumerate(remote.images[: prompt.num_images]):
        if index not in stored and _store_image(prompt=prompt, index=index, url=url, identity=identity):
            stored.add(index)
    if not stored:
        prompt_fail(prompt_id=prompt.pk, reason="None of its images could be stored.")
        return
    with transaction.atomic():
        gallery_changed(avatar_id=avatar.pk)
        Prompt.objects.filter(pk=prompt.pk, state=PromptState.SUBMITTED).update(
            state=PromptState.DONE, finished_at=timezone.now(), updated_at=timezone.now()
        )
    enqueue_on_commit(tasks.avatar_check_finished, str(avatar.pk))


def prompt_sync_gave_up(*, prompt_id: int, exc: BaseException) -> None:
    """The prompt's task stopped for good on exc: a transient error leaves the prompt to the
    reconciler's next poll, any other fails and refunds it."""
    if not isinstance(exc, tasks.TRANSIENT):
        prompt_fail(prompt_id=prompt_id, reason="The images could not be stored.")


def _store_image(*, prompt: Prompt, index: int, url: str, identity: np.ndarray | None) -> bool:
    """Download, check and re-encode one result image with a WebP thumbnail, scored for likeness
    against the person's identity (when there is one); once per index.

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
    score, face_found = likeness.image_likeness(identity=identity, img=img)
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
        likeness=score,
        face_found=face_found,
    )
    image.image.save(f"{stem}.jpg", ContentFile(full), save=False)
    image.thumbnail.save(f"{stem}.webp", ContentFile(thumb), save=False)
    try:
        with transaction.atomic():
            gallery_changed(avatar_id=prompt.avatar_id)
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
        likeness.prompts_settle_likeness(avatar=avatar)  # may add a redo, so comes first
        prompts = avatar.prompts.all()
        if prompts.exclude(state__in=[PromptState.DONE, PromptState.FAILED]).exists():
            Avatar.objects.filter(pk=avatar.pk, state=AvatarState.GENERATING).update(
                next_check_at=schedule.next_check(since=avatar.trained_at)
            )
            return
        delivered = prompts.filter(state=PromptState.DONE).exists()
        if delivered:
            Avatar.objects.filter(pk=avatar.pk, state=AvatarState.GENERATING).update(
                state=AvatarState.DONE, finished_at=timezone.now(), updated_at=timezone.now(),
                gallery_version=F("gallery_version") + 1,
            )
            enqueue_on_commit(tasks.avatar_send_ready_email, str(avatar.pk))
    if not delivered:
        avatar_fail(avatar_id=avatar_id, reason="None of the prompts could be generated.")
