"""With Redis down, people still log in and sign up, and rate limits still count (per process)."""

import logging
import os

import pytest
from django.core.cache import caches
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from accounts.models import User
from studio.core.ratelimit import rate_limit
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def redis_cache(location: str) -> dict:
    return {
        "default": {
            "BACKEND": "studio.core.cache.RedisCacheWithFallback",
            "LOCATION": location,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


@pytest.fixture
def redis_down(settings):
    settings.CACHES = redis_cache("redis://127.0.0.1:1/0")  # nothing listens on port 1
    return caches["default"]


@pytest.fixture
def live_redis(settings):
    url = os.environ.get("REDIS_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must run the cache tests against Redis (set REDIS_URL).")
        pytest.skip("needs Redis: run with REDIS_URL=redis://...")
    settings.CACHES = redis_cache(url.split("?")[0].rsplit("/", 1)[0] + "/15")  # a database of its own
    return caches["default"]


def test_with_redis_down_people_still_log_in_and_sign_up(client, redis_down):
    user = UserFactory()

    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("avatars:list")

    client.post(reverse("account_logout"))
    response = client.post(
        reverse("account_signup"),
        {"email": "new@example.test", "password1": "a-long-Pass-123", "password2": "a-long-Pass-123"},
    )
    assert response.status_code == 302
    assert User.objects.filter(email="new@example.test").exists()


def test_with_redis_down_wrong_passwords_are_still_limited(client, redis_down):
    user = UserFactory()
    for _ in range(10):
        client.post(reverse("account_login"), {"login": user.email, "password": "wrong"})

    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})

    assert b"Too many failed log-in attempts" in response.content
    assert client.get(reverse("avatars:list")).status_code == 302


def test_with_redis_down_our_rate_limits_count_in_each_process(redis_down, settings, user, caplog):
    settings.RATE_LIMITS = {"confirm": "3/m"}

    @rate_limit("confirm")
    def view(request):
        return HttpResponse("ok")

    request = RequestFactory().post("/")
    request.user = user
    with caplog.at_level(logging.WARNING, logger="studio.core.cache"):
        answers = [view(request).status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]
    assert "Redis unreachable" in caplog.text


def test_the_cache_goes_back_to_redis_once_it_answers_again(live_redis, monkeypatch):
    from django.core.cache.backends.redis import RedisCache
    from redis.exceptions import ConnectionError as RedisConnectionError

    live_redis.set("before", "the outage")

    def unreachable(*args, **kwargs):
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with monkeypatch.context() as outage:
        outage.setattr(RedisCache, "get", unreachable)
        assert live_redis.get("before") is None  # Redis failed: this process's memory answers
    live_redis.set("during", "the outage")  # Redis is left alone for a few seconds
    assert live_redis.get("during") == "the outage"

    monkeypatch.setattr(live_redis, "_down_until", 0.0)  # the few seconds are over
    assert live_redis.get("before") == "the outage"
    assert live_redis.get("during") is None
