"""Redis gone (SIGKILL) or hanging (SIGSTOP) under the cache and rate limits: every page and API
answers as it does with Redis, within the same time plus half a second; one warning in the log;
/readyz says 503 while /healthz stays 200; and once Redis is back it is used again.

A real `redis-server` of the test's own (tests/faults/conftest.py), with the cache configured as
jubileum/settings.py configures it for `REDIS_URL` (its timeouts and all), only the time before
Redis is asked again shortened to keep the test quick. Times are compared with the same requests
made in the same test while Redis answered, never with fixed figures.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import time
import types
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from events.models import Activity
from jubileum.lib import cache as cache_module
from registrations.checkin import devices
from tests.faults.conftest import RedisServer
from tests.helpers import settings_from, signup_form

pytestmark = pytest.mark.django_db

API = "/api/v1"
RETRY_AFTER = 2  # REDIS_RETRY_AFTER here: seconds before a process asks a failed Redis again
SLACK = 0.5  # what an outage may add to a request, in seconds
PASSWORD = "wachtwoord-123"  # make_user's
Answers = dict[str, tuple[Any, float]]


def cache_settings(redis_url: str, tmp_path, **env: str) -> dict:
    """settings.CACHES as jubileum/settings.py makes it for this REDIS_URL."""
    environment = {"DJANGO_DEBUG": "1", "REDIS_URL": redis_url, **env}
    return settings_from(environment, tmp_path / "settings")["CACHES"]


@pytest.fixture
def redis_cache(settings, redis_server, tmp_path) -> RedisServer:
    """The site's cache on the test's own Redis."""
    settings.CACHES = cache_settings(redis_server.url, tmp_path, REDIS_RETRY_AFTER=str(RETRY_AFTER))
    return redis_server


def timed(request: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    answer = request()
    return answer, time.perf_counter() - started


@dataclass
class Visitors:
    """The requests that Redis going away used to break, each made afresh by `round()`: a
    personal page, a sign-up by form and by API, an organiser's login and a scan at the door."""

    activity: Activity
    make_registration: Callable[..., Any]
    device_token: str
    username: str

    def __post_init__(self) -> None:
        self.numbers = itertools.count(1)

    def round(self) -> Answers:
        n = next(self.numbers)
        activity = self.activity
        registration = self.make_registration(activity=activity, party_size=1)
        resident, organiser = Client(), Client()
        signup_url = reverse(
            "registrations:signup",
            kwargs={"programme_slug": activity.programme.slug, "slug": activity.slug},
        )
        sign_up = {
            "contact_name": f"Familie {n}",
            "email": f"api{n}@example.net",
            "party_size": 1,
            "kind": "resident",
            "consent": True,
        }
        scan = {
            "code": f"JUB1:{registration.ticket_code}",
            "activity": activity.pk,
            "nonce": str(uuid.uuid4()),
        }

        def check_in() -> tuple[int, str]:
            response = resident.post(
                f"{API}/checkin/redeem",
                scan,
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {self.device_token}",
            )
            return response.status_code, response.json()["result"]

        return {
            "personal page": timed(
                lambda: resident.get(f"/aanmelding/{registration.manage_token}/").status_code
            ),
            "sign-up form": timed(
                lambda: (
                    resident.post(
                        signup_url, signup_form(email=f"form{n}@example.net", party_size="1")
                    ).status_code
                )
            ),
            "sign-up API": timed(
                lambda: (
                    resident.post(
                        f"{API}/activities/{activity.pk}/registrations",
                        sign_up,
                        content_type="application/json",
                    ).status_code
                )
            ),
            "login": timed(
                lambda: (
                    organiser.post(
                        "/inloggen/", {"username": self.username, "password": PASSWORD}
                    ).status_code
                )
            ),
            "check-in": timed(check_in),
        }


EXPECTED = {
    "personal page": 200,
    "sign-up form": 303,
    "sign-up API": 202,
    "login": 302,
    "check-in": (200, "ok"),
}


@pytest.fixture
def visitors(make_activity, make_registration, organiser) -> Visitors:
    activity = make_activity(starts_at=timezone.now() + dt.timedelta(hours=1), capacity=500)
    new = devices.create_device(activity.programme, [activity.pk], name="Noord")
    paired = Client().post(
        f"{API}/scanner/pair", {"code": new.pairing_code}, content_type="application/json"
    )
    assert paired.status_code == 200, paired.content
    return Visitors(activity, make_registration, paired.json()["token"], organiser.username)


def with_redis(visitors: Visitors) -> Answers:
    """The answers with Redis up, and the slower time of two rounds for each (after one to warm
    up: templates compiled, connections opened)."""
    visitors.round()
    first, second = visitors.round(), visitors.round()
    baseline = {
        name: (answer, max(seconds, second[name][1])) for name, (answer, seconds) in first.items()
    }
    assert {name: answer for name, (answer, _s) in baseline.items()} == EXPECTED
    assert {name: answer for name, (answer, _s) in second.items()} == EXPECTED
    return baseline


