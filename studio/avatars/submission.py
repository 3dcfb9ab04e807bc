"""Submitting a paid avatar to Astria, its tune once and then each prompt once, and when to give up.

The avatar goes draft -> queued (paid) -> submitted -> training -> generating -> done, or to failed
from any state between queued and generating; each prompt goes pending -> submitted -> done, or
failed. Failing refunds what was not delivered, exactly once (services.avatar_fail, prompt_fail).

- queued -> submitted (here): `avatar_submit` creates the tune. Astria's 429s, 5xx and timeouts
  are retried by the task with backoff, then by the reconciler (a queued avatar is due
  RECONCILE_QUEUED_GRACE after payment, and resubmitted once nothing has touched it for that long),
  until the avatar has been queued for AVATAR_SUBMIT_GIVE_UP_AFTER. Astria refusing the photos or
  an error of ours fails it at once (`avatar_submit_gave_up`), and so does a submit killed mid-way
  AVATAR_SUBMIT_MAX_CRASHES times (a killed submit keeps the others out for AVATAR_SUBMIT_LEASE).
  Giving up also deletes, by its title, a tune that a cut-short submit may have made.
- submitted -> training -> generating (progress.py): a callback, or the reconciler once the
  tune's ETA has passed and then ever less often as it waits (schedule.py), has the tune re-read.
  A tune not trained AVATAR_GIVE_UP_AFTER after its submit fails (reconcile `_fail_overdue_tunes`).
- Prompts (here) are created with a checkpoint tune, or once a LoRA tune is trained. The
  reconciler resubmits pending ones left behind (a generating avatar's due check), reads submitted
  ones once their tune is trained, one list call per tune (`progress.avatar_sync_prompts`), and
  fails those unfinished PROMPT_GIVE_UP_AFTER after training (`_fail_overdue_prompts`).
- generating -> done once every prompt is finished and at least one is done, failed if none is
  (progress.avatar_check_finished, always run as its task; a generating avatar's due check runs
  it again when no prompt is left unfinished, in case it was lost).
"""

import contextlib
import logging
import uuid
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, PositiveSmallIntegerField, Q, When
from django.utils import timezone

from studio.astria.client import AstriaClient, get_client
from studio.astria.errors import AstriaMaybeCreated, AstriaRejected, AstriaTransient
from studio.avatars import callbacks, schedule, tasks
from studio.avatars.edit_requests import edit_create_at_astria
from studio.avatars.models import IN_FLIGHT, Avatar, AvatarState, Prompt, PromptState
from studio.avatars.services import astria_tune_delete_later, avatar_fail, prompt_fail
from studio.core.tasks import enqueue_on_commit
from studio.photos.selectors import photo_list_accepted
from studio.themes.prompting import astria_prompt_text

logger = logging.getLogger(__name__)

OUR_ERROR = "Training could not be started because of an error on our side."
# What the owner reads when Astria refuses: its own words (and API paths) go to the log only.
PHOTOS_REFUSED = "The AI service could not train on these photos. Try again with other photos of the same subject."
PROMPT_REFUSED = "The AI service refused this prompt."
ASTRIA_UNREACHABLE = "Astria could not be reached to start training."


def avatar_submit(*, avatar_id: str) -> None:
    """Create the avatar's tune at Astria once (its title is the avatar's id), then its prompts.

    Safe to run again at any point: a tune that may exist already is looked up by title first,
    and only one run at a time talks to Astria about an avatar (it claims the avatar with a
    conditional update; a run that finds it claimed leaves it to that one). Astria's transient
    errors propagate for a retry until the avatar has waited AVATAR_SUBMIT_GIVE_UP_AFTER; the
    others propagate to `avatar_submit_gave_up`.
    """
    avatar = Avatar.objects.filter(pk=avatar_id).first()
    if avatar is None or avatar.state != AvatarState.QUEUED:
        return
    attempts = avatar.submit_attempts
    with _claim_for_astria(
        avatar, only_if={"state": AvatarState.QUEUED, "submit_attempts": attempts},
        also={
            "submit_attempts": attempts + 1,
            # A claim still held when this one was taken belonged to a run that died mid-way.
            "submit_crashes": F("submit_crashes")
            + Case(When(submitting_since__isnull=False, then=1), default=0, output_field=PositiveSmallIntegerField()),
            "updated_at": timezone.now(),
        },
    ) as claimed:
        if not claimed:  # another run is submitting it right now, and retries on its own if it fails
            return
        avatar.refresh_from_db(fields=["submit_crashes"])
        if avatar.submit_crashes >= settings.AVATAR_SUBMIT_MAX_CRASHES:
            _submit_give_up(avatar_id=avatar.pk, reason=OUR_ERROR)
            return
        try:
            _submit_claimed(avatar, attempts=attempts)
        except AstriaTransient:
            if avatar.queued_at > timezone.now() - timedelta(seconds=settings.AVATAR_SUBMIT_GIVE_UP_AFTER):
                raise  # retried by the task, then by the reconciler
            _submit_give_up(avatar_id=avatar.pk, reason=ASTRIA_UNREACHABLE)


