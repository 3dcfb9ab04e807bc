from celery import shared_task

from studio.core.tasks import EMAIL_TASK


@shared_task(**EMAIL_TASK)
def support_request_send(request_id: int) -> None:
    from studio.support import services

    services.support_request_send(request_id=request_id)
