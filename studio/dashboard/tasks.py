from celery import shared_task


@shared_task(acks_late=True, soft_time_limit=540, time_limit=600)
def dashboard_rollup() -> dict:
    from studio.dashboard import rollups

    return rollups.rollup_refresh()
