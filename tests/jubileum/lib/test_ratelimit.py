"""The per-client rate limiter: fixed windows counted in the cache, one increment per hit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from ninja.errors import Throttled

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


def test_limit_refuses_past_the_named_limit_until_the_window_ends(settings, time_machine):
    time_machine.move_to(dt.datetime(2026, 12, 10, 18, 0, 15, tzinfo=dt.UTC), tick=False)
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": (2, 60)}
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.1")
    ratelimit.limit(request, "signup")
    ratelimit.limit(request, "signup")

    with pytest.raises(Throttled) as refused:
        ratelimit.limit(request, "signup")

    assert refused.value.wait == 45
    ratelimit.limit(RequestFactory().post("/", REMOTE_ADDR="192.0.2.2"), "signup")


def test_limit_counts_by_the_key_given_instead_of_the_address(settings, time_machine):
    time_machine.move_to(dt.datetime(2026, 12, 10, 18, 0, 5, tzinfo=dt.UTC), tick=False)
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "resend": (1, 60)}
    request = RequestFactory().post("/")
    ratelimit.limit(request, "resend", key="7")
    ratelimit.limit(request, "resend", key="8")

    with pytest.raises(Throttled):
        ratelimit.limit(request, "resend", key="7")


def test_limit_without_counting_refuses_only_a_client_already_over(settings, time_machine):
    time_machine.move_to(dt.datetime(2026, 12, 10, 18, 0, 5, tzinfo=dt.UTC), tick=False)
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "lookup_miss": (1, 60)}
    request = RequestFactory().get("/")
    for _n in range(3):
        ratelimit.limit(request, "lookup_miss", count=False)
    ratelimit.limit(request, "lookup_miss")
    ratelimit.limit(request, "lookup_miss", count=False)  # at the limit, not over it

    with pytest.raises(Throttled):
        ratelimit.limit(request, "lookup_miss")
    with pytest.raises(Throttled):
        ratelimit.limit(request, "lookup_miss", count=False)