def avatar_submit_gave_up(*, avatar_id: uuid.UUID | str, exc: BaseException) -> None:
    """The submit task stopped for good on exc. A transient error changes nothing: the reconciler
    submits the avatar again until AVATAR_SUBMIT_GIVE_UP_AFTER. Any other fails it, with the reason
    its owner reads."""
    if isinstance(exc, tasks.TRANSIENT):
        return
    if isinstance(exc, AstriaRejected):
        logger.warning("avatar %s: Astria refused the tune: %s", avatar_id, exc.message)
    reason = PHOTOS_REFUSED if isinstance(exc, AstriaRejected) else OUR_ERROR
    _submit_give_up(avatar_id=avatar_id, reason=reason)


def _submit_give_up(*, avatar_id: uuid.UUID | str, reason: str) -> None:
    """Fail and refund the avatar, and delete a tune that a run cut short may have made at Astria."""
    avatar_fail(avatar_id=avatar_id, reason=reason)
    astria_tune_delete_later(title=str(avatar_id))


@contextlib.contextmanager
def _claim_for_astria(avatar: Avatar, *, only_if: dict, also: dict | None = None) -> Iterator[bool]:
    """Hold the avatar while this run creates things for it at Astria, so no other run creates them
    too; yields False when another run holds it. A claim older than AVATAR_SUBMIT_LEASE (its run was
    killed) no longer counts."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.AVATAR_SUBMIT_LEASE)
    claimed = (
        Avatar.objects.filter(pk=avatar.pk, **only_if)
        .filter(Q(submitting_since__isnull=True) | Q(submitting_since__lt=stale))
        .update(submitting_since=now, **(also or {}))
    )
    try:
        yield bool(claimed)
    finally:
        if claimed:
            Avatar.objects.filter(pk=avatar.pk, submitting_since=now).update(submitting_since=None)


def _submit_claimed(avatar: Avatar, *, attempts: int) -> None:
    client = get_client()
    title = str(avatar.pk)
    tune = client.find_tune_by_title(title) if attempts else None
    if tune is None:
        token = callbacks.token_for_target(avatar, kind="tune")
        images = []
        for photo in photo_list_accepted(avatar=avatar):
            with photo.image.open("rb") as handle:
                images.append((f"{photo.pk}.jpg", handle.read()))
        try:
            tune = client.create_tune(
                title=title,
                name=avatar.subject_class,
                images=images,
                branch=avatar.branch,
                token=settings.ASTRIA_TOKEN,
                callback=callbacks.callback_url(token),
                face_crop=not avatar.is_pet,
                base_tune_id=settings.ASTRIA_BASE_TUNE_ID,
                model_type="lora" if avatar.is_lora else None,
            )
        except AstriaMaybeCreated:
            tune = client.find_tune_by_title(title)
            if tune is None:
                raise
    with transaction.atomic():
        updated = Avatar.objects.filter(pk=avatar.pk, state=AvatarState.QUEUED).update(
            state=AvatarState.SUBMITTED,
            submitting_since=None,  # released with the commit: the prompts' submit may claim it at once
            tune_id=tune.id,
            tune_eta=tune.eta,
            submitted_at=timezone.now(),
            updated_at=timezone.now(),
            next_check_at=schedule.next_check(since=None, not_before=tune.eta),
            gallery_version=F("gallery_version") + 1,
        )
        if not updated:
            if not Avatar.objects.filter(pk=avatar.pk).exclude(state=AvatarState.FAILED).exists():
                # Deleted, or stopped and refunded by support, while we were creating it: the tune goes too.
                astria_tune_delete_later(tune_id=tune.id)
            return
        if not avatar.is_lora:
            enqueue_on_commit(tasks.avatar_submit_prompts, str(avatar.pk))


def avatar_submit_prompts(*, avatar_id: str) -> None:
    """Create every pending prompt of the avatar at Astria, each once.

    Checkpoint tunes take prompts straight away (Astria queues them until training ends); LoRA
    tunes take them once trained, on the base tune with a <lora:ID:1> tag. One run at a time, as
    for the tune: two runs at once would both create the prompts still pending.
    """
    avatar = Avatar.objects.filter(pk=avatar_id).first()
    if avatar is None or avatar.state not in IN_FLIGHT or avatar.tune_id is None:
        return
    if avatar.is_lora and avatar.trained_at is None:
        return
    if not avatar.prompts.filter(state=PromptState.PENDING).exists():
        return
    with _claim_for_astria(avatar, only_if={"state__in": IN_FLIGHT}) as claimed:
        if claimed:  # else another run is creating them right now
            _submit_prompts_claimed(avatar)


def _submit_prompts_claimed(avatar: Avatar) -> None:
    pending = list(avatar.prompts.filter(state=PromptState.PENDING).select_related("source_image__prompt"))
    client = get_client()
    already_sent = {}
    poll_from = (
        timezone.now() + timedelta(seconds=settings.RECONCILE_PROMPT_POLL_AFTER) if avatar.trained_at else None
    )
    # A previous attempt may have created some of these before it stopped: find them by the
    # callback URL Astria echoes back, on each tune they go to, so none is created twice.
    for tune_id in {prompt.tune_at_astria for prompt in pending if prompt.callback_nonce}:
        already_sent |= _prompts_by_callback(client, tune_id)
    for prompt in pending:
        url = callbacks.callback_url(callbacks.token_for_target(prompt, kind="prompt"))
        remote = already_sent.get(url)
        if remote is None:
            try:
                remote = _create_prompt(
                    client, avatar=avatar, prompt=prompt, tune_id=prompt.tune_at_astria, callback=url
                )
            except AstriaRejected as exc:
                logger.warning("prompt %s: Astria refused it: %s", prompt.pk, exc.message)
                prompt_fail(prompt_id=prompt.pk, reason=PROMPT_REFUSED)
                continue
        Prompt.objects.filter(pk=prompt.pk, state=PromptState.PENDING).update(
            state=PromptState.SUBMITTED,
            astria_prompt_id=remote.id,
            submitted_at=timezone.now(),
            updated_at=timezone.now(),
            # Read back once it can have finished: after the tune's training (progress.py schedules it then).
            next_check_at=poll_from,
        )


def _create_prompt(client: AstriaClient, *, avatar: Avatar, prompt: Prompt, tune_id: int, callback: str):
    """One prompt at Astria: a style on the tune, or an edit made from its source image."""
    if prompt.is_edit:
        return edit_create_at_astria(client, avatar=avatar, prompt=prompt, tune_id=tune_id, callback=callback)
    return client.create_prompt(
        tune_id=tune_id,
        text=astria_prompt_text(text=prompt.text, branch=avatar.branch, tune_id=avatar.tune_id),
        negative_prompt=prompt.negative_prompt or None,
        num_images=prompt.num_images,
        cfg_scale=prompt.cfg_scale,
        steps=prompt.steps,
        w=prompt.width,
        h=prompt.height,
        seed=prompt.seed,
        # A likeness redo has the faces inpainted, which needs super resolution on.
        super_resolution=prompt.inpaint_faces or None,
        inpaint_faces=prompt.inpaint_faces or None,
        callback=callback,
    )


def _prompts_by_callback(client: AstriaClient, tune_id: int) -> dict:
    found = {}
    for index, remote in enumerate(client.iter_prompts(tune_id)):
        if remote.callback:
            found[remote.callback] = remote
        if index >= 200:
            break
    return found
