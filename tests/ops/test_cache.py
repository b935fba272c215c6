"""The Redis cache (orderdesk.cache): Django's, with one client per connection pool instead of one per call."""

from __future__ import annotations

import os
import threading

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCacheClient as DjangoClient

from orderdesk.cache import RedisCache


@pytest.fixture
def redis_cache(settings):
    url = os.environ.get("CACHE_URL") or os.environ.get("REDIS_URL")
    if not url or not url.startswith("redis"):
        pytest.fail("these tests need a Redis (CACHE_URL / REDIS_URL)")
    settings.CACHES = {"default": {"BACKEND": "orderdesk.cache.RedisCache", "LOCATION": url,
                                   "KEY_PREFIX": "cache-test"}}
    cache = caches["default"]
    yield cache
    cache.clear()


def test_one_client_serves_every_call_and_the_values_round_trip(redis_cache):
    assert isinstance(redis_cache, RedisCache)
    client = redis_cache._cache
    assert client.get_client() is client.get_client("k") is client.get_client(write=True)
    # Django's own client builds a new one per call: the reason for this backend
    stock = DjangoClient(client._servers)
    assert stock.get_client() is not stock.get_client()

    redis_cache.set("answer", {"n": 42}, 30)
    assert redis_cache.get("answer") == {"n": 42}
    assert redis_cache.add("answer", 1, 30) is False
    assert redis_cache.add("count", 0, 30) is True
    assert redis_cache.incr("count") == 1 and redis_cache.get("count") == 1


def test_threads_share_the_client_safely(redis_cache):
    errors = []

    def work(i):
        try:
            for j in range(50):
                redis_cache.set(f"t{i}:{j}", j, 30)
                assert redis_cache.get(f"t{i}:{j}") == j
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
