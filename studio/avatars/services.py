"""What users and staff do to avatars: create, pay and queue, generate more, delete, favourite,
re-drive, refund and fail. The pipeline behind them lives beside this module, one topic each:
submission (to Astria), progress (back from Astria), callbacks, reconcile, exports and emails.

Every state change is a conditional update from the expected state, under a lock on the avatar
row, so replayed callbacks, redelivered tasks and racing reconcilers change nothing twice.
"""

import logging
import uuid
from datetime import timedelta

from celery import Task
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from studio.astria.client import get_client
from studio.avatars import likeness, tasks
from studio.avatars.models import AstriaTuneDeletion, Avatar, AvatarState, GeneratedImage, Prompt, PromptState
from studio.avatars.page_cache import gallery_changed
from studio.avatars.selectors import avatar_list_drafts_for_user, avatar_list_idle_drafts
from studio.core.adminlog import admin_log_anonymise
from studio.core.exceptions import ApplicationError
from studio.core.tasks import enqueue_on_commit
from studio.credits.selectors import credit_totals_for_references
from studio.credits.services import credit_reasons_neutralise, credit_refund, credit_spend
from studio.photos.selectors import photo_minimum_met
from studio.photos.services import photo_delete_all_for_avatar
from studio.themes.planner import Plan, plan_for_avatar, plan_more

logger = logging.getLogger(__name__)


def _locked(avatar_id: uuid.UUID | str, **filters) -> Avatar:
    return Avatar.objects.select_for_update().get(pk=avatar_id, **filters)


class DraftLimitReached(ApplicationError):
    """The user already holds AVATAR_MAX_DRAFTS drafts."""


class ConsentMissing(ApplicationError):
    """The owner did not confirm they are the subject or have the subject's permission."""


CONSENT_MISSING = "Tick the box to confirm these are your photos, or that you have permission to use them."


@transaction.atomic
def avatar_create(*, user: User, name: str, subject_class: str) -> Avatar:
    """A new draft; refused while the user holds AVATAR_MAX_DRAFTS of them (each keeps its photos)."""
    # The user's row, locked, so that two creates at once cannot both take the last place.
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
    most = settings.AVATAR_MAX_DRAFTS
    if avatar_list_drafts_for_user(user=user).count() >= most:
        raise DraftLimitReached(
            f"You already have {most} avatar{'s' if most != 1 else ''} waiting for photos or an order, "
            "the most at once. Finish or delete one of them to start another."
        )
    avatar = Avatar(user=user, name=name.strip(), subject_class=subject_class)
    avatar.full_clean()
    avatar.save()
    return avatar


# --- Paying for prompts: confirm, and generate more ----------------------------------------------


def avatar_confirm(*, user: User, avatar_id: uuid.UUID, consent: bool) -> Avatar:
    """Spend the credits, create the prompts and queue the avatar, all or nothing.

    `consent`: the owner confirmed they are the subject or have the subject's permission; it is
    recorded with its time, and nothing is ordered without it. A second confirm of the same avatar
    (double click, two tabs) changes nothing. Raises Avatar.DoesNotExist for someone else's avatar,
    ApplicationError when it cannot go. An avatar an organisation pays for (`avatar.pool`) is paid
    from that pool here, and only here: nothing leaves the pool before its member confirms.
    """
    with transaction.atomic():
        avatar = _locked(avatar_id, user=user)
        if avatar.state != AvatarState.DRAFT:
            return avatar
        if not consent:
            raise ConsentMissing(CONSENT_MISSING)
        if not photo_minimum_met(avatar=avatar):
            raise ApplicationError(
                f"Upload at least {settings.PHOTOS_MIN_ACCEPTED} accepted photos before you confirm."
            )
        plan = plan_for_avatar(avatar=avatar)
        _pay_for_plan(
            user=user,
            avatar=avatar,
            plan=plan,
            batch=0,
            key=f"spend:avatar:{avatar.pk}",
            reason=f"Avatar “{avatar.name}”: training and {_styles(len(plan.prompts))}",
            then=tasks.avatar_submit,
            pool=avatar.pool,
            state=AvatarState.QUEUED,
            queued_at=timezone.now(),
            branch=settings.ASTRIA_BRANCH,
            tune_price=settings.CREDITS_PRICE_TUNE,
            consent_at=timezone.now(),
        )
        likeness.avatar_keep_identity(avatar=avatar)
    avatar.refresh_from_db()
    return avatar


