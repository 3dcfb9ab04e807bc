"""The reconciler, run by beat every RECONCILE_INTERVAL: it finishes what callbacks missed and what
crashes interrupted, one named sweep each, and carries out the deletions and purges that retention
asks for. Every sweep is safe to run at any time, any number of times and in several processes at
once, and takes a bounded batch: it looks only at what is due (schedule.py explains when, and
submission.py what happens on the way to done, failed and refunded).
"""

import contextlib
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from studio.astria.client import get_client
from studio.astria.errors import AstriaNotFound
from studio.avatars import likeness, schedule, tasks
from studio.avatars.exports import export_purge_expired
from studio.avatars.models import IN_FLIGHT, AstriaTuneDeletion, Avatar, AvatarState, Prompt, PromptState
from studio.avatars.selectors import avatar_list_idle_drafts
from studio.avatars.services import avatar_fail, prompt_fail
from studio.core.redaction import redact_text
from studio.core.tasks import enqueue_on_commit
from studio.photos.services import photo_delete_all_for_avatar

PROMPTS_PER_AVATAR = 8  # due prompts claimed per avatar the prompts sweep may take, about one order's


def avatar_reconcile(*, batch: int = schedule.BATCH) -> dict[str, int]:
    """One run: every sweep once, each over at most `batch` objects; returns how many objects each
    acted on. What is due and when: schedule.py. A run costs the same whatever the number of
    avatars in flight, and enqueues at most a few times `batch` tasks."""
    now = timezone.now()
    counts = _check_due_avatars(now, batch)
    counts |= {
        "prompts_polled": _poll_due_prompts(now, batch),
        "timed_out": _fail_overdue_tunes(now, batch),
        "prompts_timed_out": _fail_overdue_prompts(now, batch),
        "deletions": _retry_tune_deletions(batch),
        "photo_purges": _purge_photos(now, batch),
        "drafts_deleted": _delete_idle_drafts(batch),
        "exports_purged": export_purge_expired(),
        "identities_forgotten": likeness.avatar_forget_identities(now),
    }
    return counts


def _claim(model: type[Avatar] | type[Prompt], due: QuerySet, *, now: datetime, batch: int, since) -> list:
    """Claim a batch of due rows, oldest first, and push their next check forward in the same
    transaction. Rows another run holds are skipped (PostgreSQL), so two runs claim disjoint
    batches; a claimed row is not due again before its check has had time to run."""
    with transaction.atomic():
        rows = list(due.filter(next_check_at__lte=now).order_by("next_check_at").select_for_update(
            skip_locked=True, of=("self",)
        )[:batch])
        for row in rows:
            row.next_check_at = schedule.claimed_until(since=since(row), now=now)
        model.objects.bulk_update(rows, ["next_check_at"], batch_size=500)
    return rows


def _check_due_avatars(now: datetime, batch: int) -> dict[str, int]:
    """In-flight avatars whose check is due: a lost submit started again, a tune past its ETA
    re-read, prompts left pending submitted, a lost "finished" check done."""
    avatars = _claim(
        Avatar,
        Avatar.objects.filter(state__in=[AvatarState.QUEUED, *IN_FLIGHT]).only(
            "pk", "state", "queued_at", "submitted_at", "trained_at", "updated_at", "next_check_at"
        ),
        now=now,
        batch=batch,
        since=_avatar_since,
    )
    counts = {"resubmitted": 0, "tunes_polled": 0, "prompts_resubmitted": 0, "finished": 0}
    grace = now - timedelta(seconds=settings.RECONCILE_QUEUED_GRACE)
    generating = [avatar.pk for avatar in avatars if avatar.state == AvatarState.GENERATING]
    unfinished = _unfinished_prompts(generating, grace=grace)
    if generating:  # prompts submitted while their tune was becoming trained: read them from now on
        Prompt.objects.filter(avatar_id__in=generating, state=PromptState.SUBMITTED, next_check_at=None).update(
            next_check_at=now
        )
    for avatar in avatars:
        if avatar.state == AvatarState.QUEUED:
            # Nothing has touched it for the grace period: its message was lost, or its task gave
            # up on an Astria that kept failing (a retrying submit touches it when it starts).
            if avatar.updated_at < grace:
                enqueue_on_commit(tasks.avatar_submit, str(avatar.pk))
                counts["resubmitted"] += 1
        elif avatar.state in (AvatarState.SUBMITTED, AvatarState.TRAINING):
            enqueue_on_commit(tasks.avatar_sync_tune, str(avatar.pk))
            counts["tunes_polled"] += 1
        else:
            pending, left_behind = unfinished.get(avatar.pk, (0, 0))
            if left_behind:
                enqueue_on_commit(tasks.avatar_submit_prompts, str(avatar.pk))
                counts["prompts_resubmitted"] += 1
            elif not pending:
                enqueue_on_commit(tasks.avatar_check_finished, str(avatar.pk))
                counts["finished"] += 1
    return counts


