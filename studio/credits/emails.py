"""The emails a buyer gets about a payment staff have to look at: taken, but under review; then
accepted, with the credits added; and, after a refund or a lost dispute, the credits taken back."""

import uuid

from django.conf import settings
from django.urls import reverse

from studio.core.mail import mail_send
from studio.credits.models import CreditPurchase


def _send_purchase_email(
    *, purchase_id: uuid.UUID | str, status: str, subject: str, template: str, **context
) -> None:
    purchase = CreditPurchase.objects.select_related("user", "pool").filter(pk=purchase_id, status=status).first()
    if purchase is None or not purchase.user.is_active:
        return  # moved on meanwhile (granted, refunded) or the account is closed
    context |= {"purchase": purchase, "history_url": settings.PUBLIC_URL + reverse("credits:history")}
    mail_send(to=[purchase.user.email], subject=subject, template=template, context=context)


def purchase_send_review_email(*, purchase_id: uuid.UUID | str) -> None:
    _send_purchase_email(
        purchase_id=purchase_id, status=CreditPurchase.Status.REFUSED, subject="Your payment is being reviewed",
        template="credits/email/under_review.txt",
    )


def purchase_send_granted_email(*, purchase_id: uuid.UUID | str) -> None:
    _send_purchase_email(
        purchase_id=purchase_id, status=CreditPurchase.Status.PAID, subject="Your credits are in your account",
        template="credits/email/granted.txt",
    )


def purchase_send_taken_back_email(*, purchase_id: uuid.UUID | str, amount: int) -> None:
    _send_purchase_email(
        purchase_id=purchase_id, status=CreditPurchase.Status.PAID,
        subject="Credits taken back for a payment returned to you", template="credits/email/taken_back.txt",
        amount=amount,
    )
