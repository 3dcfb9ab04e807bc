"""X-Forwarded-* headers count only from the proxies named in TRUSTED_PROXIES."""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from studio.core.net import from_trusted_proxy
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.7"


@pytest.fixture
def behind_proxy(settings):
    """BEHIND_PROXY's defaults: the proxy on this machine, one hop of X-Forwarded-For."""
    settings.TRUSTED_PROXIES = ["127.0.0.1", "::1"]
    settings.TRUSTED_PROXY_COUNT = 1
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    return settings


def test_forged_x_forwarded_for_from_outside_is_rate_limited_under_the_real_address(behind_proxy):
    behind_proxy.RATE_LIMITS = {**behind_proxy.RATE_LIMITS, "callback": "3/m"}
    direct, proxy = Client(REMOTE_ADDR=ATTACKER), Client(REMOTE_ADDR="127.0.0.1")

    def guess(client: Client, n: int, forwarded_for: str) -> int:
        url = reverse("astria_callback", args=[f"{n:064d}"])
        return client.post(url, HTTP_X_FORWARDED_FOR=forwarded_for).status_code

    forged = [guess(direct, n, f"198.51.100.{n}") for n in range(5)]
    through_proxy = [guess(proxy, n, f"198.51.100.{n}") for n in range(5)]  # five clients, one guess each

    assert forged == [404, 404, 404, 429, 429]
    assert through_proxy == [404] * 5


def test_forged_x_forwarded_for_from_outside_does_not_escape_the_login_lockout(behind_proxy):
    behind_proxy.ACCOUNT_RATE_LIMITS = {**behind_proxy.ACCOUNT_RATE_LIMITS, "login_failed_pair": "3/15m/key"}
    customer = UserFactory()
    direct = Client(REMOTE_ADDR=ATTACKER)

    answers = [
        direct.post(
            reverse("account_login"), {"login": customer.email, "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        )
        for n in range(5)
    ]

    assert [b"Too many failed log-in attempts" in answer.content for answer in answers] == [False] * 3 + [True] * 2


def test_x_forwarded_proto_makes_a_request_https_only_from_a_trusted_proxy(behind_proxy):
    behind_proxy.SECURE_SSL_REDIRECT = True

    forged = Client(REMOTE_ADDR=ATTACKER).get(reverse("landing"), HTTP_X_FORWARDED_PROTO="https")
    proxied = Client(REMOTE_ADDR="127.0.0.1").get(reverse("landing"), HTTP_X_FORWARDED_PROTO="https")

    assert forged.status_code == 301 and forged["Location"].startswith("https://")
    assert proxied.status_code == 200


@pytest.mark.parametrize(
    ("proxies", "peer", "trusted"),
    [
        ([], "127.0.0.1", False),  # no proxy configured: nobody's headers count
        (["127.0.0.1", "::1"], "127.0.0.1", True),
        (["127.0.0.1", "::1"], "::1", True),
        (["127.0.0.1"], "::ffff:127.0.0.1", True),  # an IPv4 peer on a dual-stack listener
        (["10.0.0.0/8"], "10.2.3.4", True),
        (["10.0.0.0/8"], "11.2.3.4", False),
        (["127.0.0.1"], "", True),  # a Unix socket: only this machine can connect
        (["127.0.0.1"], "not-an-address", False),
    ],
)
def test_trusted_proxies_are_addresses_and_networks(settings, proxies, peer, trusted):
    settings.TRUSTED_PROXIES = proxies

    assert from_trusted_proxy(peer) is trusted


def test_headers_from_elsewhere_never_reach_the_views(behind_proxy):
    from studio.core.net import ForwardedHeadersMiddleware

    seen = {}

    def view(request):
        seen.update(forwarded_for=request.headers.get("X-Forwarded-For"), host=request.headers.get("X-Forwarded-Host"))

    request = RequestFactory().get(
        "/", REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR="1.2.3.4", HTTP_X_FORWARDED_HOST="evil.example"
    )
    request.headers  # noqa: B018 - read before the middleware runs, as a caching middleware could
    ForwardedHeadersMiddleware(view)(request)

    assert seen == {"forwarded_for": None, "host": None}
