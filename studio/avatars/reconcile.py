"""The reconciler, run by beat every RECONCILE_INTERVAL: it finishes what callbacks missed and what
crashes interrupted, one named sweep each, and carries out the deletions and purges that retention
asks for. Every sweep is safe to run at any time and any number of times.
"""

import contextlib
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from studio.astria.client import get_client
from studio.astria.errors import AstriaNotFound
from studio.avatars import likeness, tasks
from studio.avatars.exports import export_purge_expired
from studio.avatars.models import IN_FLIGHT, AstriaTuneDeletion, Avatar, AvatarState, Prompt, PromptState
from studio.avatars.selectors import avatar_list_idle_drafts
from studio.avatars.services import avatar_fail, prompt_fail
from studio.core.redaction import redact_text
from studio.core.tasks import enqueue_on_commit
from studio.photos.services import photo_delete_all_for_avatar


def avatar_reconcile() -> dict[str, int]:
    """Run every sweep once; returns how many objects each one acted on."""
    now = timezone.now()
    return {
        "resubmitted": _resubmit_lost(now),
        "timed_out": _fail_overdue_tunes(now),
        "tunes_polled": _poll_overdue_tunes(now),
        "prompts_resubmitted": _resubmit_prompts(now),
        "prompts_timed_out": _fail_overdue_prompts(now),
        "prompts_polled": _poll_prompts(now),
        "finished": _finish_complete(),
        "deletions": _retry_tune_deletions(),
        "photo_purges": _purge_photos(now),
        "drafts_deleted": _delete_idle_drafts(),
        "exports_purged": export_purge_expired(),
        "identities_forgotten": likeness.avatar_forget_identities(now),
    }


def _resubmit_lost(now: datetime) -> int:
    """Queued for a while with no submit attempt lately: its message was lost, or its task gave up
    on an Astria that kept failing (a submit that is retrying counts as an attempt when it starts,
    so this adds no second chain to it)."""
    grace = now - timedelta(seconds=settings.RECONCILE_QUEUED_GRACE)
    queued = Avatar.objects.filter(state=AvatarState.QUEUED, queued_at__lt=grace, updated_at__lt=grace).values_list(
        "pk", flat=True
    )
    for avatar_id in queued:
        enqueue_on_commit(tasks.avatar_submit, str(avatar_id))
    return len(queued)


def _fail_overdue_tunes(now: datetime) -> int:
    give_up = now - timedelta(seconds=settings.AVATAR_GIVE_UP_AFTER)
    stuck = list(
        Avatar.objects.filter(state__in=[AvatarState.SUBMITTED, AvatarState.TRAINING], submitted_at__lt=give_up)
        .values_list("pk", flat=True)
    )
    for avatar_id in stuck:
        avatar_fail(avatar_id=avatar_id, reason="Training did not finish in time.")
    return len(stuck)


def _poll_overdue_tunes(now: datetime) -> int:
    """Tunes past their ETA (or without one) not asked about for RECONCILE_POLL_INTERVAL."""
    poll_before = now - timedelta(seconds=settings.RECONCILE_POLL_INTERVAL)
    tunes = Avatar.objects.filter(state__in=[AvatarState.SUBMITTED, AvatarState.TRAINING]).filter(
        Q(tune_eta__isnull=True) | Q(tune_eta__lt=now)
    ).filter(Q(last_polled_at__isnull=True) | Q(last_polled_at__lt=poll_before)).values_list("pk", flat=True)
    for avatar_id in tunes:
        enqueue_on_commit(tasks.avatar_sync_tune, str(avatar_id))
    return len(tunes)


def _resubmit_prompts(now: datetime) -> int:
    """Avatars whose prompts are still waiting to be created at Astria after the grace period."""
    unsent = (
        Prompt.objects.filter(state=PromptState.PENDING, avatar__state__in=IN_FLIGHT)
        .filter(created_at__lt=now - timedelta(seconds=settings.RECONCILE_QUEUED_GRACE))
        .values_list("avatar_id", flat=True)
        .distinct()
    )
    for avatar_id in unsent:
        enqueue_on_commit(tasks.avatar_submit_prompts, str(avatar_id))
    return len(unsent)


def _fail_overdue_prompts(now: datetime) -> int:
    overdue = list(
        Prompt.objects.filter(
            state__in=[PromptState.PENDING, PromptState.SUBMITTED],
            avatar__state=AvatarState.GENERATING,
            avatar__trained_at__lt=now - timedelta(seconds=settings.PROMPT_GIVE_UP_AFTER),
        ).values_list("pk", flat=True)
    )
    for prompt_id in overdue:
        prompt_fail(prompt_id=prompt_id, reason="The images did not arrive in time.")
    return len(overdue)


def _poll_prompts(now: datetime) -> int:
    """Submitted prompts of trained tunes not asked about for RECONCILE_POLL_INTERVAL."""
    poll_before = now - timedelta(seconds=settings.RECONCILE_POLL_INTERVAL)
    prompts = Prompt.objects.filter(
        state=PromptState.SUBMITTED,
        avatar__state=AvatarState.GENERATING,  # a prompt cannot finish before its tune is trained
        submitted_at__lt=now - timedelta(seconds=settings.RECONCILE_PROMPT_POLL_AFTER),
    ).filter(Q(last_polled_at__isnull=True) | Q(last_polled_at__lt=poll_before)).values_list("pk", flat=True)
    for prompt_id in prompts:
        enqueue_on_commit(tasks.prompt_sync, prompt_id)
    return len(prompts)


def _finish_complete() -> int:
    """Generating avatars with every prompt finished, whose own check was lost."""
    finished = (
        Avatar.objects.filter(state=AvatarState.GENERATING)
        .exclude(prompts__state__in=[PromptState.PENDING, PromptState.SUBMITTED])
        .values_list("pk", flat=True)
    )
    for avatar_id in finished:
        enqueue_on_commit(tasks.avatar_check_finished, str(avatar_id))
    return len(finished)


def _retry_tune_deletions() -> int:
    deletions = AstriaTuneDeletion.objects.filter(done_at__isnull=True).values_list("tune_id", "title")
    for tune_id, title in deletions:
        enqueue_on_commit(tasks.astria_tune_delete, tune_id, title)
    return len(deletions)


def _purge_photos(now: datetime) -> int:
    """Training photos PHOTOS_RETENTION_DAYS after training, or after failing untrained."""
    before = now - timedelta(days=settings.PHOTOS_RETENTION_DAYS)
    purge = Avatar.objects.filter(photos_purged_at__isnull=True).filter(
        Q(trained_at__lt=before) | Q(state=AvatarState.FAILED, trained_at__isnull=True, finished_at__lt=before)
    ).values_list("pk", flat=True)
    for avatar_id in purge:
        enqueue_on_commit(tasks.avatar_purge_photos, str(avatar_id))
    return len(purge)


def _delete_idle_drafts() -> int:
    """Drafts left untouched for DRAFT_RETENTION_DAYS are deleted, photos and all."""
    idle = avatar_list_idle_drafts().values_list("pk", flat=True)
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
