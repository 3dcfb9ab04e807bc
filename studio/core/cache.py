"""The Redis cache, or this process's memory while Redis cannot be reached.

The cache holds nothing the studio cannot lose, only counters: allauth's login and sign-up limits
and our own rate limits. When Redis is down they must not turn every log-in into an error (or,
failing closed, into "too many attempts"). So each operation that meets a Redis error is served
by a local-memory cache instead, and Redis is left alone for a few seconds before it is tried
again, so that a network that drops packets does not add a socket timeout to every request.
Limits then count per process until Redis is back: looser, never off.
"""

import logging
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RETRY_AFTER = 5.0  # seconds without trying Redis after it failed


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

    def add(self, *args, **kwargs):
        return self._call("add", *args, **kwargs)

    def get(self, *args, **kwargs):
        return self._call("get", *args, **kwargs)

    def set(self, *args, **kwargs):
        return self._call("set", *args, **kwargs)

    def touch(self, *args, **kwargs):
        return self._call("touch", *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._call("delete", *args, **kwargs)

    def get_many(self, *args, **kwargs):
        return self._call("get_many", *args, **kwargs)

    def has_key(self, *args, **kwargs):
        return self._call("has_key", *args, **kwargs)

    def incr(self, *args, **kwargs):
        return self._call("incr", *args, **kwargs)

    def set_many(self, *args, **kwargs):
        return self._call("set_many", *args, **kwargs)

    def delete_many(self, *args, **kwargs):
        return self._call("delete_many", *args, **kwargs)

    def clear(self):
        return self._call("clear")