def avatar_generate_more(
    *, user: User, avatar_id: uuid.UUID, theme_slugs: list[str], custom_texts: list[str]
) -> Avatar:
    """More prompts on a finished avatar's tune, within what is left of the fair-use budget."""
    with transaction.atomic():
        avatar = _locked(avatar_id, user=user)
        if avatar.state != AvatarState.DONE:
            raise ApplicationError("You can generate more once the current images are finished.")
        batch = (avatar.prompts.order_by("-batch").values_list("batch", flat=True).first() or 0) + 1
        plan = plan_more(avatar=avatar, theme_slugs=theme_slugs, custom_texts=custom_texts)
        _pay_for_plan(
            user=user,
            avatar=avatar,
            plan=plan,
            batch=batch,
            key=f"spend:avatar:{avatar.pk}:more:{batch}",
            reason=f"Avatar “{avatar.name}”: {_styles(len(plan.prompts), more=True)}",
            then=tasks.avatar_submit_prompts,
            state=AvatarState.GENERATING,
            finished_at=None,
        )
    avatar.refresh_from_db()
    return avatar


def _styles(count: int, *, more: bool = False) -> str:
    return f"{count} {'more ' if more else ''}style{'' if count == 1 else 's'}"


def _pay_for_plan(
    *, user: User, avatar: Avatar, plan: Plan, batch: int, key: str, reason: str, then: Task, pool=None, **changes
) -> None:
    """Spend the plan's credits (the user's, or the pool's when given), save its prompts and move the
    (locked) avatar on from its state with changes, in the caller's transaction; `then` runs on the
    avatar once that commits."""
    if plan.errors:
        raise ApplicationError(plan.errors[0])
    credit_spend(
        user=user, pool=pool, amount=plan.credit_cost, key=key, reason=reason, reference=f"avatar:{avatar.pk}"
    )
    _prompts_create(avatar=avatar, plan=plan, batch=batch)
    now = timezone.now()
    Avatar.objects.filter(pk=avatar.pk, state=avatar.state).update(
        updated_at=now,
        # The reconciler looks once the task should have run (schedule.py).
        next_check_at=now + timedelta(seconds=settings.RECONCILE_QUEUED_GRACE),
        gallery_version=F("gallery_version") + 1,
        **changes,
    )
    enqueue_on_commit(then, str(avatar.pk))


def _prompts_create(*, avatar: Avatar, plan: Plan, batch: int) -> None:
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


# --- Deleting ------------------------------------------------------------------------------------


DELETED_AVATAR = "Avatar (deleted)"  # its name in the admin's history once deleted


def avatar_delete(*, user: User, avatar_id: uuid.UUID) -> None:
    """Delete the avatar: its photos, images and rows here, and its tune at Astria."""
    with transaction.atomic():
        _avatar_delete_locked(_locked(avatar_id, user=user))


def avatar_delete_by_staff(*, avatar_id: uuid.UUID | str, staff_user: User) -> bool:
    """Support's delete (the admin's): everything the owner's own delete removes. False if the
    avatar was gone already."""
    with transaction.atomic():
        avatar = Avatar.objects.select_for_update().filter(pk=avatar_id).first()
        if avatar is None:
            return False
        _avatar_delete_locked(avatar)
    logger.info("avatar %s deleted by staff user %s", avatar_id, staff_user.pk)
    return True


def avatar_delete_idle_draft(*, avatar_id: uuid.UUID | str) -> bool:
    """Delete a draft nobody has touched for DRAFT_RETENTION_DAYS, as its owner would; False if it
    was ordered or touched meanwhile."""
    with transaction.atomic():
        avatar = avatar_list_idle_drafts().select_for_update().filter(pk=avatar_id).first()
        if avatar is None:
            return False
        _avatar_delete_locked(avatar)
    return True


