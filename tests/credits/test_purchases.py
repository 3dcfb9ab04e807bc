from types import SimpleNamespace
from unittest import mock

import pytest
import stripe
from django.db.models import Sum

from studio.core.exceptions import ApplicationError
from studio.credits import purchases
from studio.credits.models import CreditEntry, CreditPurchase, PaymentEvent
from studio.credits.selectors import credit_balance
from tests.credits.conftest import checkout_event
from tests.credits.factories import PurchaseFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def ledger_sum(user) -> int:
    return CreditEntry.objects.filter(user=user).aggregate(total=Sum("amount"))["total"] or 0


# --- purchases --------------------------------------------------------------------------------


def test_purchase_start_without_stripe_opens_the_test_checkout(user, stripe_off):
    url = purchases.purchase_start(user=user, pack_slug="plus")

    purchase = CreditPurchase.objects.get(user=user)
    assert url == f"/credits/checkout/{purchase.pk}/"
    assert (purchase.provider, purchase.status, purchase.credits, purchase.price) == ("test", "pending", 50, 1200)
    assert credit_balance(user=user) == 0


def test_purchase_start_refuses_an_unknown_pack(user):
    with pytest.raises(ApplicationError, match="not on sale"):
        purchases.purchase_start(user=user, pack_slug="everything-free")
    assert not CreditPurchase.objects.exists()


def test_purchase_start_with_stripe_creates_a_checkout_session(user, stripe_on):
    session = SimpleNamespace(id="cs_test_abc", url="https://checkout.stripe.com/c/pay/cs_test_abc")
    with mock.patch.object(purchases, "_stripe_client") as client:
        client.return_value.v1.checkout.sessions.create.return_value = session
        url = purchases.purchase_start(user=user, pack_slug="starter")

    purchase = CreditPurchase.objects.get(user=user)
    assert url == session.url
    assert (purchase.provider, purchase.provider_session_id, purchase.credits) == ("stripe", "cs_test_abc", 20)
    call = client.return_value.v1.checkout.sessions.create.call_args
    params = call.kwargs["params"]
    assert params["client_reference_id"] == str(purchase.pk)
    assert params["metadata"] == {"purchase_id": str(purchase.pk), "pack": "starter", "user_id": str(user.pk)}
    assert params["line_items"][0]["price_data"]["unit_amount"] == 600
    assert params["success_url"].endswith(f"/credits/purchases/{purchase.pk}/")
    assert params["cancel_url"].endswith(f"/credits/purchases/{purchase.pk}/cancelled/")
    assert call.kwargs["options"] == {"idempotency_key": f"checkout:{purchase.pk}"}


def test_purchase_start_when_stripe_is_unreachable_says_so_and_charges_nothing(user, stripe_on):
    with mock.patch.object(purchases, "_stripe_client") as client:
        client.return_value.v1.checkout.sessions.create.side_effect = stripe.APIConnectionError("down")
        with pytest.raises(ApplicationError, match="Nothing was charged"):
            purchases.purchase_start(user=user, pack_slug="starter")
    assert credit_balance(user=user) == 0


def test_purchase_complete_grants_the_pack_exactly_once():
    purchase = PurchaseFactory()

    results = [
        purchases.purchase_complete(purchase_id=purchase.pk, event_id="evt_1", session_id=purchase.provider_session_id),
        purchases.purchase_complete(purchase_id=purchase.pk, event_id="evt_1", session_id=purchase.provider_session_id),
        purchases.purchase_complete(purchase_id=purchase.pk, event_id="evt_2"),
    ]

    purchase.refresh_from_db()
    assert results == [True, False, False]
    assert (purchase.status, purchase.paid_event_id) == ("paid", "evt_1")
    assert credit_balance(user=purchase.user) == 50
    entry = CreditEntry.objects.get(user=purchase.user)
    assert (entry.kind, entry.key) == ("purchase", f"purchase:{purchase.pk}")
    assert entry.reason == "Bought 50 credits (Plus pack)"


