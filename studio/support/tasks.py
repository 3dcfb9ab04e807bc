from celery import shared_task


@shared_task(
    autoretry_for=(OSError,),  # SMTP and socket errors are transient
    retry_backoff=10,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=6,
)
def support_request_send(request_id: int) -> None:
    from studio.support import services

    services.support_request_send(request_id=request_id)
