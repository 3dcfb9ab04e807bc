import json
import logging
import time
import uuid
from unittest import mock

import pytest
import stripe
from django.urls import get_resolver, reverse

from studio.credits import purchases
from studio.credits.models import CreditEntry, CreditPurchase, PaymentEvent
from studio.credits.selectors import credit_balance
from tests.credits.conftest import WEBHOOK_SECRET, checkout_event, checkout_session, post_event
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


@pytest.mark.parametrize(
    "body",
    [
        "[1, 2]",
        '"checkout.session.completed"',
        "null",
        "{}",
        '{"id": 42, "type": "checkout.session.completed"}',
        '{"id": "evt_odd", "type": ["checkout.session.completed"]}',
    ],
)
def test_signed_json_that_is_not_an_event_is_acknowledged_logged_and_ignored(client, stripe_on, caplog, body):
    with caplog.at_level(logging.ERROR, logger="studio.credits.views"):
        response = post_event(client, None, body=body)

    assert (response.status_code, response.content) == (200, b"ignored")
    assert "unexpected shape" in caplog.text
    assert not PaymentEvent.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        [],
        "checkout.session",
        {"object": ["cs_test_1"]},
        {"object": None},
        {"object": {"metadata": "purchase", "client_reference_id": {"id": 1}, "payment_status": "paid"}},
        {"object": {"metadata": {"purchase_id": ["x"]}, "payment_status": ["paid"]}},
    ],
)
def test_signed_events_with_unexpected_parts_are_recorded_and_grant_nothing(client, stripe_on, data):
    purchase = PurchaseFactory()
    event = checkout_event(purchase) | {"data": data}

    response = post_event(client, event)

    assert response.status_code == 200
    assert PaymentEvent.objects.filter(event_id=event["id"]).exists()
    assert credit_balance(user=purchase.user) == 0


@pytest.mark.parametrize(
    ("tax", "total"),
    [("exclusive", 1440), ("inclusive", 1200)],
)
def test_a_paid_checkout_with_tax_turned_on_in_stripe_grants_the_pack(client, stripe_on, tax, total):
    purchase = PurchaseFactory()  # 50 credits for 1200
    with_tax = {"amount_total": total, "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 240}}

    response = post_event(client, checkout_event(purchase, **with_tax))

    assert response.status_code == 200
    purchase.refresh_from_db()
    assert purchase.status == CreditPurchase.Status.PAID
    assert credit_balance(user=purchase.user) == 50
    client.force_login(purchase.user)
    history = client.get(reverse("credits:history")).content.decode()
    expected = {"exclusive": "$14.40 <small>incl. tax</small>", "inclusive": "<span>$12.00</span>"}[tax]
    assert expected in history


@pytest.mark.parametrize(
    "changes",
    [
        {"amount_subtotal": 1, "amount_total": 1},
        {"amount_subtotal": 1199, "amount_total": 1199},
        {"amount_subtotal": 1, "amount_total": 1200},
        {"amount_total": 1199},
        {"amount_subtotal": "1200", "amount_total": "1200"},
        {"amount_subtotal": None, "amount_total": None},
        {"amount_total": None},
        {"currency": "eur"},
        {"mode": "subscription"},
        {"id": "cs_test_someone_elses"},
    ],
    ids=["amount-1", "amount-1199", "items-1", "discounted", "amount-text", "no-amount", "no-total", "euros",
         "subscription", "other-session"],
)
def test_a_paid_checkout_grants_only_the_packs_price_in_its_currency_for_its_own_session(
    client, stripe_on, caplog, changes
):
    purchase = PurchaseFactory()

    with caplog.at_level(logging.ERROR, logger="studio.credits.purchases"):
        response = post_event(client, checkout_event(purchase, **changes))

    assert response.status_code == 200
    purchase.refresh_from_db()
    assert purchase.status != CreditPurchase.Status.PAID and credit_balance(user=purchase.user) == 0
    assert "nothing granted" in caplog.text


def test_its_own_checkout_paid_on_other_terms_is_set_aside_for_staff_with_the_reason(
    client, stripe_on, mailoutbox, django_capture_on_commit_callbacks
):
    purchase = PurchaseFactory()

    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, checkout_event(purchase, currency="eur"))
        later = "checkout.session.async_payment_succeeded"
        post_event(client, checkout_event(purchase, event_id="evt_test_2", type=later, currency="eur"))

    assert response.status_code == 200
    purchase.refresh_from_db()
    assert purchase.status == CreditPurchase.Status.REFUSED
    assert purchase.refusal == "it was paid in 'eur', not 'usd'"
    assert credit_balance(user=purchase.user) == 0
    (email,) = mailoutbox  # the second event refuses nothing more and sends nothing more
    assert (email.to, email.subject) == ([purchase.user.email], "Your payment is being reviewed")
    assert "Plus pack (50 credits)" in email.body and "'eur'" not in email.body


def test_someone_elses_session_naming_the_purchase_leaves_it_waiting_for_its_own(client, stripe_on):
    purchase = PurchaseFactory()

    post_event(client, checkout_event(purchase, id="cs_test_someone_elses", amount_total=1))
    post_event(client, checkout_event(purchase, event_id="evt_test_2"))

    purchase.refresh_from_db()
    assert (purchase.status, purchase.refusal) == (CreditPurchase.Status.PAID, "")
    assert credit_balance(user=purchase.user) == 50


def _stripe_lists(*sessions):
    client = mock.MagicMock()
    client.v1.checkout.sessions.list.return_value.auto_paging_iter.return_value = [
        stripe.StripeObject.construct_from(session, "sk_test_0123456789") for session in sessions
    ]
    return mock.patch.object(purchases, "_stripe_client", return_value=client)


def test_a_purchase_whose_session_id_was_never_stored_is_paid_once_stripe_itself_confirms_the_session(
    client, stripe_on, django_capture_on_commit_callbacks
):
    purchase = PurchaseFactory(provider_session_id="")  # the process stopped before saving it
    other = PurchaseFactory.build(provider_session_id="cs_test_other")
    lost = checkout_session(purchase, id="cs_test_lost")

    with _stripe_lists(checkout_session(other), lost) as stripe_client, django_capture_on_commit_callbacks(
        execute=True
    ):
        response = post_event(client, checkout_event(purchase, id="cs_test_lost"))

    assert response.status_code == 200
    purchase.refresh_from_db()
    assert (purchase.status, purchase.provider_session_id) == ("paid", "cs_test_lost")
    assert credit_balance(user=purchase.user) == 50
    window = stripe_client.return_value.v1.checkout.sessions.list.call_args.kwargs["params"]["created"]
    assert window["gte"] < purchase.created_at.timestamp() < window["lte"]


def test_an_event_alone_never_pays_a_purchase_without_a_stored_session(
    client, stripe_on, django_capture_on_commit_callbacks
):
    purchase = PurchaseFactory(provider_session_id="")
    forged = checkout_session(purchase, id="cs_test_made_elsewhere", client_reference_id=str(uuid.uuid4()))

    with _stripe_lists(forged), django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, checkout_event(purchase, id="cs_test_made_elsewhere"))

    assert response.status_code == 200
    purchase.refresh_from_db()
    assert (purchase.status, purchase.provider_session_id) == ("pending", "")
    assert credit_balance(user=purchase.user) == 0


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
