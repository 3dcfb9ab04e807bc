import pytest
from django.urls import reverse

from accounts.models import User
from accounts.services import user_delete
from studio.credits.models import CreditEntry, SignupGrantClaim
from studio.credits.selectors import credit_balance
from studio.credits.services import address_normalise, credit_signup_grant
from tests.concurrency import run_together
from tests.factories import UserFactory

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


@pytest.mark.parametrize(
    ("address", "mailbox"),
    [
        ("Carol@Example.test", "carol@example.test"),
        ("carol+2@example.test", "carol@example.test"),
        ("CAROL+news+more@Example.TEST", "carol@example.test"),
        ("c.a.r.o.l@gmail.com", "carol@gmail.com"),
        ("C.arol+x@GoogleMail.com", "carol@gmail.com"),
        ("c.arol@example.test", "c.arol@example.test"),  # dots count outside Gmail
    ],
)
def test_an_address_is_normalised_to_its_mailbox(address, mailbox):
    assert address_normalise(address) == mailbox


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("carol@example.test", "Carol+2@example.test"),
        ("carol@gmail.com", "c.a.r.o.l@gmail.com"),
        ("carol@gmail.com", "Carol+x@googlemail.com"),
    ],
)
def test_a_variant_of_an_address_signs_up_but_gets_no_second_welcome_grant(client, settings, first, second):
    settings.CREDITS_SIGNUP_GRANT = 8
    _sign_up(client, first)

    response = _sign_up(client, second)

    assert response.status_code == 302
    variant = User.objects.get(email__iexact=second)
    assert variant.is_active
    assert credit_balance(user=variant) == 0
    assert not CreditEntry.objects.filter(user=variant).exists()
    assert credit_balance(user=User.objects.get(email=first)) == 8


def test_deleting_the_account_does_not_free_the_welcome_grant(client, settings):
    settings.CREDITS_SIGNUP_GRANT = 8
    _sign_up(client, "carol@example.test")
    first = User.objects.get(email="carol@example.test")
    user_delete(user=first)

    _sign_up(client, "carol@example.test")

    again = User.objects.get(email="carol@example.test")
    assert again.pk != first.pk
    assert credit_balance(user=again) == 0
    assert CreditEntry.objects.filter(key__startswith="signup:").count() == 1


def test_the_claim_names_no_address(client):
    _sign_up(client, "carol@example.test")

    claim = SignupGrantClaim.objects.get()
    assert "carol" not in claim.address_hash and len(claim.address_hash) == 64


def test_no_welcome_grant_claims_nothing(settings):
    settings.CREDITS_SIGNUP_GRANT = 0
    credit_signup_grant(user=UserFactory(email="carol@example.test"))

    settings.CREDITS_SIGNUP_GRANT = 8
    later = UserFactory(email="carol+later@example.test")
    credit_signup_grant(user=later)

    assert credit_balance(user=later) == 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_sign_ups_of_one_person_get_one_welcome_grant(settings):
    settings.CREDITS_SIGNUP_GRANT = 8
    users = [UserFactory(email=f"carol+{i}@example.test") for i in range(10)]

    results = run_together(lambda i: credit_signup_grant(user=users[i]))

    assert not [r for r in results if isinstance(r, Exception)], results
    assert len([r for r in results if isinstance(r, CreditEntry)]) == 1
    assert sum(credit_balance(user=user) for user in users) == 8
