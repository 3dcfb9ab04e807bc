"""Refunds and disputes (chargebacks) of Stripe payments, recorded on the purchase they paid for.

Staff see them on the dashboard with what the buyer has left; the credits stay where they are
until staff decide to take them back (`purchase_take_back`, the purchases list's action): what
the refunded money paid for, or the whole pack once a dispute is lost, as far as the wallet
still holds them. A payment is known by Stripe's PaymentIntent, which the purchase keeps when it
is paid (those paid before took theirs from their checkout event, in migration credits/0010).
"""

import logging
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from studio.core.tasks import enqueue_on_commit
from studio.credits.models import CreditPurchase, PurchaseRefund
from studio.credits.selectors import credit_balance, credit_pool_balance
from studio.credits.services import credit_adjust
from studio.credits.tasks import purchase_send_taken_back_email

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
    if event_type in STRIPE_REFUND_EVENTS:
        refunded = payment.get("amount_refunded")
        if type(refunded) is not int:
            logger.warning("Stripe event %s (%s) carries no refunded amount; ignored", event_id, event_type)
            return False
        changed = _refund_record(purchase_id=purchase.pk, refunded=refunded, now=now)
    else:
        status = payment.get("status")
        if not isinstance(status, str) or not status:
            logger.warning("Stripe event %s (%s) carries no dispute status; ignored", event_id, event_type)
            return False
        purchases = CreditPurchase.objects.filter(pk=purchase.pk)
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


def _refund_record(*, purchase_id: uuid.UUID, refunded: int, now: datetime) -> bool:
    """Stripe's running total of what was refunded: its increase over what the purchase shows is
    recorded as a refund on its day; an older total changes nothing."""
    with transaction.atomic():
        purchase = CreditPurchase.objects.select_for_update().get(pk=purchase_id)
        before = purchase.refunded_amount
        if refunded <= before:
            return False
        PurchaseRefund.objects.create(
            purchase=purchase, amount=refunded - before, currency=purchase.currency, refunded_at=now,
            price_share=purchase.price_share(refunded) - purchase.price_share(before),
        )
        CreditPurchase.objects.filter(pk=purchase_id).update(refunded_amount=refunded, reversed_at=now, updated_at=now)
    return True


def _purchase_paid_by(payment_intent: Any) -> CreditPurchase | None:
    if not isinstance(payment_intent, str) or not payment_intent:
        return None
    return CreditPurchase.objects.filter(
        provider=CreditPurchase.Provider.STRIPE, payment_intent_id=payment_intent
    ).first()


class TakeBack(NamedTuple):
    taken: int  # credits this call took from the wallet
    due: int  # credits the refund or the lost dispute called for, not yet taken back, before it


def purchase_take_back(*, purchase_id: uuid.UUID | str, staff: User) -> TakeBack:
    """Staff decided to take back the credits a refund or a lost dispute of this purchase paid
    for: from the wallet that got them (the buyer's, or the team pool's), as many as it still
    holds, with a line in its history, and the buyer is told by email. Once taken, a second call
    takes nothing; a later refund of more can be taken back in turn."""
    with transaction.atomic():
        purchase = CreditPurchase.objects.select_related("user", "pool").get(pk=purchase_id)
        due = purchase.take_back_due
        holder = {"pool": purchase.pool} if purchase.pool_id else {"user": purchase.user}
        balance = credit_pool_balance(pool=purchase.pool) if purchase.pool_id else credit_balance(user=purchase.user)
        amount = min(due, balance)
        if amount <= 0:
            return TakeBack(0, due)
        claimed = CreditPurchase.objects.filter(pk=purchase.pk, taken_back=purchase.taken_back).update(
            taken_back=F("taken_back") + amount, updated_at=timezone.now()
        )
        if not claimed:  # taken back by someone else meanwhile
            return TakeBack(0, due)
        why = "disputed" if purchase.dispute_status == "lost" else "refunded"
        credit_adjust(
            **holder, amount=-amount, staff_user=staff, reference=purchase.ledger_key,
            reason=f"Payment {why} ({purchase.pack_name} pack)", key=f"takeback:{purchase.pk}:{purchase.taken_back}",
        )
        enqueue_on_commit(purchase_send_taken_back_email, str(purchase.pk), amount)
    logger.info("Purchase %s: %s of %s credits taken back by staff %s", purchase.pk, amount, due, staff.pk)
    return TakeBack(amount, due)
