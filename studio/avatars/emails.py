"""The emails an avatar's owner gets: its images are ready, or it failed and was refunded."""

import uuid

from django.conf import settings
from django.urls import reverse

from studio.avatars.models import Avatar, LikenessOutcome, PromptState
from studio.core.mail import mail_send


def _send_avatar_email(*, avatar_id: uuid.UUID | str, subject: str, template: str) -> None:
    avatar = Avatar.objects.select_related("user").filter(pk=avatar_id).first()
    if avatar is None or not avatar.user.is_active:
        return
    context = {
        "avatar": avatar,
        "gallery_url": settings.PUBLIC_URL + reverse("avatars:detail", args=[avatar.pk]),
        "images": avatar.images.count(),
        "failed_prompts": avatar.prompts.filter(state=PromptState.FAILED, redo_of=None),
        "unlike_prompts": avatar.prompts.filter(likeness_outcome=LikenessOutcome.REFUNDED),
        "photos_retention_days": settings.PHOTOS_RETENTION_DAYS,
    }
    mail_send(to=[avatar.user.email], subject=subject.format(name=avatar.name), template=template, context=context)


def avatar_send_ready_email(*, avatar_id: uuid.UUID | str) -> None:
    _send_avatar_email(
        avatar_id=avatar_id, subject="Your avatars of {name} are ready", template="avatars/email/ready.txt"
    )


def avatar_send_failed_email(*, avatar_id: uuid.UUID | str) -> None:
    _send_avatar_email(
        avatar_id=avatar_id,
        subject="We could not make your avatars of {name}: credits refunded",
        template="avatars/email/failed.txt",
    )
