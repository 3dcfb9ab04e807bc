import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _confirmation_link(message) -> str:
    return re.search(r"https?://\S+/accounts/confirm-email/\S+/", message.body).group(0)


def _sign_up(client, email="new@example.test", password="a-long-and-unusual-passphrase"):
    return client.post(
        reverse("account_signup"), {"email": email, "password1": password, "password2": password}
    )


def test_signup_asks_for_confirmation_then_logs_in_on_confirm(client, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"

    response = _sign_up(client)

    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert User.objects.filter(email="new@example.test").exists()
    assert client.get(reverse("avatars:list")).status_code == 302  # not logged in yet
    confirmations = [m for m in mail.outbox if "confirm" in m.subject.lower()]
    assert len(confirmations) == 1

    # One click: opening the link confirms the address and logs in.
    link = _confirmation_link(confirmations[0])
    path = link.split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path, follow=True)

    assert response.redirect_chain[-1][0] == reverse("avatars:list")
    assert b"My avatars" in response.content
    assert b"No avatars yet" in response.content


def test_the_welcome_email_goes_once_the_address_is_confirmed(client, settings, django_capture_on_commit_callbacks):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    with django_capture_on_commit_callbacks(execute=True):
        _sign_up(client, email="welcome@example.test")
    assert [m for m in mail.outbox if m.subject == "Welcome to Avatar Studio"] == []  # not before

    (confirmation,) = [m for m in mail.outbox if "confirm" in m.subject.lower()]
    link = _confirmation_link(confirmation)
    with django_capture_on_commit_callbacks(execute=True):
        client.get("/" + link.split("://", 1)[1].split("/", 1)[1])
        client.get("/" + link.split("://", 1)[1].split("/", 1)[1])  # a second click sends nothing more

    welcome = [m for m in mail.outbox if m.subject == "Welcome to Avatar Studio"]
    assert len(welcome) == 1
    assert welcome[0].to == ["welcome@example.test"]
    assert "/avatars/" in welcome[0].body


def test_signup_with_a_taken_email_creates_nothing_and_tells_the_owner(client):
    UserFactory(email="taken@example.test")

    response = _sign_up(client, email="taken@example.test")

    # Same answer as a fresh sign-up, so the form cannot be used to probe who has an account.
    assert response.status_code == 302
    assert User.objects.filter(email="taken@example.test").count() == 1
    assert [m.to for m in mail.outbox] == [["taken@example.test"]]
    assert "already" in mail.outbox[0].body.lower()


def test_login_and_logout(client):
    user = UserFactory()

    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("avatars:list")
    assert client.get(reverse("avatars:list")).status_code == 200

    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert client.get(reverse("avatars:list")).status_code == 302


def test_wrong_passwords_pause_log_ins_to_the_account_from_that_address(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed_pair": "5/15m/key"}
    user = UserFactory()

    for _ in range(5):
        response = client.post(reverse("account_login"), {"login": user.email, "password": "wrong"})
        assert response.status_code == 200
        assert b"not correct" in response.content

    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})

    assert response.status_code == 200
    assert b"Too many failed log-in attempts" in response.content
    assert client.get(reverse("avatars:list")).status_code == 302


def test_user_model_uses_email_as_login():
    user = User.objects.create_user(email="Someone@Example.TEST", password="x")
    assert user.get_username() == "Someone@example.test"
    assert not hasattr(user, "username") or user.username is None


def test_signing_up_with_a_taken_address_hashes_the_password_as_a_new_one_does(client, monkeypatch):
    """An existing address answers after the same work as a new one, so timing does not tell them apart."""
    from django.contrib.auth.hashers import MD5PasswordHasher

    hashed = []
    encode = MD5PasswordHasher.encode

    def counting_encode(self, password, salt, *args, **kwargs):
        hashed.append(password)
        return encode(self, password, salt, *args, **kwargs)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counting_encode)
    UserFactory(email="taken@example.test")
    hashed.clear()

    _sign_up(client, email="fresh@example.test", password="a-first-unusual-passphrase")
    _sign_up(client, email="taken@example.test", password="a-second-unusual-passphrase")

    assert hashed == ["a-first-unusual-passphrase", "a-second-unusual-passphrase"]
    assert User.objects.filter(email="taken@example.test").count() == 1
