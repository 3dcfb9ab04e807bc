"""The avatar pipeline: every write from "create" to every image stored, failure and deletion.

Every state change is a conditional update from the expected state, under a lock on the avatar
row, so replayed callbacks, redelivered tasks and racing reconcilers change nothing twice.
"""

import contextlib
import logging
import uuid
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Case, F, PositiveSmallIntegerField, Q, When
from django.utils import timezone

from accounts.models import User
from studio.astria.client import get_client
from studio.astria.errors import AstriaMaybeCreated, AstriaNotFound, AstriaTransient
from studio.avatars import callbacks
from studio.avatars.downloads import DownloadRefused, download_image
from studio.avatars.models import (
    AstriaTuneDeletion,
    Avatar,
    AvatarState,
    CallbackEvent,
    CallbackTarget,
    GalleryExport,
    GeneratedImage,
    Prompt,
    PromptState,
)
from studio.core.exceptions import ApplicationError
from studio.core.redaction import redact_text
from studio.core.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)

IN_FLIGHT = (AvatarState.SUBMITTED, AvatarState.TRAINING, AvatarState.GENERATING)


# --- Creating a draft -------------------------------------------------------------------------


@transaction.atomic
def avatar_create(*, user: User, name: str, subject_class: str) -> Avatar:
    avatar = Avatar(user=user, name=name.strip(), subject_class=subject_class)
    avatar.full_clean()
    avatar.save()
    return avatar


# --- Callback tokens --------------------------------------------------------------------------


def _callback_token(target: CallbackTarget, *, kind: str) -> str:
    """The target's callback token, created on first use and rebuilt identically afterwards."""
    model = type(target)
    if not target.callback_nonce:
        nonce = callbacks.new_nonce()
        token = callbacks.token_for(kind=kind, nonce=nonce)
        model.objects.filter(pk=target.pk, callback_nonce="").update(
            callback_nonce=nonce, callback_token_hash=callbacks.token_hash(token)
        )
        target.refresh_from_db(fields=["callback_nonce", "callback_token_hash"])
    return callbacks.token_for(kind=kind, nonce=target.callback_nonce)


# --- Confirm: pay and queue ---------------------------------------------------------------------


def _locked(avatar_id: uuid.UUID | str, **filters) -> Avatar:
    return Avatar.objects.select_for_update().get(pk=avatar_id, **filters)


def _prompts_create(*, avatar: Avatar, plan, batch: int) -> None:
    """The planned prompts, saved as they were shown and paid for (a theme edited later changes
    nothing already bought)."""
    Prompt.objects.bulk_create(
        Prompt(
            avatar=avatar,
            batch=batch,
            position=position,
            label=planned.label[:120],
            theme_slug=planned.theme.slug if planned.theme else "",
            text=planned.text,
            negative_prompt=planned.negative_prompt or "",
            num_images=planned.num_images,
            cfg_scale=planned.cfg_scale,
            steps=planned.steps,
            width=planned.width,
            height=planned.height,
            price=settings.CREDITS_PRICE_PROMPT,
        )
        for position, planned in enumerate(plan.prompts)
    )


def avatar_confirm(*, user: User, avatar_id: uuid.UUID) -> Avatar:
    """Spend the credits, create the prompts and queue the avatar, all or nothing.

    A second confirm of the same avatar (double click, two tabs) changes nothing.
    Raises Avatar.DoesNotExist for someone else's avatar, ApplicationError when it cannot go.
    """
    from studio.avatars.tasks import avatar_submit as avatar_submit_task
    from studio.credits.services import credit_spend
    from studio.photos.selectors import avatar_has_enough_photos
    from studio.themes.planner import plan_for_avatar

    with transaction.atomic():
        avatar = _locked(avatar_id, user=user)
        if avatar.state != AvatarState.DRAFT:
            return avatar
        if not avatar_has_enough_photos(avatar=avatar):
            raise ApplicationError(
                f"Upload at least {settings.PHOTOS_MIN_ACCEPTED} accepted photos before you confirm."
            )
        plan = plan_for_avatar(avatar=avatar)
        if plan.errors:
            raise ApplicationError(plan.errors[0])
        credit_spend(
            user=user,
            amount=plan.credit_cost,
            key=f"spend:avatar:{avatar.pk}",
            reason=f"Avatar “{avatar.name}”: training and {len(plan.prompts)} prompts",
            reference=f"avatar:{avatar.pk}",
        )
        _prompts_create(avatar=avatar, plan=plan, batch=0)
        Avatar.objects.filter(pk=avatar.pk, state=AvatarState.DRAFT).update(
            state=AvatarState.QUEUED,
            queued_at=timezone.now(),
            branch=settings.ASTRIA_BRANCH,
            tune_price=settings.CREDITS_PRICE_TUNE,
            updated_at=timezone.now(),
        )
        enqueue_on_commit(avatar_submit_task, str(avatar.pk))
    avatar.refresh_from_db()
    return avatar


