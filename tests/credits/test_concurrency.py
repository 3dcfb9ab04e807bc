"""Real threads against PostgreSQL: double clicks, racing requests and replayed webhooks."""


import pytest
from django.test import Client

from studio.core.exceptions import InsufficientCredits
from studio.credits import purchases, services
from studio.credits.models import CreditEntry, CreditPurchase, PaymentEvent, Wallet
from studio.credits.selectors import credit_balance, wallets_out_of_balance
from tests.concurrency import run_together
from tests.credits.conftest import checkout_event, post_event
from tests.credits.factories import PurchaseFactory
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 10


@pytest.mark.parametrize("round_", range(30))
def test_one_credit_and_ten_simultaneous_spends_give_one_spend(round_):
    user = UserFactory()
    services.credit_grant(user=user, amount=1, key=f"setup:{user.pk}", reason="Setup")

    results = run_together(
        lambda i: services.credit_spend(user=user, amount=1, key=f"spend:avatar:{round_}:{i}", reason="Avatar")
    )

    spent = [r for r in results if isinstance(r, CreditEntry)]
    refused = [r for r in results if isinstance(r, InsufficientCredits)]
    assert (len(spent), len(refused)) == (1, 9), results
    assert credit_balance(user=user) == 0
    assert CreditEntry.objects.filter(user=user, kind="spend").count() == 1


def test_a_double_click_with_one_key_spends_once():
    user = UserFactory()
    services.credit_grant(user=user, amount=50, key=f"setup:{user.pk}", reason="Setup")

    results = run_together(lambda i: services.credit_spend(user=user, amount=16, key="spend:avatar:x", reason="Avatar"))

    assert all(isinstance(r, CreditEntry) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert credit_balance(user=user) == 34


def test_a_refund_storm_refunds_once():
    user = UserFactory()

    results = run_together(
        lambda i: services.credit_refund(user=user, amount=16, key="refund:avatar:x", reason="Avatar failed")
    )

    assert sorted(results) == [False] * 9 + [True]
    assert credit_balance(user=user) == 16


def test_racing_first_grants_create_one_wallet():
    user = UserFactory()

    results = run_together(lambda i: services.credit_grant(user=user, amount=1, key=f"grant:{i}", reason="Gift"))

    assert all(isinstance(r, CreditEntry) for r in results), results
    assert Wallet.objects.filter(user=user).count() == 1
    assert credit_balance(user=user) == THREADS
    assert not wallets_out_of_balance().exists()


def test_one_purchase_completed_by_racing_events_is_granted_once():
    purchase = PurchaseFactory()

    results = run_together(lambda i: purchases.purchase_complete(purchase_id=purchase.pk, event_id=f"evt_{i}"))

    assert sorted(results) == [False] * 9 + [True]
    assert credit_balance(user=purchase.user) == 50
    assert CreditPurchase.objects.get(pk=purchase.pk).status == "paid"


def test_the_same_webhook_delivered_ten_times_at_once_grants_once(stripe_on):
    purchase = PurchaseFactory()
    event = checkout_event(purchase, event_id="evt_storm")

    responses = run_together(lambda i: post_event(Client(), event))

    assert [getattr(r, "status_code", r) for r in responses] == [200] * THREADS
    assert credit_balance(user=purchase.user) == 50
    assert PaymentEvent.objects.filter(event_id="evt_storm").count() == 1
    assert CreditEntry.objects.filter(user=purchase.user).count() == 1
