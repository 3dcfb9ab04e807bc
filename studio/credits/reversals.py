"""Refunds and disputes (chargebacks) of Stripe payments, recorded on the purchase they paid for.

Staff see them on the dashboard with what the buyer has left; the credits stay where they are
until staff decide what to take back (the admin's "Grant or adjust credits" on the buyer's wallet,
or the team pool's). A payment is known by Stripe's PaymentIntent, which the purchase keeps when
it is paid; one paid before it was kept is found through its recorded checkout event.
"""

import logging
from collections.abc import Mapping
from typing import Any

from django.utils import timezone

from studio.credits.models import CreditPurchase, PaymentEvent

logger = logging.getLogger(__name__)

STRIPE_REFUND_EVENTS = frozenset({"charge.refunded"})
STRIPE_DISPUTE_EVENTS = frozenset({"charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed"})
# A dispute that ended stays ended, whatever older news arrives after it.
DISPUTE_ENDED = frozenset({"won", "lost", "warning_closed", "prevented"})


def stripe_reversal_record(*, event_type: str, payment: Mapping[str, Any], event_id: str) -> bool:
    """A refund (`payment`: the Charge) or a dispute (the Dispute) of one of our payments: the
    purchase it paid for is marked with the amount refunded so far or the dispute's status. Older
    news than the purchase already shows changes nothing. True if the purchase changed."""
    purchase = _purchase_paid_by(payment.get("payment_intent"))
    if purchase is None:
        logger.warning("Stripe event %s (%s) names no payment of ours; ignored", event_id, event_type)
        return False
    now = timezone.now()
    purchases = CreditPurchase.objects.filter(pk=purchase.pk)
    if event_type in STRIPE_REFUND_EVENTS:
        refunded = payment.get("amount_refunded")
        if type(refunded) is not int:
            logger.warning("Stripe event %s (%s) carries no refunded amount; ignored", event_id, event_type)
            return False
        changed = purchases.filter(refunded_amount__lt=refunded).update(
            refunded_amount=refunded, reversed_at=now, updated_at=now
        )
    else:
        status = payment.get("status")
        if not isinstance(status, str) or not status:
            logger.warning("Stripe event %s (%s) carries no dispute status; ignored", event_id, event_type)
            return False
        if status not in DISPUTE_ENDED:
            purchases = purchases.exclude(dispute_status__in=DISPUTE_ENDED)
        field = CreditPurchase._meta.get_field("dispute_status")
        changed = purchases.exclude(dispute_status=status).update(
            dispute_status=status[: field.max_length], reversed_at=now, updated_at=now
        )
    if changed:
        logger.warning("Purchase %s (%s credits for %s): %s at Stripe", purchase.pk, purchase.credits,
                       purchase.user_id, event_type)
    return bool(changed)


def _purchase_paid_by(payment_intent: Any) -> CreditPurchase | None:
    if not isinstance(payment_intent, str) or not payment_intent:
        return None
    stripe_purchases = CreditPurchase.objects.filter(provider=CreditPurchase.Provider.STRIPE)
    purchase = stripe_purchases.filter(payment_intent_id=payment_intent).first()
    if purchase is not None:
        return purchase
    checkout = (
        PaymentEvent.objects.filter(
            provider=CreditPurchase.Provider.STRIPE, type__startswith="checkout.session.",
            payload__data__object__payment_intent=payment_intent,
        )
        .values_list("payload__data__object__id", flat=True)
        .first()
    )
    if not isinstance(checkout, str) or not checkout:
        return None
    stripe_purchases.filter(provider_session_id=checkout, payment_intent_id="").update(
        payment_intent_id=payment_intent
    )
    return stripe_purchases.filter(provider_session_id=checkout).first()