def assert_as_with_redis(answers: Answers, baseline: Answers) -> None:
    for name, (answer, seconds) in answers.items():
        expected, usual = baseline[name]
        assert answer == expected, name
        assert seconds <= usual + SLACK, f"{name}: {seconds:.3f} s, with Redis {usual:.3f} s"


def cache_warnings(caplog) -> list[logging.LogRecord]:
    records = caplog.records
    return [r for r in records if r.name == cache_module.__name__ and r.levelno >= logging.WARNING]


def signup_count_in_redis(server: RedisServer) -> int:
    [key] = server.client().keys("*ratelimit:signup:*")
    return int(server.client().get(key))


@pytest.mark.parametrize("fault", ["killed", "hanging"])
def test_the_site_answers_as_usual_while_redis_is_away_and_uses_it_again_after(
    fault, redis_cache, visitors, client, caplog
):
    server = redis_cache
    assert client.get("/readyz").json()["redis"] == "ok"
    baseline = with_redis(visitors)
    assert signup_count_in_redis(server) == 6  # three rounds, a form and an API sign-up each

    if fault == "killed":
        server.kill()
    else:
        server.pause()
    outage = [visitors.round() for _n in range(3)]

    # Every answer as with Redis; each request's time, the middle of its three, within the slack:
    # a request slow in every round fails, one stalled once by a busy machine does not. The
    # first call after the failure waits one socket timeout (measured on its own below).
    for answers in outage:
        assert {name: answer for name, (answer, _s) in answers.items()} == EXPECTED
    assert_as_with_redis(
        {
            name: (outage[0][name][0], sorted(round_[name][1] for round_ in outage)[1])
            for name in EXPECTED
        },
        baseline,
    )
    # One warning for the fifteen requests and their twenty-odd cache calls.
    [warning] = cache_warnings(caplog)
    assert warning.getMessage().startswith(
        f"Redis at {server.url} does not answer ("
        + ("ConnectionError" if fault == "killed" else "TimeoutError")
    )
    assert "use this process's memory until it does" in warning.getMessage()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert ready.json()["redis"] == "down"
    assert ready.json()["database"] == "ok"
    assert client.get("/healthz").status_code == 200

    if fault == "killed":
        server.start()
    else:
        server.resume()
    time.sleep(RETRY_AFTER)
    assert_as_with_redis(visitors.round(), baseline)

    # The count went on in Redis: it lost everything when killed, nothing when paused.
    assert signup_count_in_redis(server) == (2 if fault == "killed" else 8)
    assert f"Redis at {server.url} answers again" in caplog.text
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["redis"] == "ok"
    assert len(cache_warnings(caplog)) == 1


def test_rate_limits_still_hold_per_process_while_redis_is_gone(
    redis_cache, settings, activity, client
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": (2, 600)}
    url = f"{API}/activities/{activity.pk}/registrations"

    def sign_up(n: int) -> int:
        body = {
            "contact_name": f"Familie {n}",
            "email": f"limiet{n}@example.net",
            "party_size": 1,
            "kind": "resident",
            "consent": True,
        }
        return client.post(url, body, content_type="application/json").status_code

    redis_cache.kill()

    assert [sign_up(n) for n in range(3)] == [202, 202, 429]


@pytest.fixture
def clock(monkeypatch) -> types.SimpleNamespace:
    """The cache's clock for keeping away from Redis, moved by hand (`clock.now`)."""
    clock = types.SimpleNamespace(now=1000.0)
    monkeypatch.setattr(cache_module, "time", types.SimpleNamespace(monotonic=lambda: clock.now))
    return clock


def test_after_a_failure_calls_skip_redis_until_it_is_asked_again(
    redis_cache, settings, clock, caplog
):
    """A hanging Redis costs one socket timeout, then nothing for RETRY_AFTER seconds; then one
    call asks it again; once it answers, it is used at once."""
    cache = caches["default"]
    timeout = settings.CACHES["default"]["OPTIONS"]["socket_timeout"]
    cache.set("programme", "brandweer")
    redis_cache.pause()

    first, seconds = timed(lambda: cache.get("programme"))
    assert first is None  # from this process's memory, which has no such key
    assert timeout <= seconds < timeout + SLACK
    started = time.perf_counter()
    counts = [cache.incr_in_window("scans", 60) for _n in range(50)]
    assert counts == list(range(1, 51))
    assert time.perf_counter() - started < timeout  # not one of them waited for Redis

    clock.now += RETRY_AFTER
    _answer, seconds = timed(lambda: cache.get("programme"))
    assert seconds >= timeout  # asked again, still hanging
    assert timed(lambda: cache.get("programme"))[1] < timeout  # and away again

    redis_cache.resume()
    clock.now += RETRY_AFTER
    assert cache.get("programme") == "brandweer"
    assert cache.incr_in_window("scans", 60) == 1  # Redis's own count
    assert len(cache_warnings(caplog)) == 1

    # A Redis away again within the minute is not warned about again; after it, it is.
    redis_cache.kill()
    cache.get("programme")
    assert len(cache_warnings(caplog)) == 1
    clock.now += 60
    cache.get("programme")
    assert len(cache_warnings(caplog)) == 2