def avatar_generate_more(
    *, user: User, avatar_id: uuid.UUID, theme_slugs: list[str], custom_texts: list[str]
) -> Avatar:
    """More prompts on a finished avatar's tune, within what is left of the fair-use budget."""
    from studio.avatars.tasks import avatar_submit_prompts as avatar_submit_prompts_task
    from studio.credits.services import credit_spend
    from studio.themes.planner import plan_more

    with transaction.atomic():
        avatar = _locked(avatar_id, user=user)
        if avatar.state != AvatarState.DONE:
            raise ApplicationError("You can generate more once the current images are finished.")
        used = avatar.prompts.count()
        batch = (avatar.prompts.order_by("-batch").values_list("batch", flat=True).first() or 0) + 1
        plan = plan_more(
            avatar=avatar, theme_slugs=theme_slugs, custom_texts=custom_texts, prompts_already_used=used
        )
        if plan.errors:
            raise ApplicationError(plan.errors[0])
        credit_spend(
            user=user,
            amount=plan.credit_cost,
            key=f"spend:avatar:{avatar.pk}:more:{batch}",
            reason=f"Avatar “{avatar.name}”: {len(plan.prompts)} more prompts",
            reference=f"avatar:{avatar.pk}",
        )
        _prompts_create(avatar=avatar, plan=plan, batch=batch)
        Avatar.objects.filter(pk=avatar.pk, state=AvatarState.DONE).update(
            state=AvatarState.GENERATING, finished_at=None, updated_at=timezone.now()
        )
        enqueue_on_commit(avatar_submit_prompts_task, str(avatar.pk))
    avatar.refresh_from_db()
    return avatar


# --- Submit: the tune, then its prompts -------------------------------------------------------


def _is_lora(avatar: Avatar) -> bool:
    return avatar.branch in settings.ASTRIA_LORA_BRANCHES


