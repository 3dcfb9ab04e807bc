"""Log-in throttling for the site and the admin (whose log-in is the site's, see studio/urls.py).

allauth counts failed log-ins per address (ACCOUNT_RATE_LIMITS["login_failed"]). Each failure is
also counted, with allauth's rate limiter and under the rates of the same setting:

- per account and address ("login_failed_pair"): past it, that address cannot log in to that
  account for a while;
- per customer account, from addresses that never logged in to it ("login_failed_account"): past
  it, only the addresses the customer logged in from before can log in. Guessing from elsewhere
  slows the guessers down but never locks the customer out of their own address;
- per staff account, from everywhere ("login_failed_staff"): many addresses guessing one staff
  password lock it for everyone, until it cools down or an operator runs `manage.py login_unlock`.

A password reset proves the account's owner: it clears the account's counters and the pair of the
address it came from. The counters and the known addresses live in the cache (hashed: no e-mail or
address is stored), like every other rate limit.
"""

import hashlib
import ipaddress
from datetime import timedelta

from allauth.core import ratelimit
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from accounts.models import User
from studio.core.net import client_ip

PAIR = "login_failed_pair"
ACCOUNT = "login_failed_account"
STAFF = "login_failed_staff"


def normalised(login: str) -> str:
    return login.strip().lower()


def _address(request: HttpRequest) -> str:
    return _network(client_ip(request))


def _network(address: str) -> str:
    """The address; for IPv6 its /64, which one home or phone keeps while the rest changes."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False).network_address)
    return str(parsed)


def _pair(login: str, address: str) -> str:
    return f"{login} {address}"


def _known_key(login: str, address: str) -> str:
    return "login:known:" + hashlib.sha256(_pair(login, address).encode()).hexdigest()


def _counters(request: HttpRequest, login: str) -> list[tuple[str, str]]:
    """The (action, key) counters a failure of this log-in from this address counts against."""
    login = normalised(login)
    address = _address(request)
    counters = [(PAIR, _pair(login, address))]
    if User.objects.filter(email__iexact=login, is_staff=True).exists():
        counters.append((STAFF, login))
    elif not cache.get(_known_key(login, address)):
        counters.append((ACCOUNT, login))
    return counters


def login_allowed(request: HttpRequest, *, login: str) -> bool:
    """Whether this address may try this log-in now (nothing is counted)."""
    return all(
        ratelimit.consume(request, action=action, key=key, dry_run=True)
        for action, key in _counters(request, login)
    )


def login_failure_record(request: HttpRequest, *, login: str) -> None:
    for action, key in _counters(request, login):
        ratelimit.consume(request, action=action, key=key)


def login_address_remember(request: HttpRequest, *, user: User) -> None:
    """The account logged in from here: guessing from elsewhere no longer locks this address out."""
    timeout = timedelta(days=settings.LOGIN_KNOWN_ADDRESS_DAYS).total_seconds()
    cache.set(_known_key(normalised(user.email), _address(request)), True, timeout=timeout)


def login_unlock(*, email: str, address: str = "") -> None:
    """Clear an account's lock-outs: the per-account ones, and that of one address when given."""
    login = normalised(email)
    request = HttpRequest()  # the per-key counters read nothing from it
    for action in (ACCOUNT, STAFF):
        ratelimit.clear(request, action=action, key=login)
    if address:
        ratelimit.clear(request, action=PAIR, key=_pair(login, _network(address.strip())))


def login_unlock_after_password_reset(request: HttpRequest, *, user: User) -> None:
    login_unlock(email=user.email, address=_address(request))
    login_address_remember(request, user=user)
