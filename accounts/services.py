
from allauth.account.adapter import get_adapter
from allauth.account.internal.flows.email_verification import (
    add_email_verification_sent_message,
    handle_verification_email_rate_limit,
    send_verification_email_to_address,
)
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.login_limits import login_unlock
from accounts.models import Session, User
from accounts.tasks import user_send_welcome_email as user_send_welcome_email_task
from studio.avatars.services import avatar_delete
from studio.core.adminlog import admin_log_anonymise
from studio.core.tasks import enqueue_on_commit
from studio.credits.packs import price_story
from studio.credits.purchases import payment_events_scrub
from studio.credits.services import credit_reasons_neutralise, credit_signup_grant
from studio.teams.services import memberships_delete_for_user


def user_signup_complete(*, user: User) -> None:
    """Everything that follows a new sign-up; runs inside the sign-up transaction. The welcome
    email waits for the address to be confirmed (`user_email_confirmed`), unless nothing is."""
    credit_signup_grant(user=user)
    if settings.ACCOUNT_EMAIL_VERIFICATION == "none":
        enqueue_on_commit(user_send_welcome_email_task, user.pk)


def user_email_confirmed(*, user_id: int) -> None:
    """An address was confirmed: the first one brings the welcome email (a later address, added
    from the account page, does not)."""
    if EmailAddress.objects.filter(user_id=user_id, verified=True).count() == 1:
        enqueue_on_commit(user_send_welcome_email_task, user_id)


def user_send_welcome_email(*, user_id: int) -> None:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    context = {
        "user": user,
        "dashboard_url": settings.PUBLIC_URL + reverse("avatars:list"),
        "support_url": settings.PUBLIC_URL + reverse("support:contact"),
        "prices": price_story(),
        "photos_retention_days": settings.PHOTOS_RETENTION_DAYS,
        "min_photos": settings.PHOTOS_MIN_ACCEPTED,
        "max_photos": settings.PHOTOS_MAX_PER_AVATAR,
    }
    send_mail(
        subject="Welcome to Avatar Studio",
        message=render_to_string("accounts/email/welcome.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )


def signup_confirmation_resend(request, *, email: str, user_id: int | None) -> bool:
    """Send the sign-up confirmation again: to the account this browser created, or, where the
    address already had an account, the "you already have an account" email, as sign-up did.
    False when one went to the address too recently (allauth's limit), either way."""
    addresses = EmailAddress.objects.filter(user_id=user_id, email__iexact=email, verified=False)
    address = addresses.first() if user_id else None
    if address is not None:
        return send_verification_email_to_address(request, address, signup=True)
    if handle_verification_email_rate_limit(request, email):
        get_adapter().send_account_already_exists_mail(email)
        add_email_verification_sent_message(request, email, signup=True)  # as for a new account
        return True
    return False


DELETED_USER = "Account (deleted)"  # its name in the admin's history once deleted


def user_delete(*, user: User) -> None:
    """Delete everything the person gave us or we made for them, and close the account.

    Avatars go as their own delete takes them (photos, images, callback log, Astria tunes and
    prompts). The credit ledger and purchases are accounting records and stay, so the user row
    stays behind them, emptied: no address, no dates, no sessions; the ledger's reasons no longer
    name anything, the stored payment events keep no contact details, and the address's log-in
    counters are gone (what stays in the cache is hashed and expires). Only a hash of the
    normalised address remains, so the welcome credits are not given twice
    (credits.services.credit_signup_grant).
    """
    for avatar_id in list(user.avatars.values_list("pk", flat=True)):
        avatar_delete(user=user, avatar_id=avatar_id)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        login_unlock(email=user.email)
        Session.objects.filter(user_id=user.pk).delete()
        credit_reasons_neutralise(user=user)
        payment_events_scrub(user=user)
        memberships_delete_for_user(user=user)
        admin_log_anonymise(model=User, object_ids=[user.pk], text=DELETED_USER)
        EmailAddress.objects.filter(user=user).delete()
        user.groups.clear()
        user.user_permissions.clear()
        user.email = f"deleted-{user.pk}@deleted.invalid"
        user.is_active = False
        user.is_staff = False
        user.is_superuser = False
        user.last_login = None
        user.date_joined = timezone.now()  # required; when it closed says nothing of the person
        user.set_unusable_password()
        user.save()


def sessions_clear_expired() -> int:
    """Delete the sessions past their expiry (Django keeps them until asked); returns how many."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
