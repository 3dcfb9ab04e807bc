"""Refunds and disputes at Stripe are marked on the purchase they paid for, once and in order."""

import logging
import time

import pytest

from studio.credits.models import CreditPurchase, PaymentEvent
from studio.credits.selectors import credit_balance
from tests.credits.conftest import checkout_event, post_event
from tests.credits.factories import PurchaseFactory

pytestmark = pytest.mark.django_db

_events = iter(range(1_000_000))


def stripe_event(type: str, **payment) -> dict:
    """A Stripe event about a payment: `payment` is its Charge (refunds) or its Dispute."""
    return {
        "id": f"evt_test_{next(_events)}", "object": "event", "created": int(time.time()), "livemode": False,
        "type": type, "data": {"object": payment},
    }


def refunded(amount: int, *, payment_intent: str = "pi_test_1") -> dict:
    return stripe_event(
        "charge.refunded", id="ch_test_1", object="charge", amount=1200, amount_refunded=amount,
        refunded=amount == 1200, payment_intent=payment_intent, currency="usd",
    )


def disputed(status: str, *, type: str = "charge.dispute.updated") -> dict:
    return stripe_event(
        type, id="du_test_1", object="dispute", amount=1200, charge="ch_test_1", payment_intent="pi_test_1",
        status=status, reason="fraudulent", currency="usd",
    )


@pytest.fixture
def bought(client, stripe_on):
    """A pack paid through Stripe's checkout, its PaymentIntent pi_test_1."""
    purchase = PurchaseFactory()
    post_event(client, checkout_event(purchase, event_id="evt_paid", payment_intent="pi_test_1"))
    purchase.refresh_from_db()
    assert (purchase.status, purchase.payment_intent_id) == ("paid", "pi_test_1")
    return purchase


def test_a_refund_is_marked_on_the_purchase_and_leaves_its_credits_for_staff_to_decide(client, bought):
    response = post_event(client, refunded(1200))

    assert response.status_code == 200
    bought.refresh_from_db()
    assert (bought.refunded_amount, bought.refunded_display) == (1200, "$12.00")
    assert bought.reversed_at is not None and bought.status == "paid"
    assert credit_balance(user=bought.user) == 50


def test_refunds_add_up_and_older_news_changes_nothing(client, bought):
    for amount in (400, 1000, 400):  # the event for the first refund arrives again, last
        post_event(client, refunded(amount))

    bought.refresh_from_db()
    assert bought.refunded_amount == 1000


def test_a_dispute_follows_its_status_and_once_ended_stays_ended(client, bought):
    post_event(client, disputed("needs_response", type="charge.dispute.created"))
    bought.refresh_from_db()
    assert (bought.dispute_status, bought.dispute_display) == ("needs_response", "needs a response")

    post_event(client, disputed("won", type="charge.dispute.closed"))
    post_event(client, disputed("under_review"))  # delivered late

    bought.refresh_from_db()
    assert (bought.dispute_status, bought.dispute_display) == ("won", "won")
    assert credit_balance(user=bought.user) == 50


def test_a_purchase_paid_before_payments_were_kept_is_found_through_its_checkout_event(client, bought):
    CreditPurchase.objects.filter(pk=bought.pk).update(payment_intent_id="")

    post_event(client, refunded(600))

    bought.refresh_from_db()
    assert (bought.refunded_amount, bought.payment_intent_id) == (600, "pi_test_1")


def test_a_refund_of_a_payment_that_is_not_ours_is_recorded_and_changes_nothing(client, bought, caplog):
    with caplog.at_level(logging.WARNING, logger="studio.credits.reversals"):
        response = post_event(client, refunded(1200, payment_intent="pi_test_someone_elses"))
        post_event(client, stripe_event("charge.refunded", id="ch_test_2", amount_refunded=1200))

    assert response.status_code == 200
    assert PaymentEvent.objects.filter(type="charge.refunded").count() == 2
    bought.refresh_from_db()
    assert (bought.refunded_amount, bought.reversed_at) == (0, None)
    assert caplog.text.count("names no payment of ours") == 2


@pytest.mark.parametrize(
    "payment", [{"amount_refunded": "1200"}, {"amount_refunded": None}, {}], ids=["text", "null", "missing"]
)
def test_a_refund_without_an_amount_changes_nothing(client, bought, payment):
    post_event(client, stripe_event("charge.refunded", payment_intent="pi_test_1", **payment))

    bought.refresh_from_db()
    assert (bought.refunded_amount, bought.reversed_at) == (0, None)
