"""Django's Redis cache with one client per connection pool.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` object for every cache call; building one
fills its table of response callbacks (~170 entries), which cost about a fifth of a millisecond per call: two
calls per API request (the throttle's read and write). A ``redis.Redis`` client is thread-safe over its pool, so
one per pool serves every call (settings.CACHES names this backend for a Redis URL).
"""

from __future__ import annotations

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient

    def raw_client(self):
        """The ``redis.Redis`` client of the write pool, for commands Django's cache API lacks (the throttles'
        counters: ``orderdesk.throttling``); keys made with ``make_and_validate_key``."""
        return self._cache.get_client(write=True)
