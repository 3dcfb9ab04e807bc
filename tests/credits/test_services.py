
import pytest
from django.db import transaction
from django.db.models import Sum

from studio.core.exceptions import ApplicationError, InsufficientCredits
from studio.credits import services
from studio.credits.models import CreditEntry, EntryKind, Wallet
from studio.credits.selectors import credit_balance
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def ledger_sum(user) -> int:
    return CreditEntry.objects.filter(user=user).aggregate(total=Sum("amount"))["total"] or 0


# --- grant, spend, refund, adjust -------------------------------------------------------------


def test_grant_creates_the_wallet_and_one_entry(user):
    assert not Wallet.objects.filter(user=user).exists()

    entry = services.credit_grant(user=user, amount=5, key="grant:a", reason="Welcome back")

    assert entry.kind == EntryKind.GRANT and entry.amount == 5 and entry.reason == "Welcome back"
    assert credit_balance(user=user) == 5 == ledger_sum(user)


def test_grant_twice_with_one_key_grants_once_and_returns_the_first_entry(user):
    first = services.credit_grant(user=user, amount=5, key="grant:a", reason="Gift")
    again = services.credit_grant(user=user, amount=5, key="grant:a", reason="Gift")

    assert again.pk == first.pk
    assert credit_balance(user=user) == 5
    assert CreditEntry.objects.filter(user=user).count() == 1


def test_spend_takes_credits_and_records_what_it_paid_for(user, give_credits):
    give_credits(user, 20)

    entry = services.credit_spend(
        user=user, amount=16, key="spend:avatar:1", reason="Avatar “Ada”", reference="avatar:1"
    )

    assert entry.kind == EntryKind.SPEND and entry.amount == -16 and entry.reference == "avatar:1"
    assert credit_balance(user=user) == 4 == ledger_sum(user)


def test_spend_more_than_the_balance_raises_cleanly_and_changes_nothing(user, give_credits):
    give_credits(user, 3)

    with pytest.raises(InsufficientCredits) as raised:
        services.credit_spend(user=user, amount=16, key="spend:avatar:1", reason="Avatar")

    assert isinstance(raised.value, ApplicationError)
    assert raised.value.message == "This needs 16 credits and you have 3."
    assert credit_balance(user=user) == 3
    assert not CreditEntry.objects.filter(key="spend:avatar:1").exists()


def test_spend_without_a_wallet_is_refused(user):
    with pytest.raises(InsufficientCredits):
        services.credit_spend(user=user, amount=1, key="spend:x", reason="Avatar")
    assert credit_balance(user=user) == 0


def test_spend_twice_with_one_key_spends_once_and_does_not_raise(user, give_credits):
    give_credits(user, 16)
    first = services.credit_spend(user=user, amount=16, key="spend:avatar:1", reason="Avatar")

    # The balance is 0 now: the repeat must not be refused, it must return the first spend.
    again = services.credit_spend(user=user, amount=16, key="spend:avatar:1", reason="Avatar")

    assert again.pk == first.pk
    assert credit_balance(user=user) == 0 == ledger_sum(user)


def test_reusing_a_key_for_something_else_is_a_programming_error(user, give_credits):
    give_credits(user, 10)
    services.credit_spend(user=user, amount=2, key="spend:avatar:1", reason="Avatar")

    with pytest.raises(ValueError, match="already used"):
        services.credit_spend(user=user, amount=3, key="spend:avatar:1", reason="Avatar")
    with pytest.raises(ValueError, match="already used"):
        services.credit_spend(user=UserFactory(), amount=2, key="spend:avatar:1", reason="Avatar")
    assert credit_balance(user=user) == 8


def test_spend_inside_the_callers_transaction_is_undone_with_it(user, give_credits):
    give_credits(user, 16)

    with pytest.raises(RuntimeError), transaction.atomic():
        services.credit_spend(user=user, amount=16, key="spend:avatar:1", reason="Avatar")
        raise RuntimeError("creating the job failed")

    assert credit_balance(user=user) == 16
    assert not CreditEntry.objects.filter(key="spend:avatar:1").exists()


def test_a_refused_spend_leaves_the_callers_transaction_usable(user, give_credits):
    give_credits(user, 1)

    with transaction.atomic():
        with pytest.raises(InsufficientCredits):
            services.credit_spend(user=user, amount=5, key="spend:big", reason="Avatar")
        services.credit_spend(user=user, amount=1, key="spend:small", reason="One more style")

    assert credit_balance(user=user) == 0 == ledger_sum(user)


