"""Celery wrappers of the pipeline services: ids in, one service call, retries declared here.

The services import this module; each task imports its service when it runs, so the two never
import each other while loading.
"""

import requests
from celery import shared_task

from studio.astria.errors import AstriaMaybeCreated, AstriaTransient

TRANSIENT = (AstriaTransient, requests.ConnectionError, requests.Timeout)
RETRY = {
    "autoretry_for": TRANSIENT,
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
    "acks_late": True,
    "reject_on_worker_lost": True,
}


def _submit_gave_up(self, exc, task_id, args, kwargs, einfo) -> None:
    from studio.avatars import submission

    submission.avatar_submit_gave_up(avatar_id=args[0], exc=exc)


@shared_task(bind=True, on_failure=_submit_gave_up, soft_time_limit=120, time_limit=150, **RETRY)
def avatar_submit(self, avatar_id: str) -> None:
    from studio.avatars import submission

    try:
        submission.avatar_submit(avatar_id=avatar_id)
    except AstriaMaybeCreated as exc:
        # Astria says a 504 usually means "created anyway": look again in a minute, never sooner.
        raise self.retry(exc=exc, countdown=60) from exc


@shared_task(**RETRY, soft_time_limit=120, time_limit=150)
def avatar_submit_prompts(avatar_id: str) -> None:
    from studio.avatars import submission

    submission.avatar_submit_prompts(avatar_id=avatar_id)


@shared_task(**RETRY)
def avatar_sync_tune(avatar_id: str) -> None:
    from studio.avatars import progress

    progress.avatar_sync_tune(avatar_id=avatar_id)


def _prompt_gave_up(self, exc, task_id, args, kwargs, einfo) -> None:
    from studio.avatars import progress

    progress.prompt_sync_gave_up(prompt_id=args[0], exc=exc)


@shared_task(bind=True, on_failure=_prompt_gave_up, soft_time_limit=240, time_limit=300, **RETRY)
def prompt_sync(self, prompt_id: int) -> None:
    from studio.avatars import progress

    progress.prompt_sync(prompt_id=prompt_id)


@shared_task(**RETRY, soft_time_limit=540, time_limit=600)
def avatar_sync_prompts(avatar_id: str) -> None:
    from studio.avatars import progress

    progress.avatar_sync_prompts(avatar_id=avatar_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def avatar_check_finished(avatar_id: str) -> None:
    from studio.avatars import progress

    progress.avatar_check_finished(avatar_id=avatar_id)


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def avatar_reconcile() -> dict:
    from studio.avatars import reconcile

    return reconcile.avatar_reconcile()


@shared_task(**RETRY)
def astria_tune_delete(tune_id: int | None, title: str = "") -> None:
    from studio.avatars import reconcile

    reconcile.astria_tune_delete(tune_id=tune_id, title=title)


@shared_task(acks_late=True)
def avatar_purge_photos(avatar_id: str) -> None:
    from studio.avatars import reconcile

    reconcile.avatar_purge_photos(avatar_id=avatar_id)


@shared_task(acks_late=True)
def avatar_delete_idle_draft(avatar_id: str) -> None:
    from studio.avatars import services

    services.avatar_delete_idle_draft(avatar_id=avatar_id)


@shared_task(acks_late=True, soft_time_limit=3000, time_limit=3600)
def media_sweep_orphans() -> dict:
    from studio.avatars import media_sweep

    return media_sweep.media_sweep_orphans()


@shared_task(**RETRY)
def prompt_sync_like(prompt_id: int) -> None:
    from studio.avatars import services

    services.prompt_sync_like(prompt_id=prompt_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=10, retry_jitter=True, max_retries=6)
def avatar_send_ready_email(avatar_id: str) -> None:
    from studio.avatars import emails

    emails.avatar_send_ready_email(avatar_id=avatar_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=10, retry_jitter=True, max_retries=6)
def avatar_send_failed_email(avatar_id: str) -> None:
    from studio.avatars import emails

    emails.avatar_send_failed_email(avatar_id=avatar_id)


def _export_gave_up(self, exc, task_id, args, kwargs, einfo) -> None:
    from studio.avatars import exports

    exports.export_fail(export_id=args[0])


@shared_task(bind=True, on_failure=_export_gave_up, acks_late=True, soft_time_limit=240, time_limit=300)
def export_build(self, export_id: str) -> None:
    from studio.avatars import exports

    exports.export_build(export_id=export_id)
