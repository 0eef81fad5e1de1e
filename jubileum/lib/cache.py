"""Django's Redis cache with one Redis client per connection pool, a one-trip counter, and a
fallback to process memory while Redis is away.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` for every cache call, and
redis-py fills some 170 response callbacks in each one's constructor: about 0.2 ms of CPU per
call, more than the round trip to Redis itself. A `redis.Redis` takes a connection from its pool
per command and is safe to share between threads, so one per pool does.

`incr_in_window` is what the rate limiter (jubileum/lib/ratelimit.py) needs: create the counter with
its expiry if missing and add one, in a single round trip (a Lua script).

Redis going away must not take the site with it: nothing kept in this cache is more than a rate
limit's count. A call that finds Redis gone (refused, reset) or hanging (no answer within the
socket timeout, settings' CACHES OPTIONS) is answered from a local-memory cache in this process
instead, and for the next `RETRY_AFTER` seconds every call goes there straight away, without
waiting for the timeout again; then one call tries Redis again. Counts are per process meanwhile.
One warning a minute says so; Redis answering again is logged too, and used at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from jubileum.lib.logs import redact_url

logger = logging.getLogger(__name__)

# What redis-py raises for a Redis that is down, restarting, unreachable or not answering in time.
REDIS_AWAY = (RedisConnectionError, RedisTimeoutError)
# Seconds every call goes straight to the fallback after Redis failed one (OPTIONS' RETRY_AFTER).
DEFAULT_RETRY_AFTER = 5.0
# At most one warning per this many seconds per process, however many requests meet the outage.
WARN_EVERY = 60.0
# Rate-limit counters are small; the local-memory default of 300 would drop counts in an outage.
FALLBACK_MAX_ENTRIES = 10_000


def count_in_window(cache: Any, key: str, window: int) -> int:
    """Add one to the counter `key` in `cache`, which starts at 0 and lives `window` seconds from
    its first hit; the new count. On our Redis cache one round trip (`incr_in_window`); on any
    other an `incr`, and only for the window's first hit an `add` (atomic: one process wins)."""
    incr_in_window = getattr(cache, "incr_in_window", None)
    if incr_in_window is not None:
        return int(incr_in_window(key, window))
    try:
        return int(cache.incr(key))
    except ValueError:
        # No counter yet: the first hit of this window, unless another process just made it.
        if cache.add(key, 1, timeout=window):
            return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # it expired in between: this hit starts the count
        cache.add(key, 1, timeout=window)
        return 1


class Outage:
    """Whether this process should ask one Redis server now (shared by every thread's cache
    object for that server): always while it answers; after a failure, one caller per
    `retry_after` seconds, while the others go straight to the fallback."""

    def __init__(self, location: str, retry_after: float) -> None:
        self.location = location
        self.shown = ",".join(redact_url(url) for url in location.split(","))
        self.retry_after = retry_after
        self._lock = threading.Lock()
        self._down = False
        self._ask_after = 0.0
        self._warned_at: float | None = None

    def ask_redis(self) -> bool:
        if not self._down:  # the good case: no lock, no clock
            return True
        with self._lock:
            now = time.monotonic()
            if now < self._ask_after:
                return False
            # This caller tries; until it knows, the others keep to the fallback.
            self._ask_after = now + self.retry_after
            return True

    def failed(self, error: Exception) -> None:
        with self._lock:
            now = time.monotonic()
            self._down = True
            self._ask_after = now + self.retry_after
            warn = self._warned_at is None or now - self._warned_at >= WARN_EVERY
            if warn:
                self._warned_at = now
        if warn:
            logger.warning(
                "Redis at %s does not answer (%s: %s); the cache and rate limits use this "
                "process's memory until it does (asked again every %g s)",
                self.shown,
                type(error).__name__,
                error,
                self.retry_after,
            )

    def answered(self) -> None:
        if not self._down:
            return
        with self._lock:
            was_down, self._down = self._down, False
        if was_down:
            logger.info("Redis at %s answers again; the cache and rate limits use it", self.shown)


_outages: dict[tuple[str, float], Outage] = {}
_outages_lock = threading.Lock()


def _outage_for(location: str, retry_after: float) -> Outage:
    with _outages_lock:
        return _outages.setdefault((location, retry_after), Outage(location, retry_after))


class SharedRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Django's RedisCacheClient has these private members; django-stubs leaves them out.
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
            client = self._clients.setdefault(index, self._client(connection_pool=pool))  # type: ignore[attr-defined]
        return client


# Make the counter with its expiry unless it exists, then count: atomic, as Redis runs a script
# whole. One command, and a third of the CPU of the same in MULTI/EXEC.
_INCR_IN_WINDOW = """
redis.call('SET', KEYS[1], 0, 'EX', ARGV[1], 'NX')
return redis.call('INCR', KEYS[1])
"""


class RedisCache(DjangoRedisCache):
    """settings.CACHES' BACKEND `jubileum.lib.cache.RedisCache`: Django's, sharing its clients,
    and answering from this process's memory while Redis is away (see the module's doc).

    OPTIONS go to redis-py's connection pool (`socket_timeout`, `socket_connect_timeout`, ...),
    except `RETRY_AFTER`: seconds to keep away from Redis after it failed a call.
    """

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS", {}))
        retry_after = float(options.pop("RETRY_AFTER", DEFAULT_RETRY_AFTER))
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = SharedRedisCacheClient
        self._incr_script: Any = None
        location = server if isinstance(server, str) else ",".join(server)
        self.outage = _outage_for(location, retry_after)
        # LocMemCache keeps its entries per name in the process, so every thread's instance of
        # this cache shares one fallback.
        self.fallback = LocMemCache(
            f"{__name__}.fallback:{location}",
            {**params, "OPTIONS": {"MAX_ENTRIES": FALLBACK_MAX_ENTRIES}},
        )

    def _redis_or_fallback(
        self, in_redis: Callable[..., Any], in_fallback: Callable[..., Any], *args: Any
    ) -> Any:
        if self.outage.ask_redis():
            try:
                result = in_redis(*args)
            except REDIS_AWAY as error:
                self.outage.failed(error)
            else:
                self.outage.answered()
                return result
        return in_fallback(*args)

    def ping(self) -> bool:
        """Whether Redis answers, as this process sees it: False without asking while it keeps
        away after a failure."""
        client = self._cache.get_client(write=True)
        return bool(self._redis_or_fallback(client.ping, lambda: False))

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._redis_or_fallback(super().add, self.fallback.add, key, value, timeout, version)

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._redis_or_fallback(super().get, self.fallback.get, key, default, version)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        self._redis_or_fallback(super().set, self.fallback.set, key, value, timeout, version)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._redis_or_fallback(super().touch, self.fallback.touch, key, timeout, version)

    def delete(self, key: Any, version: Any = None) -> Any:
        return self._redis_or_fallback(super().delete, self.fallback.delete, key, version)

    def get_many(self, keys: Any, version: Any = None) -> Any:
        return self._redis_or_fallback(super().get_many, self.fallback.get_many, keys, version)

    def has_key(self, key: Any, version: Any = None) -> Any:
        return self._redis_or_fallback(super().has_key, self.fallback.has_key, key, version)

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> Any:
        return self._redis_or_fallback(super().incr, self.fallback.incr, key, delta, version)

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._redis_or_fallback(
            super().set_many, self.fallback.set_many, data, timeout, version
        )

    def delete_many(self, keys: Any, version: Any = None) -> None:
        self._redis_or_fallback(super().delete_many, self.fallback.delete_many, keys, version)

    def clear(self) -> Any:
        self.fallback.clear()
        return self._redis_or_fallback(super().clear, self.fallback.clear)

    def incr_in_window(self, key: str, window: int) -> int:
        """Add one to the counter `key`, which starts at 0 and lives `window` seconds from its
        first hit; the new count. One round trip (a script, sent by its SHA once Redis has it)."""
        return int(
            self._redis_or_fallback(
                self._incr_in_window_in_redis, self._count_in_fallback, key, window
            )
        )

    def _count_in_fallback(self, key: str, window: int) -> int:
        return count_in_window(self.fallback, key, window)

    def _incr_in_window_in_redis(self, key: str, window: int) -> int:
        redis_key = self.make_and_validate_key(key)
        client = self._cache.get_client(redis_key, write=True)
        if self._incr_script is None:
            self._incr_script = client.register_script(_INCR_IN_WINDOW)
        return int(self._incr_script(keys=[redis_key], args=[window], client=client))