@pytest.mark.parametrize("amount", [0, -3, 1.5, True, "2"])
def test_amounts_must_be_positive_whole_numbers(user, amount):
    with pytest.raises(ValueError):
        services.credit_grant(user=user, amount=amount, key="k", reason="r")
    with pytest.raises(ValueError):
        services.credit_spend(user=user, amount=amount, key="k", reason="r")
    with pytest.raises(ValueError):
        services.credit_refund(user=user, amount=amount, key="k", reason="r")
    assert not CreditEntry.objects.exists()


def test_a_reason_and_a_key_are_required(user):
    with pytest.raises(ApplicationError):
        services.credit_grant(user=user, amount=1, key="k", reason="  ")
    with pytest.raises(ApplicationError):
        services.credit_grant(user=user, amount=1, key="", reason="Gift")


def test_keys_and_references_that_do_not_fit_are_refused(user):
    with pytest.raises(ValueError):
        services.credit_grant(user=user, amount=1, key="k" * 201, reason="Gift")
    with pytest.raises(ValueError):
        services.credit_grant(user=user, amount=1, key="k", reason="Gift", reference="r" * 121)
    assert credit_balance(user=user) == 0


def test_refund_twice_with_one_key_refunds_once(user, give_credits):
    give_credits(user, 16)
    services.credit_spend(user=user, amount=16, key="spend:avatar:1", reason="Avatar")

    first = services.credit_refund(
        user=user, amount=16, key="refund:avatar:1", reason="Avatar failed: refunded", reference="avatar:1"
    )
    second = services.credit_refund(
        user=user, amount=16, key="refund:avatar:1", reason="Avatar failed: refunded", reference="avatar:1"
    )

    assert (first, second) == (True, False)
    assert credit_balance(user=user) == 16 == ledger_sum(user)
    assert CreditEntry.objects.filter(kind=EntryKind.REFUND).count() == 1


def test_adjust_adds_or_removes_with_the_staff_member_recorded(user, give_credits):
    staff = UserFactory(is_staff=True)
    give_credits(user, 10)

    added = services.credit_adjust(user=user, amount=5, reason="Sorry for the wait", staff_user=staff)
    removed = services.credit_adjust(user=user, amount=-12, reason="Duplicate grant", staff_user=staff)

    assert (added.kind, added.amount, added.created_by) == (EntryKind.ADJUSTMENT, 5, staff)
    assert (removed.amount, removed.created_by) == (-12, staff)
    assert credit_balance(user=user) == 3 == ledger_sum(user)


def test_adjust_cannot_take_the_balance_below_zero(user, give_credits):
    staff = UserFactory(is_staff=True)
    give_credits(user, 2)

    with pytest.raises(InsufficientCredits):
        services.credit_adjust(user=user, amount=-3, reason="Correction", staff_user=staff)

    assert credit_balance(user=user) == 2


def test_adjust_needs_staff_a_reason_and_a_non_zero_amount(user):
    staff = UserFactory(is_staff=True)
    with pytest.raises(ApplicationError):
        services.credit_adjust(user=user, amount=5, reason="Gift", staff_user=UserFactory())
    with pytest.raises(ApplicationError):
        services.credit_adjust(user=user, amount=5, reason="", staff_user=staff)
    with pytest.raises(ValueError):
        services.credit_adjust(user=user, amount=0, reason="Nothing", staff_user=staff)
    with pytest.raises(ValueError):
        services.credit_adjust(amount=5, reason="For nobody", staff_user=staff)
    assert not CreditEntry.objects.exists()


def test_adjust_with_a_key_applies_once(user):
    staff = UserFactory(is_staff=True)
    for _ in range(2):
        services.credit_adjust(user=user, amount=4, reason="Gift", staff_user=staff, key="adjust:form-1")
    assert credit_balance(user=user) == 4


def test_wallet_get_or_create_makes_one_wallet(user):
    first = services.wallet_get_or_create(user=user)
    second = services.wallet_get_or_create(user=user)
    assert first.pk == second.pk and first.balance == 0
    assert Wallet.objects.filter(user=user).count() == 1


def test_signup_grant_is_given_once(user, settings):
    settings.CREDITS_SIGNUP_GRANT = 8
    services.credit_signup_grant(user=user)
    services.credit_signup_grant(user=user)
    assert credit_balance(user=user) == 8
    assert CreditEntry.objects.get(user=user).reason == "Welcome credits"


def test_signup_grant_of_zero_still_creates_the_wallet(user, settings):
    settings.CREDITS_SIGNUP_GRANT = 0
    assert services.credit_signup_grant(user=user) is None
    assert Wallet.objects.get(user=user).balance == 0
    assert not CreditEntry.objects.exists()
