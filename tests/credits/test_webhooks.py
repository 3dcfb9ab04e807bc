import json
import time

import pytest
import stripe
from django.urls import get_resolver, reverse

from studio.credits.models import CreditEntry, PaymentEvent
from studio.credits.selectors import credit_balance
from tests.credits.conftest import WEBHOOK_SECRET, checkout_event, post_event
from tests.credits.factories import PurchaseFactory

pytestmark = pytest.mark.django_db


def test_a_validly_signed_paid_checkout_grants_the_pack(client, stripe_on):
    purchase = PurchaseFactory()

    response = post_event(client, checkout_event(purchase))

    assert response.status_code == 200
    purchase.refresh_from_db()
    assert (purchase.status, purchase.paid_event_id) == ("paid", "evt_test_1")
    assert credit_balance(user=purchase.user) == 50


def test_the_same_event_twice_grants_once(client, stripe_on):
    purchase = PurchaseFactory()
    event = checkout_event(purchase)

    first, second = post_event(client, event), post_event(client, event)

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.content == b"already received"
    assert credit_balance(user=purchase.user) == 50
    assert PaymentEvent.objects.count() == 1
    assert CreditEntry.objects.count() == 1


def test_a_wrong_signature_is_refused(client, stripe_on):
    purchase = PurchaseFactory()

    response = post_event(client, checkout_event(purchase), secret="whsec_someone_else")

    assert response.status_code == 400
    assert credit_balance(user=purchase.user) == 0
    assert not PaymentEvent.objects.exists()


def test_a_body_changed_after_signing_is_refused(client, stripe_on):
    purchase = PurchaseFactory()
    signed = json.dumps(checkout_event(purchase, payment_status="unpaid"))
    header = stripe.WebhookSignature.generate_signature_header(signed, WEBHOOK_SECRET)
    forged = signed.replace('"payment_status": "unpaid"', '"payment_status": "paid"')

    response = client.post(
        reverse("stripe_webhook"), data=forged, content_type="application/json",
        headers={"Stripe-Signature": header},
    )

    assert response.status_code == 400
    assert credit_balance(user=purchase.user) == 0


def test_a_stale_timestamp_is_refused(client, stripe_on):
    purchase = PurchaseFactory()

    response = post_event(client, checkout_event(purchase), timestamp=int(time.time()) - 301)

    assert response.status_code == 400
    assert credit_balance(user=purchase.user) == 0


def test_a_missing_signature_is_refused(client, stripe_on):
    response = client.post(reverse("stripe_webhook"), data="{}", content_type="application/json")
    assert response.status_code == 400


def test_a_signed_body_that_is_not_json_is_refused(client, stripe_on):
    response = post_event(client, None, body="not json")
    assert response.status_code == 400


def test_an_unknown_event_type_is_acknowledged_and_ignored(client, stripe_on):
    purchase = PurchaseFactory()
    event = checkout_event(purchase, event_id="evt_cust", type="customer.created")

    response = post_event(client, event)

    assert response.status_code == 200
    assert credit_balance(user=purchase.user) == 0
    purchase.refresh_from_db()
    assert purchase.status == "pending"


def test_the_webhook_does_not_exist_without_stripe(client, stripe_off):
    response = post_event(client, {"id": "evt_1", "type": "checkout.session.completed"})
    assert response.status_code == 404


def test_the_webhook_accepts_only_post(client, stripe_on):
    assert client.get(reverse("stripe_webhook")).status_code == 405


def test_the_webhook_is_the_only_csrf_exempt_view_of_credits():
    exempt = [
        pattern.name
        for pattern in get_resolver().url_patterns
        for pattern in getattr(pattern, "url_patterns", [pattern])
        if getattr(getattr(pattern, "callback", None), "csrf_exempt", False)
        and getattr(pattern.callback, "__module__", "").startswith("studio.credits")
    ]
    assert exempt == ["stripe_webhook"]