def _avatar_delete_locked(avatar: Avatar) -> None:
    """Everything of the (locked) avatar: its files once the transaction commits, its tune and
    the prompts made with it at Astria, its rows (callback log included) and its name on the ledger
    and in the admin's history."""
    files = []
    for image in avatar.images.all():
        files += [image.image.name, image.thumbnail.name]
    files += [name for name in avatar.exports.values_list("file", flat=True) if name]
    photo_delete_all_for_avatar(avatar=avatar)
    prompt_ids = list(avatar.prompts.values_list("pk", flat=True))
    credit_reasons_neutralise(
        user=avatar.user, references=[f"avatar:{avatar.pk}", *(f"prompt:{pk}" for pk in prompt_ids)]
    )
    admin_log_anonymise(model=Avatar, object_ids=[avatar.pk], text=DELETED_AVATAR)
    astria_avatar_delete_later(avatar=avatar)
    avatar.delete()
    transaction.on_commit(lambda: [default_storage.delete(name) for name in files if name])


def astria_avatar_delete_later(*, avatar: Avatar) -> bool:
    """Delete what the avatar has at Astria: its tune, and its prompts on shared tunes (a LoRA's on
    the base tune, touch-ups on the edit model's), which deleting the tune leaves there. A queued
    avatar whose submit may have created a tune without learning its id has it looked up by title.
    False if it has nothing at Astria."""
    if avatar.tune_id:
        prompts = [
            [prompt.tune_at_astria, prompt.astria_prompt_id]
            for prompt in avatar.prompts.exclude(astria_prompt_id=None)
            if prompt.tune_at_astria != avatar.tune_id
        ]
        astria_tune_delete_later(tune_id=avatar.tune_id, prompts=prompts)
        return True
    if avatar.state == AvatarState.QUEUED and avatar.submit_attempts:
        astria_tune_delete_later(title=str(avatar.pk))
        return True
    return False


def astria_tune_delete_later(
    *, tune_id: int | None = None, title: str = "", prompts: list[list[int]] | None = None
) -> None:
    """Delete a tune at Astria by its id, or by its title when the id was never learned, after
    the prompts given as [tune id, prompt id]; retried (reconcile.astria_tune_delete) until Astria
    confirms, even after our rows are gone."""
    title = "" if tune_id else title
    prompts = prompts or []
    deletion, created = AstriaTuneDeletion.objects.get_or_create(
        tune_id=tune_id, title=title, defaults={"prompts": prompts}
    )
    missing = [pair for pair in prompts if pair not in deletion.prompts]
    if not created and missing:  # asked again with more prompts (e.g. the admin's action, then the owner's delete)
        AstriaTuneDeletion.objects.filter(pk=deletion.pk).update(
            prompts=deletion.prompts + missing, done_at=None, updated_at=timezone.now()
        )
    enqueue_on_commit(tasks.astria_tune_delete, tune_id, title)


# --- Favourites ----------------------------------------------------------------------------------


def image_set_favourite(*, user: User, image_id: uuid.UUID, favourite: bool) -> GeneratedImage:
    """Mark or unmark a favourite; the prompt's like at Astria follows its images."""
    with transaction.atomic():
        image = GeneratedImage.objects.select_related("prompt").get(pk=image_id, avatar__user=user)
        if image.is_favourite != favourite:
            gallery_changed(avatar_id=image.avatar_id)
            GeneratedImage.objects.filter(pk=image.pk, is_favourite=not favourite).update(is_favourite=favourite)
            image.is_favourite = favourite
            enqueue_on_commit(tasks.prompt_sync_like, image.prompt_id)
    return image


def prompt_sync_like(*, prompt_id: int) -> None:
    """Like a prompt at Astria while one of its images is a favourite; unlike it otherwise.

    Each toggle enqueues a sync, and each sync acts on the favourites as they are when it runs, so
    toggles in quick succession end in one call per change of what Astria should show, or none.
    Syncs of one prompt take turns on its row, locked for the call, so two running at once never
    both make it.
    """
    with transaction.atomic():
        prompt = Prompt.objects.select_for_update().filter(pk=prompt_id, astria_prompt_id__isnull=False).first()
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


