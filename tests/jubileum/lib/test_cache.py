"""The site's Redis cache (jubileum/lib/cache.py) against a real Redis: one client per pool, and the
rate limiter's counter in one round trip. CI has Redis on 127.0.0.1:6379; elsewhere these skip."""

from __future__ import annotations

import os
import socket
import uuid

import pytest

from jubileum.lib import ratelimit
from jubileum.lib.cache import RedisCache

REDIS_URL = os.environ.get("JUBILEUM_TEST_REDIS_URL", "redis://127.0.0.1:6379/12")


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(
    not _redis_answers() and not os.environ.get("CI"),
    reason="needs Redis on 127.0.0.1:6379 (CI has it)",
)


@pytest.fixture
def redis_cache():
    cache = RedisCache(REDIS_URL, {"KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}"})
    yield cache
    cache.clear()


def test_one_client_serves_every_call(redis_cache):
    client = redis_cache._cache.get_client(write=True)
    assert redis_cache._cache.get_client() is client
    assert redis_cache._cache.get_client("some-key", write=False) is client

    redis_cache.set("visits", 3)
    assert redis_cache.incr("visits") == 4
    assert redis_cache.get("visits") == 4
    assert redis_cache._cache.get_client() is client


def test_incr_in_window_counts_from_one_and_expires_with_the_window(redis_cache):
    assert [redis_cache.incr_in_window("scans", 60) for _n in range(3)] == [1, 2, 3]
    # The count is an ordinary cache value under the cache's own key (prefix and version).
    assert redis_cache.get("scans") == 3
    ttl = redis_cache._cache.get_client().ttl(redis_cache.make_key("scans"))
    assert 0 < ttl <= 60


def test_incr_in_window_keeps_the_first_expiry(redis_cache):
    redis_cache.incr_in_window("scans", 60)
    redis_cache.incr_in_window("scans", 3600)  # a later hit does not stretch the window
    assert redis_cache._cache.get_client().ttl(redis_cache.make_key("scans")) <= 60


def test_the_rate_limiter_uses_one_call_per_hit(redis_cache, monkeypatch):
    calls = []

    class Counted:
        def __getattr__(self, name):
            calls.append(name)
            return getattr(redis_cache, name)

    monkeypatch.setattr(ratelimit, "cache", Counted())
    answers = [ratelimit.hit("scan", "device-1", limit=2, window=60) for _n in range(4)]

    assert answers == [True, True, False, False]
    assert calls == ["incr_in_window"] * 4


def test_incr_in_window_survives_a_redis_that_forgot_the_script(redis_cache):
    """After a Redis restart (or SCRIPT FLUSH) the script is sent again, not refused."""
    assert redis_cache.incr_in_window("scans", 60) == 1
    redis_cache._cache.get_client().script_flush()
    assert redis_cache.incr_in_window("scans", 60) == 2
