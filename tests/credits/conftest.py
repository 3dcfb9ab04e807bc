import json
import time

import pytest
import stripe
from django.urls import reverse

from studio.credits.services import credit_grant

WEBHOOK_SECRET = "whsec_test_0123456789abcdef"


@pytest.fixture
def give_credits():
    """give_credits(user, n): a plain grant, so a test starts from a known balance."""
    counter = iter(range(1_000_000))

    def give(user, amount: int):
        return credit_grant(user=user, amount=amount, key=f"test-setup:{user.pk}:{next(counter)}", reason="Setup")

    return give


@pytest.fixture
def stripe_on(settings):
    """Stripe configured (no network: tests fake the client or post signed events)."""
    settings.STRIPE_SECRET_KEY = "sk_test_0123456789"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return settings


@pytest.fixture
def stripe_off(settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    return settings


def checkout_session(purchase, *, payment_status="paid", **changes) -> dict:
    """Our Checkout Session for the purchase, as Stripe describes it."""
    return {
        "id": purchase.provider_session_id,
        "object": "checkout.session",
        "client_reference_id": str(purchase.pk),
        "metadata": {"purchase_id": str(purchase.pk), "pack": purchase.pack_slug},
        "mode": "payment",
        "payment_status": payment_status,
        "status": "complete" if payment_status == "paid" else "open",
        "amount_subtotal": purchase.price,
        "amount_total": purchase.price,
        "currency": purchase.currency,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
    } | changes


def checkout_event(
    purchase, *, event_id="evt_test_1", type="checkout.session.completed", payment_status="paid", **changes
):
    """A Stripe event as Stripe sends it for our Checkout Session (``changes`` to the session)."""
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2025-01-27.acacia",
        "created": int(time.time()),
        "livemode": False,
        "type": type,
        "data": {"object": checkout_session(purchase, payment_status=payment_status, **changes)},
    }


def post_event(client, event, *, secret=WEBHOOK_SECRET, timestamp=None, body=None):
    """POSTs the event to the webhook, signed the way Stripe signs (the stripe library's helper)."""
    payload = body if body is not None else json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)
    return client.post(
        reverse("stripe_webhook"),
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": header},
    )

