from celery import shared_task


def _process_gave_up(self, exc, task_id, args, kwargs, einfo) -> None:
    """An unexpected error or a time limit: the photo is refused with an apology, not left spinning."""
    from studio.photos import services

    services.photo_fail(photo_id=args[0] if args else kwargs["photo_id"])


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,  # a worker killed by a pathological image: retried, attempts capped
    soft_time_limit=60,
    time_limit=90,
    on_failure=_process_gave_up,
)
def photo_process(photo_id: str) -> None:
    from studio.photos import services

    services.photo_process(photo_id=photo_id)


@shared_task(soft_time_limit=60, time_limit=90)
def photo_sweep() -> None:
    from studio.photos import services

    services.photo_sweep()