def _avatar_since(avatar: Avatar) -> datetime | None:
    """Since when the avatar has been waiting in its state (its checks back off from then)."""
    if avatar.state == AvatarState.QUEUED:
        return avatar.queued_at
    if avatar.state == AvatarState.GENERATING:
        return avatar.trained_at
    return avatar.submitted_at


def _unfinished_prompts(avatar_ids: list, *, grace: datetime) -> dict:
    """For each avatar: (its unfinished prompts, those still pending since before grace), in one query."""
    if not avatar_ids:
        return {}
    rows = (
        Prompt.objects.filter(avatar_id__in=avatar_ids, state__in=[PromptState.PENDING, PromptState.SUBMITTED])
        .order_by()
        .values("avatar_id")
        .annotate(
            unfinished=Count("pk"),
            left_behind=Count("pk", filter=Q(state=PromptState.PENDING, created_at__lt=grace)),
        )
    )
    return {row["avatar_id"]: (row["unfinished"], row["left_behind"]) for row in rows}


def _poll_due_prompts(now: datetime, batch: int) -> int:
    """Submitted prompts of trained tunes whose check is due, for at most `batch` avatars: one read
    of each tune's prompts list (progress.avatar_sync_prompts) covers all of its prompts."""
    prompts = _claim(
        Prompt,
        Prompt.objects.filter(state=PromptState.SUBMITTED, next_check_at__isnull=False).only(
            "pk", "avatar_id", "submitted_at", "next_check_at"
        ),
        now=now,
        batch=batch * PROMPTS_PER_AVATAR,
        since=lambda prompt: prompt.submitted_at,
    )
    avatar_ids = list(dict.fromkeys(prompt.avatar_id for prompt in prompts))
    if len(avatar_ids) > batch:  # more avatars than one run takes: the others stay due
        Prompt.objects.filter(pk__in=[p.pk for p in prompts if p.avatar_id in set(avatar_ids[batch:])]).update(
            next_check_at=now
        )
        avatar_ids = avatar_ids[:batch]
    for avatar_id in avatar_ids:
        enqueue_on_commit(tasks.avatar_sync_prompts, str(avatar_id))
    return len(avatar_ids)


def _fail_overdue_tunes(now: datetime, batch: int) -> int:
    give_up = now - timedelta(seconds=settings.AVATAR_GIVE_UP_AFTER)
    stuck = list(
        Avatar.objects.filter(state__in=[AvatarState.SUBMITTED, AvatarState.TRAINING], submitted_at__lt=give_up)
        .order_by("submitted_at")
        .values_list("pk", flat=True)[:batch]
    )
    for avatar_id in stuck:
        avatar_fail(avatar_id=avatar_id, reason="Training did not finish in time.")
    return len(stuck)


def _fail_overdue_prompts(now: datetime, batch: int) -> int:
    overdue = list(
        Prompt.objects.filter(
            state__in=[PromptState.PENDING, PromptState.SUBMITTED],
            avatar__state=AvatarState.GENERATING,
            avatar__trained_at__lt=now - timedelta(seconds=settings.PROMPT_GIVE_UP_AFTER),
        )
        .order_by()
        .values_list("pk", flat=True)[:batch]
    )
    for prompt_id in overdue:
        prompt_fail(prompt_id=prompt_id, reason="The images did not arrive in time.")
    return len(overdue)