def test_purchase_complete_after_expiry_still_grants():
    purchase = PurchaseFactory()
    assert purchases.purchase_expire(purchase_id=purchase.pk)

    assert purchases.purchase_complete(purchase_id=purchase.pk, event_id="evt_late")

    purchase.refresh_from_db()
    assert purchase.status == "paid"
    assert not purchases.purchase_expire(purchase_id=purchase.pk)  # paid stays paid
    assert credit_balance(user=purchase.user) == 50


def test_purchase_complete_refuses_another_checkout_session():
    purchase = PurchaseFactory(provider_session_id="cs_test_right")

    assert not purchases.purchase_complete(purchase_id=purchase.pk, event_id="evt_1", session_id="cs_test_wrong")

    purchase.refresh_from_db()
    assert purchase.status == "pending"
    assert credit_balance(user=purchase.user) == 0


def test_purchase_pay_test_only_without_stripe(user, stripe_off, settings):
    purchase = PurchaseFactory(user=user, provider=CreditPurchase.Provider.TEST, provider_session_id="")
    stripe_purchase = PurchaseFactory(user=user)

    with pytest.raises(ApplicationError):
        purchases.purchase_pay_test(user=user, purchase_id=stripe_purchase.pk)
    with pytest.raises(ApplicationError):
        purchases.purchase_pay_test(user=UserFactory(), purchase_id=purchase.pk)
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    with pytest.raises(ApplicationError):
        purchases.purchase_pay_test(user=user, purchase_id=purchase.pk)
    settings.STRIPE_SECRET_KEY = ""

    assert purchases.purchase_pay_test(user=user, purchase_id=purchase.pk)
    assert not purchases.purchase_pay_test(user=user, purchase_id=purchase.pk)
    assert credit_balance(user=user) == 50


# --- Stripe events ----------------------------------------------------------------------------


def test_a_paid_checkout_event_grants_once_and_is_recorded_once():
    purchase = PurchaseFactory()
    event = checkout_event(purchase, event_id="evt_paid")

    assert purchases.stripe_event_handle(event=event) is True
    assert purchases.stripe_event_handle(event=event) is False

    assert credit_balance(user=purchase.user) == 50
    assert PaymentEvent.objects.filter(event_id="evt_paid").count() == 1


def test_completed_then_async_succeeded_for_one_session_grants_once():
    purchase = PurchaseFactory()

    purchases.stripe_event_handle(event=checkout_event(purchase, event_id="evt_a"))
    purchases.stripe_event_handle(
        event=checkout_event(purchase, event_id="evt_b", type="checkout.session.async_payment_succeeded")
    )

    assert credit_balance(user=purchase.user) == 50
    assert PaymentEvent.objects.count() == 2


def test_an_unpaid_completion_waits_for_the_async_payment():
    purchase = PurchaseFactory()

    purchases.stripe_event_handle(event=checkout_event(purchase, event_id="evt_a", payment_status="unpaid"))
    assert credit_balance(user=purchase.user) == 0

    purchases.stripe_event_handle(
        event=checkout_event(purchase, event_id="evt_b", type="checkout.session.async_payment_succeeded")
    )
    assert credit_balance(user=purchase.user) == 50


def test_expired_event_marks_the_purchase_and_grants_nothing():
    purchase = PurchaseFactory()

    purchases.stripe_event_handle(
        event=checkout_event(purchase, event_id="evt_x", type="checkout.session.expired", payment_status="unpaid")
    )

    purchase.refresh_from_db()
    assert purchase.status == "expired"
    assert credit_balance(user=purchase.user) == 0


def test_an_event_for_a_purchase_we_do_not_know_is_recorded_and_ignored():
    purchase = PurchaseFactory.build(provider_session_id="cs_test_elsewhere")  # never saved

    assert purchases.stripe_event_handle(event=checkout_event(purchase, event_id="evt_other")) is True

    assert PaymentEvent.objects.filter(event_id="evt_other").exists()
    assert not CreditEntry.objects.exists()