def avatar_submit(*, avatar_id: str) -> None:
    """Create the avatar's tune at Astria once (its title is the avatar's id), then its prompts.

    Safe to run again at any point: a tune that may exist already is looked up by title first,
    and only one run at a time talks to Astria about an avatar (it claims the avatar with a
    conditional update; a run that finds it claimed leaves it to that one). Astria errors
    propagate: transient ones are retried (by the task, then the reconciler) until the avatar has
    waited AVATAR_SUBMIT_GIVE_UP_AFTER, the rest fail the avatar at once. A run that keeps dying
    mid-way fails it after AVATAR_SUBMIT_MAX_CRASHES.
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
            _submit_give_up(avatar, reason="Training could not be started because of an error on our side.")
            return
        try:
            _submit_claimed(avatar, attempts=attempts)
        except AstriaTransient:
            if avatar.queued_at > timezone.now() - timedelta(seconds=settings.AVATAR_SUBMIT_GIVE_UP_AFTER):
                raise  # retried by the task, then by the reconciler
            _submit_give_up(avatar, reason="Astria could not be reached to start training.")


def _submit_give_up(avatar: Avatar, *, reason: str) -> None:
    """Fail and refund the avatar, and delete a tune that a run cut short may have made at Astria."""
    avatar_fail(avatar_id=avatar.pk, reason=reason)
    astria_tune_delete_later(title=str(avatar.pk))


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
    from studio.avatars.tasks import avatar_submit_prompts as avatar_submit_prompts_task
    from studio.photos.selectors import photo_list_accepted

    client = get_client()
    title = str(avatar.pk)
    tune = client.find_tune_by_title(title) if attempts else None
    if tune is None:
        token = _callback_token(avatar, kind="tune")
        lora = _is_lora(avatar)
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
                model_type="lora" if lora else None,
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
        )
        if not updated:
            if not Avatar.objects.filter(pk=avatar.pk).exclude(state=AvatarState.FAILED).exists():
                # Deleted, or stopped and refunded by support, while we were creating it: the tune goes too.
                astria_tune_delete_later(tune_id=tune.id)
            return
        if not _is_lora(avatar):
            enqueue_on_commit(avatar_submit_prompts_task, str(avatar.pk))


def avatar_submit_prompts(*, avatar_id: str) -> None:
    """Create every pending prompt of the avatar at Astria, each once.

    Checkpoint tunes take prompts straight away (Astria queues them until training ends); LoRA
    tunes take them once trained, on the base tune with a <lora:ID:1> tag. One run at a time, as
    for the tune: two runs at once would both create the prompts still pending.
    """
    avatar = Avatar.objects.filter(pk=avatar_id).first()
    if avatar is None or avatar.state not in IN_FLIGHT or avatar.tune_id is None:
        return
    lora = _is_lora(avatar)
    if lora and avatar.trained_at is None:
        return
    if not avatar.prompts.filter(state=PromptState.PENDING).exists():
        return
    with _claim_for_astria(avatar, only_if={"state__in": IN_FLIGHT}) as claimed:
        if claimed:  # else another run is creating them right now
            _submit_prompts_claimed(avatar, lora=lora)


def _submit_prompts_claimed(avatar: Avatar, *, lora: bool) -> None:
    from studio.astria.errors import AstriaRejected
    from studio.themes.prompting import astria_prompt_text

    pending = list(avatar.prompts.filter(state=PromptState.PENDING))
    client = get_client()
    target_tune_id = settings.ASTRIA_BASE_TUNE_ID if lora else avatar.tune_id
    already_sent = {}
    if any(prompt.callback_nonce for prompt in pending):
        # A previous attempt may have created some of these before it stopped: find them by
        # the callback URL Astria echoes back, so none is created twice.
        already_sent = _prompts_by_callback(client, target_tune_id)
    for prompt in pending:
        token = _callback_token(prompt, kind="prompt")
        url = callbacks.callback_url(token)
        remote = already_sent.get(url)
        if remote is None:
            try:
                remote = client.create_prompt(
                    tune_id=target_tune_id,
                    text=astria_prompt_text(text=prompt.text, branch=avatar.branch, tune_id=avatar.tune_id),
                    negative_prompt=prompt.negative_prompt or None,
                    num_images=prompt.num_images,
                    cfg_scale=prompt.cfg_scale,
                    steps=prompt.steps,
                    w=prompt.width,
                    h=prompt.height,
                    callback=url,
                )
            except AstriaRejected as exc:
                prompt_fail(prompt_id=prompt.pk, reason=f"Astria refused this prompt: {exc.message}")
                continue
        Prompt.objects.filter(pk=prompt.pk, state=PromptState.PENDING).update(
            state=PromptState.SUBMITTED,
            astria_prompt_id=remote.id,
            submitted_at=timezone.now(),
            updated_at=timezone.now(),
        )


def _prompts_by_callback(client, tune_id: int) -> dict:
    found = {}
    for index, remote in enumerate(client.iter_prompts(tune_id)):
        if remote.callback:
            found[remote.callback] = remote
        if index >= 200:
            break
    return found


# --- Progress: re-read from Astria and move forward -------------------------------------------


def avatar_sync_tune(*, avatar_id: str) -> None:
    """Re-read the avatar's tune from Astria and apply only forward changes."""
    from studio.avatars.tasks import avatar_submit_prompts as avatar_submit_prompts_task

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
            if moved and _is_lora(avatar):
                enqueue_on_commit(avatar_submit_prompts_task, str(avatar.pk))
            if moved:
                enqueue_on_commit(_check_finished_task(), str(avatar.pk))
        elif tune.started_training_at:
            Avatar.objects.filter(pk=avatar.pk, state=AvatarState.SUBMITTED).update(
                state=AvatarState.TRAINING, tune_eta=tune.eta, updated_at=now
            )
        elif tune.eta and tune.eta != avatar.tune_eta:
            Avatar.objects.filter(pk=avatar.pk).update(tune_eta=tune.eta)


def _check_finished_task():
    from studio.avatars.tasks import avatar_check_finished

    return avatar_check_finished


