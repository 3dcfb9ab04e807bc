"""Writes for support: a contact-form message goes to SUPPORT_EMAIL, then is forgotten here."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string

from studio.core.tasks import enqueue_on_commit
from studio.support.models import SupportRequest
from studio.support.tasks import support_request_send as support_request_send_task


@transaction.atomic
def support_request_create(*, user, email: str, topic: str, message: str) -> SupportRequest:
    """Record the message and send it to the support inbox once this commits."""
    request = SupportRequest.objects.create(
        user=user if user is not None and user.is_authenticated else None,
        email=email,
        topic=topic,
        message=message,
    )
    enqueue_on_commit(support_request_send_task, request.pk)
    return request


def support_request_send(*, request_id: int) -> None:
    """Email the message to SUPPORT_EMAIL (replies go to the customer), then delete it here: the
    inbox is its only copy. A send that fails is retried by the task; the row stays until one works."""
    request = SupportRequest.objects.select_related("user").filter(pk=request_id).first()
    if request is None:
        return
    context = {"request": request, "account": request.user if request.user and request.user.is_active else None}
    message = EmailMessage(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}Support: {request.get_topic_display()}",
        body=render_to_string("support/email/request.txt", context),
        to=[settings.SUPPORT_EMAIL],
        reply_to=[request.email],
    )
    message.send()
    SupportRequest.objects.filter(pk=request.pk).delete()
