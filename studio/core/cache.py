"""The Redis cache, or this process's memory while Redis cannot be reached.

The cache holds nothing the studio cannot lose: counters (allauth's login and sign-up limits and
our own rate limits) and pages' parts as last rendered, kept per version of what they show
(studio/avatars/page_cache.py), which a miss renders again. When Redis is down, the counters
must not turn every log-in into an error (or, failing closed, into "too many attempts"). So each
operation that meets a Redis error is served by a local-memory cache instead, and Redis is left
alone for a few seconds before it is tried again, so that a network that drops packets does not
add a socket timeout to every request. Limits then count per process until Redis is back:
looser, never off.
"""

import logging
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RETRY_AFTER = 5.0  # seconds without trying Redis after it failed


def _falling_back(name: str):
    def method(self, *args, **kwargs):
        return self._call(name, *args, **kwargs)

    method.__name__ = name
    return method


class RedisCacheWithFallback(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._fallback = LocMemCache(f"fallback-for-{server}", {"TIMEOUT": params.get("TIMEOUT", 300)})
        self._down_until = 0.0

    def _call(self, name: str, *args, **kwargs):
        if time.monotonic() >= self._down_until:
            try:
                return getattr(super(), name)(*args, **kwargs)
            except RedisError as exc:
                self._down_until = time.monotonic() + RETRY_AFTER
                logger.warning("cache: Redis unreachable, using this process's memory for a while: %s", exc)
        return getattr(self._fallback, name)(*args, **kwargs)

    # Every operation of Django's RedisCache; the others (get_or_set, decr...) are built on these.
    add = _falling_back("add")
    get = _falling_back("get")
    set = _falling_back("set")
    touch = _falling_back("touch")
    delete = _falling_back("delete")
    get_many = _falling_back("get_many")
    has_key = _falling_back("has_key")
    incr = _falling_back("incr")
    set_many = _falling_back("set_many")
    delete_many = _falling_back("delete_many")
    clear = _falling_back("clear")
