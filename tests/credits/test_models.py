import pytest
from django.db import IntegrityError, connection, transaction

from studio.credits.models import CreditEntry, Wallet
from studio.credits.selectors import credit_balance

pytestmark = pytest.mark.django_db


def test_the_database_refuses_a_negative_balance(user, give_credits):
    give_credits(user, 2)

    with pytest.raises(IntegrityError), transaction.atomic():
        Wallet.objects.filter(user=user).update(balance=-1)

    assert credit_balance(user=user) == 2


@pytest.mark.parametrize(("kind", "amount"), [("spend", 5), ("grant", -5), ("refund", 0), ("adjustment", 0)])
def test_the_database_refuses_an_entry_with_the_wrong_sign(user, kind, amount):
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditEntry.objects.create(user=user, kind=kind, amount=amount, key="k", reason="r")


def test_ledger_keys_are_unique(user, give_credits):
    give_credits(user, 1)
    key = CreditEntry.objects.get().key
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditEntry.objects.create(user=user, kind="grant", amount=1, key=key, reason="again")


def test_entries_show_their_amount_with_a_sign(user):
    assert CreditEntry(amount=50).amount_display == "+50"
    assert CreditEntry(amount=-16).amount_display == "\u221216"


@pytest.mark.postgres
def test_ledger_rows_cannot_be_updated_or_deleted_on_postgresql(user, give_credits):
    entry = give_credits(user, 5)

    for sql in (
        "UPDATE credits_creditentry SET amount = 500 WHERE id = %s",
        "UPDATE credits_creditentry SET amount = 500, reason = 'edited' WHERE id = %s",
        "UPDATE credits_creditentry SET key = 'other' WHERE id = %s",
        "UPDATE credits_creditentry SET created_at = now() - interval '1 day' WHERE id = %s",
        "DELETE FROM credits_creditentry WHERE id = %s",
    ):
        with (
            pytest.raises(IntegrityError, match="cannot be changed or deleted"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [entry.pk])

    with pytest.raises(IntegrityError), transaction.atomic():
        CreditEntry.objects.filter(pk=entry.pk).update(amount=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        entry.delete()

    entry.refresh_from_db()
    assert (entry.amount, entry.reason) == (5, "Setup")
    assert CreditEntry.objects.count() == 1


@pytest.mark.postgres
def test_only_the_reason_of_a_ledger_row_can_be_rewritten_on_postgresql(user, give_credits):
    entry = give_credits(user, 5)

    CreditEntry.objects.filter(pk=entry.pk).update(reason="Free credits")

    entry.refresh_from_db()
    assert (entry.amount, entry.reason, entry.key) == (5, "Free credits", f"{entry.key}")