def prompt_sync(*, prompt_id: int) -> None:
    """Re-read one prompt from Astria; once it has images, store them all and mark it done."""
    prompt = Prompt.objects.select_related("avatar").filter(pk=prompt_id).first()
    if prompt is None or prompt.state != PromptState.SUBMITTED or prompt.astria_prompt_id is None:
        return
    avatar = prompt.avatar
    Prompt.objects.filter(pk=prompt.pk).update(last_polled_at=timezone.now())
    target_tune_id = settings.ASTRIA_BASE_TUNE_ID if _is_lora(avatar) else avatar.tune_id
    try:
        remote = get_client().get_prompt(target_tune_id, prompt.astria_prompt_id)
    except AstriaNotFound:
        prompt_fail(prompt_id=prompt.pk, reason="The prompt disappeared at Astria before it was finished.")
        return
    if remote.user_error:
        prompt_fail(prompt_id=prompt.pk, reason=f"Astria could not run this prompt: {remote.user_error}")
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
    avatar_check_finished(avatar_id=avatar.pk)


def _store_image(*, prompt: Prompt, index: int, url: str) -> bool:
    """Download, check and re-encode one result image with a WebP thumbnail; once per index.

    Returns False when the image cannot be used (refused host, not an image, damaged): the
    others of the prompt still count. Transient download errors propagate for a retry.
    """
    from studio.photos import imaging

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
    from studio.avatars.tasks import avatar_send_ready_email as avatar_send_ready_email_task

    with transaction.atomic():
        avatar = Avatar.objects.select_for_update().filter(pk=avatar_id).first()
        if avatar is None or avatar.state != AvatarState.GENERATING:
            return
        prompts = avatar.prompts.all()
        if prompts.exclude(state__in=[PromptState.DONE, PromptState.FAILED]).exists():
            return
        if not prompts.filter(state=PromptState.DONE).exists():
            delivered = False
        else:
            delivered = True
            Avatar.objects.filter(pk=avatar.pk, state=AvatarState.GENERATING).update(
                state=AvatarState.DONE, finished_at=timezone.now(), updated_at=timezone.now()
            )
            enqueue_on_commit(avatar_send_ready_email_task, str(avatar.pk))
    if not delivered:
        avatar_fail(avatar_id=avatar_id, reason="None of the prompts could be generated.")


# --- Failure and refunds ------------------------------------------------------------------------


