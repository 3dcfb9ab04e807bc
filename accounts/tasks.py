from celery import shared_task

from studio.core.tasks import EMAIL_TASK


@shared_task(**EMAIL_TASK)
def user_send_welcome_email(user_id: int) -> None:
    from accounts import services

    services.user_send_welcome_email(user_id=user_id)


@shared_task
def sessions_clear_expired() -> None:
    from accounts import services

    services.sessions_clear_expired()
