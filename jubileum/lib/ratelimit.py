"""A small per-client rate limiter on Django's cache.

Counts live in the cache, not in process memory, so with Redis (`REDIS_URL`) every app server
sees the same counts. Each limit is a fixed window: a hit `cache.incr`s the window's counter
(atomic in Redis and in the local-memory cache) and only the first hit of a window, finding none,
creates it with `cache.add` (atomic: only one process wins). On the site's Redis cache
(jubileum/lib/cache.py) both happen in one round trip; while Redis is away that cache counts in
each process's memory, so the limits hold per process and nobody is refused for the outage. A
burst straddling two windows may get up to twice the limit through; for keeping bots off a
sign-up form, or a lost phone off the check-in API, that is good enough.

Every limit is named in `settings.RATE_LIMITS` and applied one way, `limit(request, name)`: over
it, ninja's `Throttled` is raised, which the API answers as JSON 429 and `RateLimitMiddleware` as
the 429 page, both with Retry-After.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja.errors import Throttled

from jubileum.lib.cache import count_in_window


def client_ip(request: HttpRequest) -> str:
    """The address the request came from.

    REMOTE_ADDR only: X-Forwarded-For is set by whoever sends the request, so trusting it would
    let a bot pick a fresh address for every request. Behind a reverse proxy or load balancer
    REMOTE_ADDR is the proxy's address and every visitor would share one limit; there, let the
    proxy overwrite REMOTE_ADDR with the client's address (gunicorn's --forwarded-allow-ips plus
    a proxy that sets the header itself) rather than reading the header here.
    """
    return request.META.get("REMOTE_ADDR") or "unknown"


def hit(scope: str, key: str, *, limit: int, window: int) -> bool:
    """Count one attempt by `key` at `scope`; True while it stays within `limit` per `window`
    seconds, False once it goes over."""
    return count_in_window(cache, _cache_key(scope, key, window), window) <= limit


def seconds_left(window: int) -> int:
    """Seconds until the current window ends and the counts start again."""
    return window - int(time.time() % window)


def too_many_requests(request: HttpRequest, retry_after: int) -> HttpResponse:
    """The friendly 429 page, with Retry-After for clients that read it."""
    response = render(request, "429.html", {"retry_minutes": max(retry_after // 60, 1)}, status=429)
    response.headers["Retry-After"] = str(retry_after)
    return response


def limit(request: HttpRequest, name: str, *, key: str | None = None, count: bool = True) -> None:
    """Count one request at `settings.RATE_LIMITS[name]` by `key` (the client's address unless
    given); over the limit raise `Throttled` with the seconds until the window ends.

    With `count=False` nothing is counted: a client already over the limit is refused, so a
    lookup that counts only its misses also stops a guesser's next hit.
    """
    allowed, window = settings.RATE_LIMITS[name]
    key = client_ip(request) if key is None else key
    if count:
        over = not hit(name, key, limit=allowed, window=window)
    else:
        over = (cache.get(_cache_key(name, key, window)) or 0) > allowed
    if over:
        raise Throttled(wait=seconds_left(window))


def _cache_key(scope: str, key: str, window: int) -> str:
    return f"ratelimit:{scope}:{key}:{int(time.time() // window)}"
