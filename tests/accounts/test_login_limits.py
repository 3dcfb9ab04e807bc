"""Log-in throttling, one story for the site and the admin: failures are limited per address, per
account and address, per customer account from addresses it never logged in from, and per staff
account from everywhere."""

import re

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

HOME = "192.0.2.10"  # where the account's owner logs in from
ATTACKER = "203.0.113.7"
REFUSED = b"Too many failed log-in attempts"


def log_in(address: str, email: str, password: str) -> HttpResponse:
    return Client(REMOTE_ADDR=address).post(reverse("account_login"), {"login": email, "password": password})


def logged_in(response: HttpResponse) -> bool:
    return response.status_code == 302


def refused(response: HttpResponse) -> bool:
    return response.status_code == 200 and REFUSED in response.content


def guess_from_many_addresses(email: str, guesses: int) -> None:
    for n in range(guesses):
        assert not logged_in(log_in(f"198.51.100.{n}", email, "wrong"))


@pytest.fixture
def pair_limit(settings):
    def set_limit(failures: int) -> None:
        settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed_pair": f"{failures}/15m/key"}

    return set_limit


def test_thirty_user_names_from_one_address_are_throttled():
    answers = [log_in(ATTACKER, f"someone{n}@example.test", "wrong") for n in range(30)]

    assert not any(refused(answer) for answer in answers[:10])
    assert all(refused(answer) for answer in answers[10:])


def test_failures_from_one_address_pause_that_address_only(pair_limit):
    pair_limit(3)
    customer = UserFactory()

    for _ in range(3):
        log_in(ATTACKER, customer.email, "wrong")

    assert refused(log_in(ATTACKER, customer.email, PASSWORD))
    assert logged_in(log_in(HOME, customer.email, PASSWORD))  # never logged in from there before, either


def test_guessing_from_other_addresses_never_locks_a_customer_out_of_their_own(settings):
    customer = UserFactory()
    assert logged_in(log_in(HOME, customer.email, PASSWORD))

    guess_from_many_addresses(customer.email, 30)

    assert refused(log_in("198.51.100.200", customer.email, PASSWORD))  # a new address waits
    assert logged_in(log_in(HOME, customer.email, PASSWORD))


def test_one_ipv6_network_counts_as_one_address(pair_limit):
    pair_limit(3)
    customer = UserFactory()

    for n in range(1, 4):
        log_in(f"2001:db8:1:2::{n}", customer.email, "wrong")

    assert refused(log_in("2001:db8:1:2::ffff", customer.email, PASSWORD))
    assert logged_in(log_in("2001:db8:1:3::1", customer.email, PASSWORD))


def test_addresses_taking_turns_at_a_staff_password_lock_the_staff_account():
    staff = UserFactory(is_staff=True)
    assert logged_in(log_in(HOME, staff.email, PASSWORD))

    guess_from_many_addresses(staff.email, 10)

    assert refused(log_in("198.51.100.200", staff.email, PASSWORD))
    assert refused(log_in(HOME, staff.email, PASSWORD))  # locked for everyone until unlocked


def test_an_operator_unlocks_a_staff_account_with_login_unlock():
    staff = UserFactory(is_staff=True)
    guess_from_many_addresses(staff.email, 10)
    assert refused(log_in(HOME, staff.email, PASSWORD))

    call_command("login_unlock", staff.email.upper())

    assert logged_in(log_in(HOME, staff.email, PASSWORD))


def test_login_unlock_also_unlocks_one_address_when_told(pair_limit):
    pair_limit(3)
    customer = UserFactory()
    for _ in range(3):
        log_in(ATTACKER, customer.email, "wrong")

    call_command("login_unlock", customer.email)
    assert refused(log_in(ATTACKER, customer.email, PASSWORD))
    call_command("login_unlock", customer.email, "--address", ATTACKER)

    assert logged_in(log_in(ATTACKER, customer.email, PASSWORD))


def test_login_unlock_names_an_unknown_account():
    with pytest.raises(CommandError, match=r"No user has the email address nobody@example\.test"):
        call_command("login_unlock", "nobody@example.test")


def test_a_password_reset_lets_the_owner_in_from_a_new_address():
    customer = UserFactory()
    guess_from_many_addresses(customer.email, 30)
    assert refused(log_in("198.51.100.200", customer.email, PASSWORD))

    browser = Client(REMOTE_ADDR="198.51.100.200")
    browser.post(reverse("account_reset_password"), {"email": customer.email})
    link = re.search(r"https?://\S+/password/reset/key/\S+", mail.outbox[-1].body).group(0)
    form = browser.get(link, follow=True).redirect_chain[-1][0]
    browser.post(form, {"password1": "a-new-Pass-2026", "password2": "a-new-Pass-2026"})

    assert logged_in(log_in("198.51.100.200", customer.email, "a-new-Pass-2026"))
    assert logged_in(log_in("198.51.100.201", customer.email, "a-new-Pass-2026"))


def test_the_admin_logs_in_through_the_site_login_page(client):
    staff = UserFactory(is_staff=True)

    to_login = client.get(reverse("admin:index"), follow=True).redirect_chain[-1][0]
    assert to_login == reverse("account_login") + "?next=%2Fadmin%2F"
    response = client.post(to_login, {"login": staff.email, "password": PASSWORD})

    assert response.status_code == 302 and response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_admin_s_own_form_takes_no_password(client):
    staff = UserFactory(is_staff=True)

    response = client.post(reverse("admin:login"), {"username": staff.email, "password": PASSWORD})

    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))
    assert client.get("/admin/").status_code == 302  # still not logged in


def test_too_many_log_in_requests_get_the_studio_s_429_page():
    browser = Client(REMOTE_ADDR=ATTACKER)
    for n in range(30):
        browser.post(reverse("account_login"), {"login": f"someone{n}@example.test", "password": "wrong"})

    response = browser.post(reverse("account_login"), {"login": "someone@example.test", "password": "wrong"})

    assert response.status_code == 429
    assert b"Please wait a minute and try again" in response.content


def test_axes_failure_limit_still_sets_the_failures_per_account_and_address(monkeypatch, tmp_path):
    from tests.test_settings import production_settings

    production = production_settings(monkeypatch, tmp_path, AXES_FAILURE_LIMIT="4")

    assert production.ACCOUNT_RATE_LIMITS["login_failed_pair"] == "4/15m/key"
