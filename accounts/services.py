from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import User
from accounts.tasks import user_send_welcome_email as user_send_welcome_email_task
from studio.avatars.services import avatar_delete
from studio.core.tasks import enqueue_on_commit
from studio.credits.services import credit_signup_grant


def user_signup_complete(*, user: User) -> None:
    """Everything that follows a new sign-up; runs inside the sign-up transaction."""
    credit_signup_grant(user=user)
    enqueue_on_commit(user_send_welcome_email_task, user.pk)


def user_send_welcome_email(*, user_id: int) -> None:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    context = {"user": user, "dashboard_url": settings.PUBLIC_URL + reverse("avatars:list")}
    send_mail(
        subject="Welcome to Avatar Studio",
        message=render_to_string("accounts/email/welcome.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )


def user_delete_account(*, user: User) -> None:
    """Delete everything the person gave us or we made for them, and close the account.

    Avatars go with their photos, images and Astria tunes. The credit ledger is an accounting
    record and cannot change, so the user row stays behind it, emptied of personal data.
    """
    for avatar_id in list(user.avatars.values_list("pk", flat=True)):
        avatar_delete(user=user, avatar_id=avatar_id)
    with transaction.atomic():
        EmailAddress.objects.filter(user=user).delete()
        user.email = f"deleted-{user.pk}@deleted.invalid"
        user.is_active = False
        user.is_staff = False
        user.is_superuser = False
        user.set_unusable_password()  # also ends every other session: their hash no longer matches
        user.save()
