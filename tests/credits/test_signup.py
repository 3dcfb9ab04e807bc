import pytest
from django.urls import reverse

from accounts.models import User
from studio.credits.models import CreditEntry
from studio.credits.selectors import credit_balance

pytestmark = pytest.mark.django_db


def _sign_up(client, email):
    password = "a-long-and-unusual-passphrase"
    return client.post(reverse("account_signup"), {"email": email, "password1": password, "password2": password})


def test_signing_up_grants_the_welcome_credits(client, settings):
    settings.CREDITS_SIGNUP_GRANT = 8

    _sign_up(client, "new@example.test")

    user = User.objects.get(email="new@example.test")
    assert credit_balance(user=user) == 8
    entry = CreditEntry.objects.get(user=user)
    assert (entry.kind, entry.key, entry.reason) == ("grant", f"signup:{user.pk}", "Welcome credits")


def test_signing_up_again_with_the_same_email_grants_nothing_more(client, settings):
    settings.CREDITS_SIGNUP_GRANT = 8
    _sign_up(client, "twice@example.test")
    _sign_up(client, "twice@example.test")

    assert CreditEntry.objects.count() == 1


def test_a_failed_signup_grants_nothing(client):
    client.post(reverse("account_signup"), {"email": "x@example.test", "password1": "a", "password2": "b"})
    assert not CreditEntry.objects.exists()
