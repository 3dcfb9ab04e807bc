import pytest
from django.core.management import CommandError, call_command

from studio.credits.models import CreditEntry
from studio.credits.selectors import credit_balance
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_grant_credits_grants_with_the_reason(capsys):
    user = UserFactory(email="ada@example.test")

    call_command("grant_credits", "ADA@example.test", "5", "--reason", "Sorry about the failed avatar")

    assert credit_balance(user=user) == 5
    entry = CreditEntry.objects.get(user=user)
    assert (entry.kind, entry.reason) == ("grant", "Sorry about the failed avatar")
    assert "Granted 5 credits to ada@example.test" in capsys.readouterr().out


def test_grant_credits_with_a_key_grants_once(capsys):
    user = UserFactory()
    for _ in range(2):
        call_command("grant_credits", user.email, "5", "--reason", "Ticket 42", "--key", "ticket-42")
    assert credit_balance(user=user) == 5
    assert "nothing changed" in capsys.readouterr().out


def test_grant_credits_refuses_an_unknown_email():
    with pytest.raises(CommandError, match=r"No user has the email address nobody@example\.test"):
        call_command("grant_credits", "nobody@example.test", "5", "--reason", "Gift")


@pytest.mark.parametrize("amount", ["0", "-3", "lots"])
def test_grant_credits_refuses_anything_but_a_positive_number(amount):
    user = UserFactory()
    with pytest.raises(CommandError, match="N must be a"):
        call_command("grant_credits", user.email, amount, "--reason", "Gift")
    assert credit_balance(user=user) == 0


def test_grant_credits_needs_a_reason():
    user = UserFactory()
    with pytest.raises(CommandError, match="--reason"):
        call_command("grant_credits", user.email, "5")
    with pytest.raises(CommandError, match="reason"):
        call_command("grant_credits", user.email, "5", "--reason", "   ")
    assert credit_balance(user=user) == 0
