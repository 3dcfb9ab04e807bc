"""Buying credits: checkouts (Stripe, or the local test checkout), their completion, the payment
events that complete them, and the sweep that asks Stripe about checkouts whose event never came.

Every path ends in `purchase_complete`, which grants a purchase's credits once (ledger key
`purchase:<id>`); each provider event is recorded once by its id.
"""

import datetime
import logging
import uuid
from collections.abc import Mapping
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from studio.core.exceptions import ApplicationError
from studio.core.tasks import enqueue_on_commit
from studio.credits.exceptions import CheckoutUnavailable, PackNotOnSale
from studio.credits.models import CreditPool, CreditPurchase, EntryKind, PaymentEvent
from studio.credits.packs import credit_pack_get, money
from studio.credits.reversals import STRIPE_DISPUTE_EVENTS, STRIPE_REFUND_EVENTS, stripe_reversal_record
from studio.credits.services import credit_grant
from studio.credits.tasks import purchase_reconcile as purchase_reconcile_task
from studio.credits.tasks import purchase_send_granted_email as purchase_send_granted_email_task
from studio.credits.tasks import purchase_send_review_email as purchase_send_review_email_task

logger = logging.getLogger(__name__)

RECONCILE_AFTER = datetime.timedelta(minutes=10)  # Stripe's webhook normally arrives within seconds
RECONCILE_UNTIL = datetime.timedelta(days=1)  # Checkout Sessions expire after 24 hours


# --- Purchases --------------------------------------------------------------------------------


def _stripe_client() -> stripe.StripeClient:
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT),
        max_network_retries=2,  # safe: every create carries an idempotency key
    )


def uses_test_checkout() -> bool:
    """Whether purchases go through the local test checkout, which takes no money: only without a
    Stripe key, and only in development or where ALLOW_TEST_CHECKOUT says so."""
    return not settings.STRIPE_SECRET_KEY and settings.ALLOW_TEST_CHECKOUT


def purchases_open() -> bool:
    """Whether credits can be bought at all: with Stripe, or with the allowed test checkout."""
    return bool(settings.STRIPE_SECRET_KEY) or uses_test_checkout()


def purchase_start(*, user: User, pack_slug: str, pool: CreditPool | None = None) -> str:
    """Opens a checkout for a pack and returns the URL to send the browser to.

    With `pool`, the user buys the credits for that shared pool (an organisation's, checked by the
    caller): the same checkout, and the pool gets the credits.

    With STRIPE_SECRET_KEY: a Stripe Checkout Session (the purchase id in client_reference_id and
    metadata). Without it: the local test checkout page, which takes no money, when it is allowed;
    otherwise nothing is sold (`manage.py check --deploy` says why). Raises PackNotOnSale for a
    pack that is not on sale, CheckoutUnavailable when no checkout can be opened (nothing charged).
    """
    if not purchases_open():
        logger.error("A purchase was refused: STRIPE_SECRET_KEY is not set and the test checkout is not allowed")
        raise CheckoutUnavailable(
            "Buying credits is not available right now. Nothing was charged; please try again later."
        )
    pack = credit_pack_get(pack_slug)
    if pack is None:
        raise PackNotOnSale("That credit pack is not on sale. Please pick one of the packs below.")
    uses_stripe = bool(settings.STRIPE_SECRET_KEY)
    purchase = CreditPurchase.objects.create(
        user=user,
        pool=pool,
        pack_slug=pack.slug,
        pack_name=pack.name,
        credits=pack.credits,
        price=pack.price,
        currency=pack.currency,
        provider=CreditPurchase.Provider.STRIPE if uses_stripe else CreditPurchase.Provider.TEST,
    )
    if not uses_stripe:
        return reverse("credits:checkout", args=[purchase.pk])

    purchase_url = settings.PUBLIC_URL + reverse("credits:purchase", args=[purchase.pk])
    try:
        session = _stripe_client().v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "client_reference_id": str(purchase.pk),
                "customer_email": user.email,
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": pack.currency,
                            "unit_amount": pack.price,
                            "product_data": {"name": f"{pack.credits} Avatar Studio credits ({pack.name})"},
                        },
                    }
                ],
                "metadata": {"purchase_id": str(purchase.pk), "pack": pack.slug, "user_id": str(user.pk)},
                "payment_intent_data": {"metadata": {"purchase_id": str(purchase.pk)}},
                "success_url": purchase_url,
                "cancel_url": settings.PUBLIC_URL + reverse("credits:purchase_cancelled", args=[purchase.pk]),
            },
            options={"idempotency_key": f"checkout:{purchase.pk}"},
        )
    except stripe.StripeError:
        logger.exception("Stripe refused or did not answer a checkout for purchase %s", purchase.pk)
        raise CheckoutUnavailable(
            "The payment page could not be opened. Nothing was charged; please try again in a minute."
        ) from None
    CreditPurchase.objects.filter(pk=purchase.pk, provider_session_id="").update(
        provider_session_id=session.id, updated_at=timezone.now()
    )
    return session.url