def prompt_fail(*, prompt_id: int, reason: str) -> None:
    """Fail one prompt and refund what it cost, exactly once."""
    from studio.credits.services import credit_refund

    with transaction.atomic():
        prompt = Prompt.objects.select_related("avatar").filter(pk=prompt_id).first()
        if prompt is None:
            return
        _locked(prompt.avatar_id)
        failed = Prompt.objects.filter(
            pk=prompt.pk, state__in=[PromptState.PENDING, PromptState.SUBMITTED]
        ).update(
            state=PromptState.FAILED,
            failure_reason=reason[:500],
            refunded=prompt.price > 0,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if failed and prompt.price:
            credit_refund(
                user=prompt.avatar.user,
                amount=prompt.price,
                key=f"refund:prompt:{prompt.pk}",
                reason=f"Refund: prompt “{prompt.label}” of “{prompt.avatar.name}” failed",
                reference=f"prompt:{prompt.pk}",
            )
        if failed:
            enqueue_on_commit(_check_finished_task(), str(prompt.avatar_id))


def avatar_fail(*, avatar_id: uuid.UUID | str, reason: str) -> None:
    """Fail the avatar and every unfinished prompt; refund everything not delivered, once."""
    from studio.avatars.tasks import avatar_send_failed_email as avatar_send_failed_email_task
    from studio.credits.services import credit_refund

    with transaction.atomic():
        avatar = Avatar.objects.select_for_update().filter(pk=avatar_id).first()
        if avatar is None or avatar.state in (AvatarState.DRAFT, AvatarState.DONE, AvatarState.FAILED):
            return
        unfinished = avatar.prompts.filter(
            state__in=[PromptState.PENDING, PromptState.SUBMITTED], refunded=False
        )
        amount = sum(unfinished.values_list("price", flat=True))
        if not avatar.prompts.filter(state=PromptState.DONE).exists():
            amount += avatar.tune_price
        unfinished.update(
            state=PromptState.FAILED,
            failure_reason=reason[:500],
            refunded=True,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        Avatar.objects.filter(pk=avatar.pk, state=avatar.state).update(
            state=AvatarState.FAILED,
            failure_reason=reason[:500],
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if amount:
            credit_refund(
                user=avatar.user,
                amount=amount,
                key=f"refund:avatar:{avatar.pk}",
                reason=f"Refund: avatar “{avatar.name}” failed",
                reference=f"avatar:{avatar.pk}",
            )
        enqueue_on_commit(avatar_send_failed_email_task, str(avatar.pk))


# --- Callbacks ------------------------------------------------------------------------------------


def callback_record(*, token: str, body: bytes) -> bool:
    """Record a callback for the object owning token and have a task re-read that object.

    Returns False when the token belongs to nothing (nothing is written). A replay of the same
    body is recorded once and triggers nothing more.
    """
    from studio.avatars.tasks import avatar_sync_tune as avatar_sync_tune_task
    from studio.avatars.tasks import prompt_sync as prompt_sync_task

    hashed = callbacks.token_hash(token)
    avatar = Avatar.objects.filter(callback_token_hash=hashed).only("pk", "callback_token_hash").first()
    prompt = None
    if avatar is None:
        prompt = (
            Prompt.objects.filter(callback_token_hash=hashed).only("pk", "avatar_id", "callback_token_hash").first()
        )
        if prompt is None or not callbacks.token_matches(prompt, token):
            return False
    elif not callbacks.token_matches(avatar, token):
        return False
    digest = callbacks.token_hash(hashed + ":" + body.decode("utf-8", "replace"))
    text = redact_text(body.decode("utf-8", "replace"))[: settings.CALLBACK_MAX_BYTES]
    try:
        with transaction.atomic():
            CallbackEvent.objects.create(
                kind=CallbackEvent.Kind.TUNE if avatar else CallbackEvent.Kind.PROMPT,
                avatar_id=avatar.pk if avatar else prompt.avatar_id,
                prompt=prompt,
                digest=digest,
                body=text,
            )
            if avatar:
                enqueue_on_commit(avatar_sync_tune_task, str(avatar.pk))
            else:
                enqueue_on_commit(prompt_sync_task, prompt.pk)
    except IntegrityError:
        pass  # the same callback again: already recorded and handled
    return True


# --- The reconciler -------------------------------------------------------------------------------


def avatar_reconcile() -> dict[str, int]:
    """Finish what callbacks missed and what crashes interrupted; safe to run at any time."""
    from studio.avatars import tasks

    now = timezone.now()
    poll_before = now - timedelta(seconds=settings.RECONCILE_POLL_INTERVAL)
    counts = {}

    # Queued for a while with no submit attempt lately: its message was lost (a submit that is
    # retrying counts as an attempt when it starts, so the reconciler adds no second chain to it).
    grace = now - timedelta(seconds=settings.RECONCILE_QUEUED_GRACE)
    queued = Avatar.objects.filter(state=AvatarState.QUEUED, queued_at__lt=grace, updated_at__lt=grace).values_list(
        "pk", flat=True
    )
    for avatar_id in queued:
        enqueue_on_commit(tasks.avatar_submit, str(avatar_id))
    counts["resubmitted"] = len(queued)

    give_up = now - timedelta(seconds=settings.AVATAR_GIVE_UP_AFTER)
    stuck = list(
        Avatar.objects.filter(state__in=[AvatarState.SUBMITTED, AvatarState.TRAINING], submitted_at__lt=give_up)
        .values_list("pk", flat=True)
    )
    for avatar_id in stuck:
        avatar_fail(avatar_id=avatar_id, reason="Training did not finish in time.")
    counts["timed_out"] = len(stuck)

    tunes = Avatar.objects.filter(state__in=[AvatarState.SUBMITTED, AvatarState.TRAINING]).filter(
        Q(tune_eta__isnull=True) | Q(tune_eta__lt=now)
    ).filter(Q(last_polled_at__isnull=True) | Q(last_polled_at__lt=poll_before)).values_list("pk", flat=True)
    for avatar_id in tunes:
        enqueue_on_commit(tasks.avatar_sync_tune, str(avatar_id))
    counts["tunes_polled"] = len(tunes)

    unsent = (
        Prompt.objects.filter(state=PromptState.PENDING, avatar__state__in=IN_FLIGHT)
        .filter(created_at__lt=now - timedelta(seconds=settings.RECONCILE_QUEUED_GRACE))
        .values_list("avatar_id", flat=True)
        .distinct()
    )
    for avatar_id in unsent:
        enqueue_on_commit(tasks.avatar_submit_prompts, str(avatar_id))
    counts["prompts_resubmitted"] = len(unsent)

    overdue_prompts = list(
        Prompt.objects.filter(
            state__in=[PromptState.PENDING, PromptState.SUBMITTED],
            avatar__state=AvatarState.GENERATING,
            avatar__trained_at__lt=now - timedelta(seconds=settings.PROMPT_GIVE_UP_AFTER),
        ).values_list("pk", flat=True)
    )
    for prompt_id in overdue_prompts:
        prompt_fail(prompt_id=prompt_id, reason="The images did not arrive in time.")
    counts["prompts_timed_out"] = len(overdue_prompts)

    prompts = Prompt.objects.filter(
        state=PromptState.SUBMITTED,
        avatar__state=AvatarState.GENERATING,  # a prompt cannot finish before its tune is trained
        submitted_at__lt=now - timedelta(seconds=settings.RECONCILE_PROMPT_POLL_AFTER),
    ).filter(Q(last_polled_at__isnull=True) | Q(last_polled_at__lt=poll_before)).values_list("pk", flat=True)
    for prompt_id in prompts:
        enqueue_on_commit(tasks.prompt_sync, prompt_id)
    counts["prompts_polled"] = len(prompts)

    finished = (
        Avatar.objects.filter(state=AvatarState.GENERATING)
        .exclude(prompts__state__in=[PromptState.PENDING, PromptState.SUBMITTED])
        .values_list("pk", flat=True)
    )
    for avatar_id in finished:
        avatar_check_finished(avatar_id=avatar_id)
    counts["finished"] = len(finished)

    deletions = AstriaTuneDeletion.objects.filter(done_at__isnull=True).values_list("tune_id", "title")
    for tune_id, title in deletions:
        enqueue_on_commit(tasks.astria_tune_delete, tune_id, title)
    counts["deletions"] = len(deletions)

    purge = Avatar.objects.filter(
        photos_purged_at__isnull=True,
        trained_at__lt=now - timedelta(days=settings.PHOTOS_RETENTION_DAYS),
    ).values_list("pk", flat=True)
    for avatar_id in purge:
        enqueue_on_commit(tasks.avatar_purge_photos, str(avatar_id))
    counts["photo_purges"] = len(purge)
    counts["exports_purged"] = export_purge_expired()
    return counts


# --- Deletion and retention ------------------------------------------------------------------------


def astria_tune_delete_later(*, tune_id: int | None = None, title: str = "") -> None:
    """Delete a tune at Astria by its id, or by its title when the id was never learned."""
    from studio.avatars.tasks import astria_tune_delete as astria_tune_delete_task

    title = "" if tune_id else title
    AstriaTuneDeletion.objects.get_or_create(tune_id=tune_id, title=title)
    enqueue_on_commit(astria_tune_delete_task, tune_id, title)


def astria_tune_delete(*, tune_id: int | None, title: str = "") -> None:
    """Delete a tune at Astria; a tune already gone, or none with the title, counts as deleted."""
    deletion = AstriaTuneDeletion.objects.filter(tune_id=tune_id, title=title, done_at__isnull=True).first()
    if deletion is None:
        return
    AstriaTuneDeletion.objects.filter(pk=deletion.pk).update(attempts=deletion.attempts + 1)
    client = get_client()
    if tune_id is None:
        tune = client.find_tune_by_title(title)
        tune_id = tune.id if tune else None
    if tune_id is not None:
        with contextlib.suppress(AstriaNotFound):  # already gone counts as deleted
            client.delete_tune(tune_id)
    AstriaTuneDeletion.objects.filter(pk=deletion.pk, done_at__isnull=True).update(
        done_at=timezone.now(), last_error=""
    )


def avatar_purge_photos(*, avatar_id: uuid.UUID | str) -> None:
    """Delete the training photos once the retention period after training has passed."""
    from studio.photos.services import photo_delete_all_for_avatar

    with transaction.atomic():
        avatar = Avatar.objects.select_for_update().filter(pk=avatar_id, photos_purged_at__isnull=True).first()
        if avatar is None:
            return
        photo_delete_all_for_avatar(avatar=avatar)
        Avatar.objects.filter(pk=avatar.pk).update(photos_purged_at=timezone.now())


def avatar_delete(*, user: User, avatar_id: uuid.UUID) -> None:
    """Delete the avatar: its photos, images and rows here, and its tune at Astria."""
    from studio.photos.services import photo_delete_all_for_avatar

    with transaction.atomic():
        avatar = _locked(avatar_id, user=user)
        files = []
        for image in avatar.images.all():
            files += [image.image.name, image.thumbnail.name]
        files += [name for name in avatar.exports.values_list("file", flat=True) if name]
        photo_delete_all_for_avatar(avatar=avatar)
        if avatar.tune_id:
            astria_tune_delete_later(tune_id=avatar.tune_id)
        avatar.delete()
        transaction.on_commit(lambda: [default_storage.delete(name) for name in files if name])


# --- Favourites -------------------------------------------------------------------------------------


def image_set_favourite(*, user: User, image_id: uuid.UUID, favourite: bool) -> GeneratedImage:
    """Mark or unmark a favourite; the prompt's like at Astria follows its images."""
    from studio.avatars.tasks import prompt_sync_like as prompt_sync_like_task

    with transaction.atomic():
        image = GeneratedImage.objects.select_related("prompt").get(pk=image_id, avatar__user=user)
        if image.is_favourite != favourite:
            GeneratedImage.objects.filter(pk=image.pk).update(is_favourite=favourite)
            image.is_favourite = favourite
            enqueue_on_commit(prompt_sync_like_task, image.prompt_id)
    return image


def prompt_sync_like(*, prompt_id: int) -> None:
    """Like a prompt at Astria while one of its images is a favourite; unlike it otherwise."""
    prompt = Prompt.objects.filter(pk=prompt_id, astria_prompt_id__isnull=False).first()
    if prompt is None:
        return
    wanted = prompt.images.filter(is_favourite=True).exists()
    if wanted == prompt.liked:
        return
    client = get_client()
    if wanted:
        client.like_prompt(prompt.astria_prompt_id)
    else:
        client.unlike_prompt(prompt.astria_prompt_id)
    Prompt.objects.filter(pk=prompt.pk, liked=not wanted).update(liked=wanted)


# --- Emails -----------------------------------------------------------------------------------------


def _send_avatar_email(*, avatar_id: uuid.UUID | str, subject: str, template: str) -> None:
    from django.core.mail import send_mail
    from django.template.loader import render_to_string
    from django.urls import reverse

    avatar = Avatar.objects.select_related("user").filter(pk=avatar_id).first()
    if avatar is None or not avatar.user.is_active:
        return
    context = {
        "avatar": avatar,
        "gallery_url": settings.PUBLIC_URL + reverse("avatars:detail", args=[avatar.pk]),
        "images": avatar.images.count(),
        "failed_prompts": avatar.prompts.filter(state=PromptState.FAILED),
    }
    send_mail(
        subject=subject.format(name=avatar.name),
        message=render_to_string(template, context),
        from_email=None,
        recipient_list=[avatar.user.email],
    )


def avatar_send_ready_email(*, avatar_id: uuid.UUID | str) -> None:
    _send_avatar_email(
        avatar_id=avatar_id, subject="Your avatars of {name} are ready", template="avatars/email/ready.txt"
    )


def avatar_send_failed_email(*, avatar_id: uuid.UUID | str) -> None:
    _send_avatar_email(
        avatar_id=avatar_id,
        subject="We could not make your avatars of {name}: credits refunded",
        template="avatars/email/failed.txt",
    )


# --- Zip downloads ------------------------------------------------------------------------------------


def export_create(*, user: User, avatar_id: uuid.UUID, scope: str) -> GalleryExport:
    """Start building a zip of the avatar's images (all, or the favourites)."""
    from studio.avatars.tasks import export_build as export_build_task

    with transaction.atomic():
        avatar = _locked(avatar_id, user=user)
        images = avatar.images.all()
        if scope == GalleryExport.Scope.FAVOURITES:
            images = images.filter(is_favourite=True)
        if not images.exists():
            raise ApplicationError(
                "Mark a few images as favourites first." if scope == GalleryExport.Scope.FAVOURITES
                else "There are no images to download yet."
            )
        export = GalleryExport.objects.create(avatar=avatar, scope=scope)
        enqueue_on_commit(export_build_task, str(export.pk))
    return export


def export_build(*, export_id: str) -> None:
    """Write the zip into private storage; the images are JPEGs, so they are stored, not deflated."""
    import tempfile
    import zipfile

    from django.core.files import File
    from django.utils.text import slugify

    from studio.avatars.selectors import images_for_export

    export = GalleryExport.objects.select_related("avatar").filter(
        pk=export_id, state=GalleryExport.State.BUILDING
    ).first()
    if export is None:
        return
    folder = slugify(export.avatar.name) or "avatar"
    count = 0
    with tempfile.TemporaryFile() as spool:
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_STORED) as archive:
            for image in images_for_export(export=export):
                name = f"{folder}/{image.prompt.batch + 1:02d}-{image.prompt.position + 1:02d}-"
                name += f"{slugify(image.prompt.label)[:40] or 'prompt'}-{image.index + 1}.jpg"
                with image.image.open("rb") as handle:
                    archive.writestr(name, handle.read())
                count += 1
        size = spool.tell()
        spool.seek(0)
        stored = default_storage.save(f"exports/{export.avatar.user_id}/{export.pk.hex}.zip", File(spool))
    updated = GalleryExport.objects.filter(pk=export.pk, state=GalleryExport.State.BUILDING).update(
        state=GalleryExport.State.READY, file=stored, image_count=count, bytes=size, updated_at=timezone.now()
    )
    if not updated:
        default_storage.delete(stored)


def export_fail(*, export_id: str) -> None:
    GalleryExport.objects.filter(pk=export_id, state=GalleryExport.State.BUILDING).update(
        state=GalleryExport.State.FAILED, updated_at=timezone.now()
    )


def export_purge_expired() -> int:
    """Zips are kept for a day: they are copies, rebuilt on request."""
    expired = GalleryExport.objects.filter(created_at__lt=timezone.now() - timedelta(hours=settings.EXPORT_KEEP_HOURS))
    names = [name for name in expired.values_list("file", flat=True) if name]
    count = expired.count()
    expired.delete()
    for name in names:
        default_storage.delete(name)
    return count


# --- Staff actions -----------------------------------------------------------------------------------


def avatar_redrive(*, avatar_id: uuid.UUID | str) -> bool:
    """Push a stuck avatar forward: ask Astria again about whatever it is waiting for."""
    from studio.avatars import tasks

    avatar = Avatar.objects.filter(pk=avatar_id).first()
    if avatar is None:
        return False
    if avatar.state == AvatarState.QUEUED:
        Avatar.objects.filter(pk=avatar.pk, state=AvatarState.QUEUED).update(
            submit_crashes=min(avatar.submit_crashes, settings.AVATAR_SUBMIT_MAX_CRASHES - 1)
        )
        enqueue_on_commit(tasks.avatar_submit, str(avatar.pk))
        return True
    if avatar.state in (AvatarState.SUBMITTED, AvatarState.TRAINING):
        enqueue_on_commit(tasks.avatar_sync_tune, str(avatar.pk))
        return True
    if avatar.state == AvatarState.GENERATING:
        enqueue_on_commit(tasks.avatar_submit_prompts, str(avatar.pk))
        for prompt_id in avatar.prompts.filter(state=PromptState.SUBMITTED).values_list("pk", flat=True):
            enqueue_on_commit(tasks.prompt_sync, prompt_id)
        enqueue_on_commit(tasks.avatar_check_finished, str(avatar.pk))
        return True
    return False


def avatar_refund_by_staff(*, avatar_id: uuid.UUID | str, staff_user: User) -> int:
    """Support's refund: an unfinished avatar is stopped and refunded as a failure would be; a
    finished one gets back whatever it cost that was not refunded already. Returns the credits."""
    from studio.credits.selectors import credit_totals_for_references
    from studio.credits.services import credit_refund

    avatar = Avatar.objects.filter(pk=avatar_id).first()
    if avatar is None or avatar.state == AvatarState.DRAFT:
        return 0
    references = [f"avatar:{avatar.pk}", *(f"prompt:{pk}" for pk in avatar.prompts.values_list("pk", flat=True))]
    before = credit_totals_for_references(references=references)
    if avatar.state not in (AvatarState.DONE, AvatarState.FAILED):
        avatar_fail(avatar_id=avatar.pk, reason="Our support team stopped it and refunded it.")
    else:
        remaining = before.spent - before.refunded
        if remaining > 0:
            credit_refund(
                user=avatar.user,
                amount=remaining,
                key=f"refund:avatar:{avatar.pk}:support",
                reason=f"Refund from our support team: avatar “{avatar.name}”",
                reference=f"avatar:{avatar.pk}",
            )
    refunded = credit_totals_for_references(references=references).refunded - before.refunded
    logger.info("avatar %s: %s credits refunded by staff user %s", avatar.pk, refunded, staff_user.pk)
    return refunded
