
import pytest

from studio.credits import selectors, services
from studio.credits.models import Wallet
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