# --- Staff actions -------------------------------------------------------------------------------


def avatar_redrive(*, avatar_id: uuid.UUID | str) -> bool:
    """Push a stuck avatar forward: ask Astria again about whatever it is waiting for."""
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
    avatar = Avatar.objects.filter(pk=avatar_id).first()
    if avatar is None or avatar.state == AvatarState.DRAFT:
        return 0
    references = [f"avatar:{avatar.pk}", *(f"prompt:{pk}" for pk in avatar.prompts.values_list("pk", flat=True))]
    before = credit_totals_for_references(references=references)
    if avatar.state not in (AvatarState.DONE, AvatarState.FAILED):
        avatar_fail(avatar_id=avatar.pk, reason="Our support team stopped it and refunded it.")
    else:
        # Each payer (the owner, and the pool that paid for the first order) gets back its own.
        for pooled, payer, suffix in ((False, avatar.payer(batch=1), ""), (True, avatar.payer(), ":pool")):
            if pooled and payer["pool"] is None:
                continue
            totals = credit_totals_for_references(references=references, pooled=pooled)
            remaining = totals.spent - totals.refunded
            if remaining > 0:
                credit_refund(
                    **payer,
                    amount=remaining,
                    key=f"refund:avatar:{avatar.pk}:support{suffix}",
                    reason=f"Refund from our support team: avatar “{avatar.name}”",
                    reference=f"avatar:{avatar.pk}",
                )
    refunded = credit_totals_for_references(references=references).refunded - before.refunded
    logger.info("avatar %s: %s credits refunded by staff user %s", avatar.pk, refunded, staff_user.pk)
    return refunded


# --- Failure and refunds -------------------------------------------------------------------------


def prompt_fail(*, prompt_id: int, reason: str) -> None:
    """Fail one prompt and refund what it cost, exactly once."""
    with transaction.atomic():
        prompt = Prompt.objects.select_related("avatar").filter(pk=prompt_id).first()
        if prompt is None:
            return
        _locked(prompt.avatar_id)
        gallery_changed(avatar_id=prompt.avatar_id)
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
                **prompt.avatar.payer(prompt.batch),
                amount=prompt.price,
                key=f"refund:prompt:{prompt.pk}",
                reason=f"Refund: prompt “{prompt.label}” of “{prompt.avatar.name}” failed",
                reference=f"prompt:{prompt.pk}",
            )
        if failed:
            enqueue_on_commit(tasks.avatar_check_finished, str(prompt.avatar_id))


def avatar_fail(*, avatar_id: uuid.UUID | str, reason: str) -> None:
    """Fail the avatar and every unfinished prompt; refund everything not delivered, once."""
    with transaction.atomic():
        avatar = Avatar.objects.select_for_update().filter(pk=avatar_id).first()
        if avatar is None or avatar.state in (AvatarState.DRAFT, AvatarState.DONE, AvatarState.FAILED):
            return
        likeness.prompts_refund_stopped_redos(avatar=avatar)
        unfinished = avatar.prompts.filter(
            state__in=[PromptState.PENDING, PromptState.SUBMITTED], refunded=False
        )
        # What the first order's payer gets back (a pool's, for a member's avatar), and the rest.
        amount, own = 0, 0
        for batch, price in unfinished.values_list("batch", "price"):
            if batch == 0 or avatar.pool_id is None:
                amount += price
            else:
                own += price
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
            identity=None,  # no portrait of it will be scored any more
            state=AvatarState.FAILED,
            gallery_version=F("gallery_version") + 1,
            failure_reason=reason[:500],
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        for batch, owed, key in ((0, amount, f"refund:avatar:{avatar.pk}"), (1, own, f"refund:avatar:{avatar.pk}:own")):
            if owed:
                credit_refund(
                    **avatar.payer(batch=batch),
                    amount=owed,
                    key=key,
                    reason=f"Refund: avatar “{avatar.name}” failed",
                    reference=f"avatar:{avatar.pk}",
                )
        enqueue_on_commit(tasks.avatar_send_failed_email, str(avatar.pk))
