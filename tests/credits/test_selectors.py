import datetime

import pytest
from django.utils import timezone

from studio.credits import purchases, selectors, services
from studio.credits.models import CreditEntry, Wallet
from tests.credits.factories import PurchaseFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_balance_of_a_user_without_a_wallet_is_zero(user):
    assert selectors.credit_balance(user=user) == 0


def test_entries_are_the_users_own_newest_first_with_the_running_balance(user, other_user, give_credits):
    give_credits(user, 10)
    services.credit_spend(user=user, amount=4, key="spend:1", reason="Avatar")
    services.credit_refund(user=user, amount=1, key="refund:1", reason="One style failed")
    give_credits(other_user, 99)

    entries = list(selectors.credit_entries_for_user(user=user))

    assert [(e.amount, e.balance_after) for e in entries] == [(1, 7), (-4, 6), (10, 10)]


def test_purchases_are_scoped_to_the_user(user, other_user):
    mine = PurchaseFactory(user=user)
    PurchaseFactory(user=other_user)

    assert list(selectors.purchase_list_for_user(user=user)) == [mine]
    with pytest.raises(mine.DoesNotExist):
        selectors.purchase_get_for_user(user=other_user, purchase_id=mine.pk)


def test_wallets_out_of_balance_finds_only_the_wrong_ones_in_one_query(give_credits, django_assert_num_queries):
    good, bad, empty = UserFactory(), UserFactory(), UserFactory()
    give_credits(good, 5)
    give_credits(bad, 5)
    services.wallet_get_or_create(user=empty)
    Wallet.objects.filter(user=bad).update(balance=7)  # what a read-modify-write bug would leave behind

    with django_assert_num_queries(1):
        rows = [(w.user.email, w.balance, w.ledger_sum) for w in selectors.wallets_out_of_balance()]

    assert rows == [(bad.email, 7, 5)]


def test_credit_totals_by_day(user, give_credits):
    staff = UserFactory(is_staff=True)
    purchase = PurchaseFactory(user=user)
    purchases.purchase_complete(purchase_id=purchase.pk, event_id="evt_1")
    give_credits(user, 8)
    services.credit_spend(user=user, amount=16, key="spend:1", reason="Avatar")
    services.credit_refund(user=user, amount=3, key="refund:1", reason="Styles failed")
    services.credit_adjust(user=user, amount=-2, reason="Correction", staff_user=staff)
    yesterday = timezone.now() - datetime.timedelta(days=1)
    CreditEntry.objects.create(user=user, kind="grant", amount=4, key="old", reason="Old", created_at=yesterday)
    today = timezone.now().date()

    days = selectors.credit_totals_by_day(start=today - datetime.timedelta(days=7), end=today)

    assert days == [
        {"day": yesterday.date(), "sold": 0, "granted": 4, "spent": 0, "refunded": 0, "adjusted": 0},
        {"day": today, "sold": 50, "granted": 8, "spent": 16, "refunded": 3, "adjusted": -2},
    ]
    assert selectors.credit_totals_by_day(start=today, end=today)[0]["sold"] == 50


def test_purchase_revenue_by_day_counts_paid_purchases_only():
    paid = [PurchaseFactory(), PurchaseFactory(credits=20, price=600)]
    PurchaseFactory()  # never paid
    for number, purchase in enumerate(paid):
        purchases.purchase_complete(purchase_id=purchase.pk, event_id=f"evt_{number}")
    today = timezone.now().date()

    assert selectors.purchase_revenue_by_day(start=today, end=today) == [
        {"day": today, "currency": "usd", "purchases": 2, "credits": 70, "revenue": 1800}
    ]
