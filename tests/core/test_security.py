import json
import logging
import re

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django_htmx.middleware import HtmxDetails

from studio.core.logging import RedactSecrets
from studio.core.net import client_ip
from studio.core.ratelimit import rate_limit
from studio.core.redaction import redact_text as redact

pytestmark = pytest.mark.django_db


def test_redaction_removes_callback_tokens_keys_and_bearer_headers():
    line = (
        'POST /astria/callbacks/9f2c4e1b7a6d5c3e/ 200 Authorization: Bearer sd_live1234567890 '
        "key=sd_abcdefghijkl stripe=sk_test_51Habcdefghijkl"
    )

    cleaned = redact(line)

    for secret in ("9f2c4e1b7a6d5c3e", "sd_live1234567890", "sd_abcdefghijkl", "sk_test_51Habcdefghijkl"):
        assert secret not in cleaned
    assert "/astria/callbacks/[redacted]/" in cleaned


def test_log_filter_redacts_messages_arguments_and_tracebacks():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "GET %s", ("/astria/callbacks/abcdef123456/",), None)
    try:
        raise ValueError("token /astria/callbacks/abcdef123456/ in error")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()

    record.request = "<WSGIRequest: POST '/astria/callbacks/abcdef123456/'>"

    RedactSecrets().filter(record)

    assert "abcdef123456" not in record.getMessage()
    assert "abcdef123456" not in record.request
    assert "[redacted]" in record.getMessage()
    assert record.exc_info is None


def test_client_ip_trusts_only_our_own_proxies(settings):
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", REMOTE_ADDR="10.0.0.2")

    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.9"  # the forged left-most hop is ignored


def test_rate_limited_action_answers_429_with_retry_after(settings, user):
    settings.RATE_LIMITS = {"confirm": "3/m"}

    @rate_limit("confirm")
    def view(request):
        return HttpResponse("ok")

    factory = RequestFactory()
    statuses = []
    for _ in range(5):
        request = factory.post("/")
        request.user = user
        statuses.append(view(request).status_code)
    request = factory.post("/")
    request.user = user
    response = view(request)

    assert statuses == [200, 200, 200, 429, 429]
    assert 0 < int(response["Retry-After"]) <= 60  # until the minute's count starts afresh
    assert "Please wait" in response.content.decode()
    get = factory.get("/")
    get.user = user
    assert view(get).status_code == 200  # reading never counts


def test_a_rate_limited_htmx_request_gets_the_wait_as_a_toast(settings, user):
    settings.RATE_LIMITS = {"favourite": "1/h"}

    @rate_limit("favourite")
    def view(request):
        return HttpResponse("ok")

    answers = []
    for _ in range(2):
        request = RequestFactory().post("/", headers={"HX-Request": "true"})
        request.user = user
        request.htmx = HtmxDetails(request)
        answers.append(view(request))

    toast = json.loads(answers[1]["HX-Trigger"])["toast"]
    assert answers[1].status_code == 429 and 0 < int(answers[1]["Retry-After"]) <= 3600
    assert toast["level"] == "error"
    # The hour's window is the limiter's own (not this test's), so what is left of it may be seconds.
    wait = r"You did that many times in a short while\. Please wait \d+ (second|minute)s? and try again\."
    assert re.fullmatch(wait, toast["message"])


def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get(reverse("landing"))

    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Content-Type-Options"] == "nosniff"


def test_purchases_are_rate_limited(client, user, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "purchase": "2/m"}
    client.force_login(user)

    statuses = [client.post(reverse("credits:buy"), {"pack": "starter"}).status_code for _ in range(3)]

    assert 429 not in statuses[:2] and statuses[2] == 429


def test_guessing_callback_tokens_is_rate_limited_but_real_callbacks_are_not(
    client, settings, user, make_draft, studio_on_sandbox, django_capture_on_commit_callbacks
):
    from studio.avatars import callbacks as tokens
    from studio.avatars import services

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "callback": "3/m"}
    avatar = make_draft(user)
    with django_capture_on_commit_callbacks(execute=True):
        services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
    avatar.refresh_from_db()
    real = reverse("astria_callback", args=[tokens.token_for(kind="tune", nonce=avatar.callback_nonce)])

    guesses = [client.post(reverse("astria_callback", args=[f"{n:064d}"])).status_code for n in range(5)]
    real_after_guesses = client.post(real, "{}", content_type="application/json")

    assert guesses == [404, 404, 404, 429, 429]
    assert 0 < int(guesses_retry_after(client)) <= 60
    assert real_after_guesses.status_code == 200


def guesses_retry_after(client) -> str:
    return client.post(reverse("astria_callback", args=["f" * 64])).headers["Retry-After"]
