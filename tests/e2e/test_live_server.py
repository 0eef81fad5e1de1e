"""The live server the browser tests talk to answers requests that arrive together as the real
server does.

A scanner page polls its counts while a scan is redeemed: two request threads at once. When
every thread shared the one connection of the in-memory SQLite test database, one thread's
statement was reset under the other: the device lookup came back empty (401, and the page
forgot its pairing) or a BEGIN met the other thread's transaction (503). See `live_server` in
tests/conftest.py. Marked `browser` because it belongs with the tests that share the server,
which run last.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import urllib.error
import urllib.request
import uuid

import pytest
from django.utils import timezone

from registrations.checkin import devices
from registrations.checkin.services import checked_in_of

pytestmark = pytest.mark.browser

ROUNDS = 25


def call(url: str, token: str, body: dict | None = None) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode() if body else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST" if body else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def test_scans_and_count_polls_at_the_same_moment_all_succeed(
    live_server, programme, make_activity, make_registration
):
    activity = make_activity(starts_at=timezone.now() + dt.timedelta(minutes=30))
    registration = make_registration(activity=activity, party_size=ROUNDS)
    token = devices.create_device(programme, [activity.pk], with_token=True).token
    api = f"{live_server.url}/api/v1/checkin"
    statuses: list[tuple[str, int]] = []

    def redeem() -> None:
        body = {
            "code": registration.ticket_code,
            "activity": activity.pk,
            "count": 1,
            "nonce": str(uuid.uuid4()),
        }
        statuses.append(("redeem", call(f"{api}/redeem", token, body)))

    def counts() -> None:
        statuses.append(("counts", call(f"{api}/counts?activity={activity.pk}", token)))

    def together(barrier: threading.Barrier, work) -> None:
        barrier.wait(timeout=60)
        work()

    for _round in range(ROUNDS):
        barrier = threading.Barrier(4)
        threads = [
            threading.Thread(target=together, args=(barrier, work))
            for work in (redeem, counts, counts, redeem)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    assert [s for s in statuses if s[1] != 200] == []
    assert len(statuses) == 4 * ROUNDS
    # Fifty scans of one person each: the first 25 let someone in, the rest find all in.
    assert checked_in_of(registration.pk) == ROUNDS
