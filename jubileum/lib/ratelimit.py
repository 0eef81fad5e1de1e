"""A small per-client rate limiter on Django's cache.

Counts live in the cache, not in process memory, so with Redis (`REDIS_URL`) every app server
sees the same counts. Each limit is a fixed window: a hit `cache.incr`s the window's counter
(atomic in Redis and in the local-memory cache) and only the first hit of a window, finding none,
creates it with `cache.add` (atomic: only one process wins). On the site's Redis cache
(jubileum/lib/cache.py) both happen in one round trip. A burst straddling two windows may get up to
twice the limit through; for keeping bots off a sign-up form, or a lost phone off the check-in
API, that is good enough.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja.errors import Throttled

# (requests, window in seconds) per client address, for what a person does by hand; a bot or a
# guesser runs into them, a family never does. settings.RATE_LIMITS overrides any of them.
DEFAULT_LIMITS: dict[str, tuple[int, int]] = {
    # Sign-ups, through the form and the API together.
    "signup": (10, 10 * 60),
    # Personal links that match no registration: someone guessing tokens. Only misses count;
    # past the limit every lookup from that address is refused until the window ends.
    "lookup_miss": (20, 10 * 60),
    # Claims of a waitlist offer.
    "claim": (10, 10 * 60),
    # Organiser login attempts with any username (django-axes locks out per username).
    "login": (30, 10 * 60),
}


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
    bucket = int(time.time() // window)
    cache_key = f"ratelimit:{scope}:{key}:{bucket}"
    incr_in_window = getattr(cache, "incr_in_window", None)
    if incr_in_window is not None:
        return incr_in_window(cache_key, window) <= limit
    try:
        count = cache.incr(cache_key)
    except ValueError:
        # No counter yet: the first hit of this window, unless another process just made it.
        count = 1 if cache.add(cache_key, 1, timeout=window) else _incr_or_start(cache_key, window)
    return count <= limit


def _incr_or_start(cache_key: str, window: int) -> int:
    try:
        return cache.incr(cache_key)
    except ValueError:  # it expired in between: this hit starts the count
        cache.add(cache_key, 1, timeout=window)
        return 1


def seconds_left(window: int) -> int:
    """Seconds until the current window ends and the counts start again."""
    return window - int(time.time() % window)


def too_many_requests(request: HttpRequest, retry_after: int) -> HttpResponse:
    """The friendly 429 page, with Retry-After for clients that read it."""
    response = render(request, "429.html", {"retry_minutes": max(retry_after // 60, 1)}, status=429)
    response.headers["Retry-After"] = str(retry_after)
    return response


def limit_per_ip(
    scope: str, limits: Callable[[], tuple[int, int]]
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Decorate a view so a client (by IP) gets the 429 page after `limit` requests per
    `window` seconds; `limits()` returns (limit, window) and is read per request, so settings
    and tests can change it."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            limit, window = limits()
            if not hit(scope, client_ip(request), limit=limit, window=window):
                return too_many_requests(request, seconds_left(window))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def limits_for(scope: str) -> tuple[int, int]:
    return getattr(settings, "RATE_LIMITS", {}).get(scope, DEFAULT_LIMITS[scope])


def count_request(request: HttpRequest, scope: str) -> None:
    """Count one request from this client at `scope`; over the limit raise ninja's Throttled,
    which the API answers as JSON 429 and RateLimitMiddleware as the 429 page."""
    limit, window = limits_for(scope)
    if not hit(scope, client_ip(request), limit=limit, window=window):
        raise Throttled(wait=seconds_left(window))


def refuse_if_exceeded(request: HttpRequest, scope: str) -> None:
    """Raise Throttled when this client is already over `scope`'s limit, without counting."""
    limit, window = limits_for(scope)
    bucket = int(time.time() // window)
    if (cache.get(f"ratelimit:{scope}:{client_ip(request)}:{bucket}") or 0) > limit:
        raise Throttled(wait=seconds_left(window))