def purchase_complete(
    *, purchase_id: uuid.UUID | str, event_id: str, session_id: str = "", payment_intent_id: str = "",
    amount_paid: int | None = None,
) -> bool:
    """Marks a purchase paid and grants its credits: exactly once, whatever the retries or order.

    True if this call granted the credits, False if the purchase was already paid (or is unknown,
    or the session id is not the one stored for it when Stripe opened its checkout). The payment
    (Stripe's PaymentIntent) is kept, as its refunds and disputes name it, with what it came to
    (`amount_paid`, tax included).
    """
    with transaction.atomic():
        purchase = CreditPurchase.objects.select_related("user", "pool").filter(pk=purchase_id).first()
        if purchase is None:
            logger.warning("Payment %s names an unknown purchase %s; nothing granted", event_id, purchase_id)
            return False
        if session_id and purchase.provider_session_id != session_id:
            logger.error(
                "Payment %s for purchase %s comes from session %s, not %r; nothing granted",
                event_id, purchase.pk, session_id, purchase.provider_session_id,
            )
            return False
        claimed = (
            CreditPurchase.objects.filter(pk=purchase.pk)
            .exclude(status=CreditPurchase.Status.PAID)
            .update(
                status=CreditPurchase.Status.PAID,
                paid_at=timezone.now(),
                paid_event_id=event_id,
                updated_at=timezone.now(),
                **({"payment_intent_id": payment_intent_id} if payment_intent_id else {}),
                **({"amount_paid": amount_paid} if amount_paid is not None else {}),
            )
        )
        if not claimed:
            return False
        credit_grant(
            user=purchase.user,
            pool=purchase.pool,
            amount=purchase.credits,
            key=purchase.ledger_key,
            reason=f"Bought {purchase.credits} credits ({purchase.pack_name} pack)",
            reference=f"purchase:{purchase.pk}",
            kind=EntryKind.PURCHASE,
        )
    return True


def purchase_pay_test(*, user: User, purchase_id: uuid.UUID | str) -> bool:
    """The "Pay (test)" button of the local test checkout: completes through the same grant path.

    Refused when Stripe is configured or the test checkout is not allowed, and for purchases that
    were opened with Stripe.
    """
    if not uses_test_checkout():
        raise ApplicationError("The test checkout is switched off.")
    purchase = CreditPurchase.objects.filter(pk=purchase_id, user=user).first()
    if purchase is None or purchase.provider != CreditPurchase.Provider.TEST:
        raise ApplicationError("This purchase cannot be paid with the test checkout.")
    return purchase_complete(purchase_id=purchase.pk, event_id=f"test:{purchase.pk}")


def purchase_expire(*, purchase_id: uuid.UUID | str) -> bool:
    """An abandoned checkout: pending becomes expired. A later payment still completes it."""
    return bool(
        CreditPurchase.objects.filter(pk=purchase_id, status=CreditPurchase.Status.PENDING).update(
            status=CreditPurchase.Status.EXPIRED, updated_at=timezone.now()
        )
    )


def purchase_cancel(*, user, purchase_id: uuid.UUID | str) -> bool:
    """The customer left the checkout ("cancel" at Stripe or on the test checkout): an unpaid
    purchase is called cancelled. A later payment of the same checkout still completes it."""
    return bool(
        CreditPurchase.objects.filter(pk=purchase_id, user=user, status=CreditPurchase.Status.PENDING).update(
            status=CreditPurchase.Status.CANCELLED, updated_at=timezone.now()
        )
    )


