"""The per-client rate limiter: fixed windows counted in the cache, one increment per hit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache

from jubileum.lib import ratelimit


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


class CountingCache:
    """The real cache, counting the calls (each is a round trip with Redis)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str):
        method = getattr(cache, name)

        def counted(*args, **kwargs):
            self.calls.append(name)
            return method(*args, **kwargs)

        return counted


def test_allows_the_limit_then_refuses(time_machine):
    time_machine.move_to(dt.datetime(2026, 12, 10, 18, 0, 5, tzinfo=dt.UTC), tick=False)
    answers = [ratelimit.hit("scan", "device-1", limit=3, window=60) for _n in range(5)]
    assert answers == [True, True, True, False, False]


def test_keys_and_scopes_count_apart(time_machine):
    time_machine.move_to(dt.datetime(2026, 12, 10, 18, 0, 5, tzinfo=dt.UTC), tick=False)
    assert ratelimit.hit("scan", "device-1", limit=1, window=60)
    assert not ratelimit.hit("scan", "device-1", limit=1, window=60)
    assert ratelimit.hit("scan", "device-2", limit=1, window=60)
    assert ratelimit.hit("search", "device-1", limit=1, window=60)


def test_a_new_window_starts_the_count_again(time_machine):
    time_machine.move_to(dt.datetime(2026, 12, 10, 18, 0, 58, tzinfo=dt.UTC), tick=False)
    assert ratelimit.hit("scan", "device-1", limit=1, window=60)
    assert not ratelimit.hit("scan", "device-1", limit=1, window=60)
    assert ratelimit.seconds_left(60) == 2

    time_machine.move_to(dt.datetime(2026, 12, 10, 18, 1, 0, tzinfo=dt.UTC), tick=False)
    assert ratelimit.hit("scan", "device-1", limit=1, window=60)


def test_a_hit_is_one_increment_once_the_window_has_a_counter(monkeypatch, time_machine):
    time_machine.move_to(dt.datetime(2026, 12, 10, 18, 0, 5, tzinfo=dt.UTC), tick=False)
    counting = CountingCache()
    monkeypatch.setattr(ratelimit, "cache", counting)

    ratelimit.hit("scan", "device-1", limit=10, window=60)
    assert counting.calls == ["incr", "add"]  # the window's first hit makes the counter

    counting.calls.clear()
    for _n in range(3):
        ratelimit.hit("scan", "device-1", limit=10, window=60)
    assert counting.calls == ["incr"] * 3
