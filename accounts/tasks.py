from celery import shared_task


@shared_task(
    autoretry_for=(OSError,),  # SMTP and socket errors are transient
    retry_backoff=10,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=6,
)
def user_send_welcome_email(user_id: int) -> None:
    from accounts import services

    services.user_send_welcome_email(user_id=user_id)


@shared_task
def sessions_clear_expired() -> None:
    from accounts import services

    services.sessions_clear_expired()