def purchase_reconcile(*, purchase_id: uuid.UUID | str) -> bool:
    """Asks Stripe about an unpaid checkout, in case its webhook was lost; completes it if paid.

    A purchase whose session id was never stored (the process stopped between opening the
    checkout at Stripe and saving its id) has its session looked up at Stripe by the purchase id
    it carries, and the id stored. True if this call granted the credits. Network errors
    propagate (the task retries them).
    """
    purchase = (
        CreditPurchase.objects.filter(pk=purchase_id, provider=CreditPurchase.Provider.STRIPE)
        .exclude(status__in=[CreditPurchase.Status.PAID, CreditPurchase.Status.REFUSED])
        .first()
    )
    if purchase is None or not settings.STRIPE_SECRET_KEY:
        return False
    client = _stripe_client()
    if purchase.provider_session_id:
        session = client.v1.checkout.sessions.retrieve(purchase.provider_session_id).to_dict()
    else:
        session = _checkout_session_find(client, purchase=purchase)
        if session is None:
            return False
        CreditPurchase.objects.filter(pk=purchase.pk, provider_session_id="").update(
            provider_session_id=session["id"], updated_at=timezone.now()
        )
        purchase.refresh_from_db()
    if session.get("payment_status") == "paid":
        return _checkout_paid(purchase=purchase, session=session, event_id=f"reconcile:{session['id']}")
    if session.get("status") == "expired":
        purchase_expire(purchase_id=purchase.pk)
    return False


# Stripe creates the session within seconds of the purchase (retries included); the margins
# cover clocks that disagree.
_SESSION_FIND_BEFORE = datetime.timedelta(minutes=5)
_SESSION_FIND_AFTER = datetime.timedelta(hours=1)


def _checkout_session_find(client: stripe.StripeClient, *, purchase: CreditPurchase) -> dict[str, Any] | None:
    """The Checkout Session opened for the purchase (its client_reference_id), among those Stripe
    created around the purchase's creation; None when Stripe has none."""
    created = {
        "gte": int((purchase.created_at - _SESSION_FIND_BEFORE).timestamp()),
        "lte": int((purchase.created_at + _SESSION_FIND_AFTER).timestamp()),
    }
    sessions = client.v1.checkout.sessions.list(params={"created": created, "limit": 100})
    for session in sessions.auto_paging_iter():
        if (found := session.to_dict()).get("client_reference_id") == str(purchase.pk):
            return found
    return None


def _session_mismatch(*, purchase: CreditPurchase, session: Mapping[str, Any]) -> str | None:
    """Why a Checkout Session is not the one opened for this purchase, in words for the log; None
    when it is."""
    if not purchase.provider_session_id:
        return "no checkout session is stored for the purchase"
    if session.get("id") != purchase.provider_session_id:
        return f"the session is {session.get('id')!r}, not {purchase.provider_session_id!r}"
    return None


def _terms_mismatch(*, purchase: CreditPurchase, session: Mapping[str, Any]) -> str | None:
    """Why the purchase's own paid Checkout Session does not pay for its pack, in words for staff;
    None when it was paid for the pack's price, in its currency.

    The pack's price is the session's subtotal. Tax, which Stripe adds when the operator turns it
    on for Checkout in Stripe's tax settings, is included in it or comes on top of it: the total
    paid is the price or more, never less."""
    if session.get("mode") != "payment":
        return f"the session's mode is {session.get('mode')!r}, not 'payment'"
    currency = session.get("currency")
    if not isinstance(currency, str) or currency.lower() != purchase.currency.lower():
        return f"it was paid in {currency!r}, not {purchase.currency!r}"
    subtotal, total = session.get("amount_subtotal"), session.get("amount_total")
    if type(subtotal) is not int or subtotal != purchase.price:
        return f"its items cost {_amount(subtotal, currency)}, not the pack's price {purchase.price_display}"
    if type(total) is not int or total < purchase.price:
        return f"{_amount(total, currency)} was paid, less than the pack's price {purchase.price_display}"
    return None


def _amount(cents: Any, currency: str) -> str:
    return money(cents, currency) if type(cents) is int else repr(cents)