def _retry_tune_deletions(batch: int) -> int:
    deletions = (
        AstriaTuneDeletion.objects.filter(done_at__isnull=True)
        .order_by("updated_at")
        .values_list("tune_id", "title")[:batch]
    )
    for tune_id, title in deletions:
        enqueue_on_commit(tasks.astria_tune_delete, tune_id, title)
    return len(deletions)


def _purge_photos(now: datetime, batch: int) -> int:
    """Training photos PHOTOS_RETENTION_DAYS after training, or after failing untrained."""
    before = now - timedelta(days=settings.PHOTOS_RETENTION_DAYS)
    purge = (
        Avatar.objects.filter(photos_purged_at__isnull=True)
        .filter(Q(trained_at__lt=before) | Q(state=AvatarState.FAILED, trained_at__isnull=True, finished_at__lt=before))
        .order_by()
        .values_list("pk", flat=True)[:batch]
    )
    for avatar_id in purge:
        enqueue_on_commit(tasks.avatar_purge_photos, str(avatar_id))
    return len(purge)


def _delete_idle_drafts(batch: int) -> int:
    """Drafts left untouched for DRAFT_RETENTION_DAYS are deleted, photos and all."""
    idle = avatar_list_idle_drafts().order_by().values_list("pk", flat=True)[:batch]
    for avatar_id in idle:
        enqueue_on_commit(tasks.avatar_delete_idle_draft, str(avatar_id))
    return len(idle)


# --- Deletion and retention ----------------------------------------------------------------------


def astria_tune_delete(*, tune_id: int | None, title: str = "") -> None:
    """Delete a tune at Astria, after the prompts listed with it; a tune or prompt already gone,
    or no tune with the title, counts as deleted.

    A failed attempt is written down on the deletion (for the admin) and raised for a retry.
    """
    deletion = AstriaTuneDeletion.objects.filter(tune_id=tune_id, title=title, done_at__isnull=True).first()
    if deletion is None:
        return
    AstriaTuneDeletion.objects.filter(pk=deletion.pk).update(attempts=deletion.attempts + 1)
    try:
        _delete_at_astria(deletion)
    except Exception as exc:
        AstriaTuneDeletion.objects.filter(pk=deletion.pk, done_at__isnull=True).update(
            last_error=redact_text(f"{type(exc).__name__}: {exc}")[:500], updated_at=timezone.now()
        )
        raise
    AstriaTuneDeletion.objects.filter(pk=deletion.pk, done_at__isnull=True).update(
        done_at=timezone.now(), last_error="", updated_at=timezone.now()
    )


def _delete_at_astria(deletion: AstriaTuneDeletion) -> None:
    client = get_client()
    remaining = list(deletion.prompts)
    while remaining:
        base_tune_id, prompt_id = remaining[0]
        with contextlib.suppress(AstriaNotFound):  # already gone counts as deleted
            client.delete_prompt(base_tune_id, prompt_id)
        remaining.pop(0)
        AstriaTuneDeletion.objects.filter(pk=deletion.pk).update(prompts=remaining, updated_at=timezone.now())
    tune_id = deletion.tune_id
    if tune_id is None:
        tune = client.find_tune_by_title(deletion.title)
        tune_id = tune.id if tune else None
    if tune_id is not None:
        with contextlib.suppress(AstriaNotFound):
            client.delete_tune(tune_id)


def avatar_purge_photos(*, avatar_id: uuid.UUID | str) -> None:
    """Delete the training photos once the retention period has passed (the sweep decides when)."""
    with transaction.atomic():
        avatar = Avatar.objects.select_for_update().filter(pk=avatar_id, photos_purged_at__isnull=True).first()
        if avatar is None:
            return
        photo_delete_all_for_avatar(avatar=avatar)
        Avatar.objects.filter(pk=avatar.pk).update(photos_purged_at=timezone.now())
