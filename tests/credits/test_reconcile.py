"""Stripe checkouts whose webhook never arrived are asked about at Stripe and completed once."""

import datetime
from unittest import mock

import pytest
import stripe
from django.utils import timezone

from studio.credits import purchases
from studio.credits.models import CreditPurchase
from studio.credits.selectors import credit_balance
from tests.credits.conftest import checkout_event, checkout_session
from tests.credits.factories import PurchaseFactory

pytestmark = pytest.mark.django_db


def _session(purchase, **changes) -> stripe.StripeObject:
    """The Checkout Session as Stripe's API answers for the purchase."""
    return stripe.StripeObject.construct_from(checkout_session(purchase) | changes, "sk_test_0123456789")


def _stripe_says(purchase, **changes):
    client = mock.MagicMock()
    client.v1.checkout.sessions.retrieve.return_value = _session(purchase, **changes)
    return mock.patch.object(purchases, "_stripe_client", return_value=client)


def _age(purchase, minutes):
    created_at = timezone.now() - datetime.timedelta(minutes=minutes)
    CreditPurchase.objects.filter(pk=purchase.pk).update(created_at=created_at)


def test_a_paid_checkout_without_webhook_is_completed_once(stripe_on):
    purchase = PurchaseFactory()

    with _stripe_says(purchase):
        assert purchases.purchase_reconcile(purchase_id=purchase.pk) is True
        assert purchases.purchase_reconcile(purchase_id=purchase.pk) is False

    purchase.refresh_from_db()
    assert purchase.status == "paid" and purchase.paid_event_id == f"reconcile:{purchase.provider_session_id}"
    assert credit_balance(user=purchase.user) == 50


def test_the_late_webhook_after_reconciling_grants_nothing_more(stripe_on):
    purchase = PurchaseFactory()
    with _stripe_says(purchase):
        purchases.purchase_reconcile(purchase_id=purchase.pk)

    purchases.stripe_event_handle(event=checkout_event(purchase, event_id="evt_late"))

    assert credit_balance(user=purchase.user) == 50


def test_an_unpaid_checkout_stays_unpaid_and_an_expired_one_is_marked(stripe_on):
    open_one, expired_one = PurchaseFactory(), PurchaseFactory()

    with _stripe_says(open_one, payment_status="unpaid", status="open"):
        assert purchases.purchase_reconcile(purchase_id=open_one.pk) is False
    with _stripe_says(expired_one, payment_status="unpaid", status="expired"):
        assert purchases.purchase_reconcile(purchase_id=expired_one.pk) is False

    assert CreditPurchase.objects.get(pk=open_one.pk).status == "pending"
    assert CreditPurchase.objects.get(pk=expired_one.pk).status == "expired"
    assert credit_balance(user=open_one.user) == 0


def test_pending_checkouts_between_ten_minutes_and_a_day_old_are_checked(
    stripe_on, django_capture_on_commit_callbacks
):
    fresh, stuck, ancient, paid = PurchaseFactory(), PurchaseFactory(), PurchaseFactory(), PurchaseFactory()
    _age(fresh, 2)
    _age(stuck, 30)
    _age(ancient, 60 * 30)
    _age(paid, 30)
    purchases.purchase_complete(purchase_id=paid.pk, event_id="evt_1")

    with (
        _stripe_says(stuck) as client,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        assert purchases.purchase_reconcile_pending() == 1

    assert len(callbacks) == 1  # one task, queued after commit

    client.return_value.v1.checkout.sessions.retrieve.assert_called_once_with(stuck.provider_session_id)
    assert credit_balance(user=stuck.user) == 50


def test_a_paid_session_that_does_not_match_the_pack_grants_nothing_and_is_not_asked_about_again(
    stripe_on, django_capture_on_commit_callbacks
):
    purchase = PurchaseFactory()
    _age(purchase, minutes=30)

    with _stripe_says(purchase, amount_total=1) as client:
        assert purchases.purchase_reconcile(purchase_id=purchase.pk) is False
        with django_capture_on_commit_callbacks(execute=True):
            assert purchases.purchase_reconcile_pending() == 0
        assert purchases.purchase_reconcile(purchase_id=purchase.pk) is False

    purchase.refresh_from_db()
    assert (purchase.status, purchase.refusal) == ("refused", "$0.01 was paid, less than the pack's price $12.00")
    assert credit_balance(user=purchase.user) == 0
    client.return_value.v1.checkout.sessions.retrieve.assert_called_once()


def _stripe_lists(*sessions):
    client = mock.MagicMock()
    client.v1.checkout.sessions.list.return_value.auto_paging_iter.return_value = list(sessions)
    return mock.patch.object(purchases, "_stripe_client", return_value=client)


def test_a_checkout_whose_session_id_was_never_stored_is_found_at_stripe_and_completed(
    stripe_on, django_capture_on_commit_callbacks
):
    purchase = PurchaseFactory(provider_session_id="")
    _age(purchase, 30)
    unrelated = _session(PurchaseFactory.build(provider_session_id="cs_test_unrelated"))

    with (
        _stripe_lists(unrelated, _session(purchase, id="cs_test_found")) as client,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert purchases.purchase_reconcile_pending() == 1

    purchase.refresh_from_db()
    assert (purchase.status, purchase.provider_session_id) == ("paid", "cs_test_found")
    assert credit_balance(user=purchase.user) == 50
    client.return_value.v1.checkout.sessions.retrieve.assert_not_called()


def test_a_checkout_stripe_never_opened_stays_pending(stripe_on):
    purchase = PurchaseFactory(provider_session_id="")

    with _stripe_lists():
        assert purchases.purchase_reconcile(purchase_id=purchase.pk) is False

    purchase.refresh_from_db()
    assert (purchase.status, purchase.provider_session_id) == ("pending", "")


def test_the_reconcile_task_retries_network_errors(stripe_on):
    from studio.credits.tasks import TRANSIENT, purchase_reconcile

    assert stripe.APIConnectionError in TRANSIENT
    assert purchase_reconcile.autoretry_for == TRANSIENT
    assert stripe.AuthenticationError not in TRANSIENT


def test_nothing_is_asked_without_stripe(stripe_off):
    purchase = PurchaseFactory()
    _age(purchase, 30)
    with mock.patch.object(purchases, "_stripe_client") as client:
        assert purchases.purchase_reconcile_pending() == 0
        assert purchases.purchase_reconcile(purchase_id=purchase.pk) is False
    client.assert_not_called()


def test_the_beat_checks_unpaid_checkouts_every_ten_minutes():
    from django.conf import settings

    from studio.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["credits-purchase-reconcile"]
    assert entry["task"] == "studio.credits.tasks.purchase_reconcile_pending"
    assert entry["task"] in app.tasks
    assert entry["schedule"] == 600.0