def _checkout_paid(*, purchase: CreditPurchase, session: Mapping[str, Any], event_id: str) -> bool:
    """A paid Checkout Session for the purchase, from its webhook or from asking Stripe: grants
    the pack when the session is the purchase's own and was paid on the pack's terms. Paid on
    other terms, the purchase is refused for staff to look at. True if this call granted the credits."""
    if problem := _session_mismatch(purchase=purchase, session=session):
        logger.error("Payment %s for purchase %s refused: %s; nothing granted", event_id, purchase.pk, problem)
        return False
    payment_intent = session.get("payment_intent")
    payment_intent = payment_intent if isinstance(payment_intent, str) else ""
    if problem := _terms_mismatch(purchase=purchase, session=session):
        purchase_refuse(purchase_id=purchase.pk, reason=problem, payment_intent_id=payment_intent)
        logger.error("Payment %s for purchase %s refused: %s; nothing granted", event_id, purchase.pk, problem)
        return False
    return purchase_complete(
        purchase_id=purchase.pk, event_id=event_id, session_id=session["id"], payment_intent_id=payment_intent,
        amount_paid=session["amount_total"],  # an int, the price or more: the terms were checked
    )


def purchase_refuse(*, purchase_id: uuid.UUID | str, reason: str, payment_intent_id: str = "") -> bool:
    """Stripe took a payment for the purchase that does not pay for its pack: the purchase waits,
    unpaid and no longer checked at Stripe, for staff to grant it (`purchase_grant_refused`) or
    refund it at Stripe. True if this call refused it."""
    field = CreditPurchase._meta.get_field("refusal")
    refused = (
        CreditPurchase.objects.filter(pk=purchase_id)
        .exclude(status__in=[CreditPurchase.Status.PAID, CreditPurchase.Status.REFUSED])
        .update(
            status=CreditPurchase.Status.REFUSED, refusal=reason[: field.max_length],
            payment_intent_id=payment_intent_id, updated_at=timezone.now(),
        )
    )
    if refused:
        enqueue_on_commit(purchase_send_review_email_task, str(purchase_id))
    return bool(refused)


def purchase_grant_refused(*, purchase_id: uuid.UUID | str, staff: User) -> bool:
    """Staff looked at a refused payment and accept it: the pack's credits are granted once, as
    for any paid purchase. True if this call granted them."""
    if not CreditPurchase.objects.filter(pk=purchase_id, status=CreditPurchase.Status.REFUSED).exists():
        return False
    granted = purchase_complete(purchase_id=purchase_id, event_id=f"staff:{staff.pk}:{purchase_id}")
    if granted:
        enqueue_on_commit(purchase_send_granted_email_task, str(purchase_id))
    return granted


def purchase_reconcile_pending() -> int:
    """Queues a Stripe check of every checkout left unpaid for 10 minutes to a day. Returns how many."""
    if not settings.STRIPE_SECRET_KEY:
        return 0
    now = timezone.now()
    purchase_ids = list(
        CreditPurchase.objects.filter(
            provider=CreditPurchase.Provider.STRIPE,
            status=CreditPurchase.Status.PENDING,
            created_at__lte=now - RECONCILE_AFTER,
            created_at__gte=now - RECONCILE_UNTIL,
        ).values_list("pk", flat=True)
    )
    for purchase_id in purchase_ids:
        enqueue_on_commit(purchase_reconcile_task, str(purchase_id))
    return len(purchase_ids)


# --- Payment events ----------------------------------------------------------------------------

STRIPE_PAID_EVENTS = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})
STRIPE_EXPIRED_EVENTS = frozenset({"checkout.session.expired"})
STRIPE_REVERSAL_EVENTS = STRIPE_REFUND_EVENTS | STRIPE_DISPUTE_EVENTS


def _payment_event_record(*, provider: str, event: Mapping[str, Any]) -> bool:
    """Stores the event under its id; False if that id was already stored."""
    try:
        with transaction.atomic():
            PaymentEvent.objects.create(
                provider=provider, event_id=event["id"], type=event.get("type", ""), payload=dict(event)
            )
    except IntegrityError:
        return False
    return True


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


# Keys of a provider's event that describe the person who paid (Stripe's customer, its contact
# details and addresses); everything else is about the payment.
PERSONAL_PAYMENT_KEYS = frozenset({
    "customer", "customer_email", "customer_details", "customer_name", "customer_phone", "customer_address",
    "customer_shipping", "email", "receipt_email", "name", "phone", "address", "shipping", "shipping_details",
    "billing_details", "collected_information",
})


def _scrubbed(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _scrubbed(item) for key, item in value.items() if key not in PERSONAL_PAYMENT_KEYS}
    if isinstance(value, list):
        return [_scrubbed(item) for item in value]
    return value


def payment_events_scrub(*, user: User) -> int:
    """Removes the payer's personal details from the stored events of the user's purchases
    (found by purchase id, session id, payment or the event that paid them: checkouts, refunds and
    disputes). Returns how many changed."""
    purchases = list(
        CreditPurchase.objects.filter(user=user).values_list(
            "pk", "provider_session_id", "paid_event_id", "payment_intent_id", named=True
        )
    )
    if not purchases:
        return 0
    purchase_ids = [str(purchase.pk) for purchase in purchases]

    def known(field: str) -> list[str]:
        return [value for purchase in purchases if (value := getattr(purchase, field))]

    events = PaymentEvent.objects.filter(
        Q(payload__data__object__metadata__purchase_id__in=purchase_ids)
        | Q(payload__data__object__client_reference_id__in=purchase_ids)
        | Q(payload__data__object__id__in=known("provider_session_id"))
        | Q(payload__data__object__payment_intent__in=known("payment_intent_id"))
        | Q(event_id__in=known("paid_event_id"))
    )
    changed = 0
    for event in events.only("pk", "payload"):
        scrubbed = _scrubbed(event.payload)
        if scrubbed != event.payload:
            changed += PaymentEvent.objects.filter(pk=event.pk).update(payload=scrubbed)
    return changed


def stripe_event_handle(*, event: Mapping[str, Any]) -> bool:
    """Records a verified Stripe event once and acts on it in the same transaction.

    Returns False for an event id already recorded (a retry or replay: nothing happens again).
    Paid checkouts grant their pack once, and only for the session opened for the purchase, its
    price and currency; expired ones are marked; refunds and disputes are marked on the purchase
    they concern (studio/credits/reversals.py); other types are only recorded. An event whose
    parts are not the shapes Stripe documents is recorded, logged and otherwise ignored. Raises
    ValueError for an event without a string id and type, which cannot be recorded.
    """
    if not isinstance(event, Mapping) or not isinstance(event.get("id"), str) or not event["id"]:
        raise ValueError("a Stripe event is a JSON object with an id")
    if not isinstance(event.get("type", ""), str):
        raise ValueError("a Stripe event's type is a string")
    with transaction.atomic():
        if not _payment_event_record(provider=CreditPurchase.Provider.STRIPE, event=event):
            return False
        event_type = event.get("type", "")
        if event_type not in STRIPE_PAID_EVENTS | STRIPE_EXPIRED_EVENTS | STRIPE_REVERSAL_EVENTS:
            return True
        subject = _mapping(event.get("data")).get("object")  # a Checkout Session, a Charge or a Dispute
        if not isinstance(subject, Mapping):
            logger.warning("Stripe event %s (%s) carries no Stripe object; ignored", event["id"], event_type)
            return True
        if event_type in STRIPE_REVERSAL_EVENTS:
            stripe_reversal_record(event_type=event_type, payment=subject, event_id=event["id"])
            return True
        session = subject
        purchase_id = _mapping(session.get("metadata")).get("purchase_id") or session.get("client_reference_id")
        try:
            purchase_id = uuid.UUID(str(purchase_id))
        except ValueError:
            logger.warning("Stripe event %s (%s) names no purchase of ours", event["id"], event_type)
            return True
        if event_type in STRIPE_EXPIRED_EVENTS:
            purchase_expire(purchase_id=purchase_id)
        elif session.get("payment_status") == "paid":
            _stripe_checkout_paid(purchase_id=purchase_id, session=session, event_id=event["id"])
    return True


def _stripe_checkout_paid(*, purchase_id: uuid.UUID, session: Mapping[str, Any], event_id: str) -> bool:
    purchase = CreditPurchase.objects.filter(pk=purchase_id).first()
    if purchase is None:
        logger.warning("Payment %s names an unknown purchase %s; nothing granted", event_id, purchase_id)
        return False
    if not purchase.provider_session_id and purchase.provider == CreditPurchase.Provider.STRIPE:
        # The checkout was opened at Stripe but its id never stored: Stripe itself, asked with our
        # key, says which session is the purchase's (the event alone does not prove it).
        logger.warning("Payment %s for purchase %s, whose session id was never stored: asking Stripe",
                       event_id, purchase.pk)
        enqueue_on_commit(purchase_reconcile_task, str(purchase.pk))
        return False
    return _checkout_paid(purchase=purchase, session=session, event_id=event_id)
