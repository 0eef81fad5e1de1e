"""A token checked while the database does not answer is 503 `unavailable` with Retry-After,
never 401: a 401 means only "this token is unknown, revoked or expired", and a door scanner that
meets one forgets its pairing. Once the database answers again, the same token works.

The failures are real, on the test database: another connection holds the lock that the
once-a-minute `last_seen_at` (or `last_used_at`) write of the token lookup needs, past SQLite's
busy timeout or PostgreSQL's `lock_timeout`; or not even a read gets through, because the SQLite
file cannot be opened or PostgreSQL refuses connections (and the request's own backend has been
terminated).
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import psycopg
import pytest
from django.db import connection, connections
from django.db.models import Model
from django.test import Client
from django.utils import timezone

from jubileum.lib.apitokens import create_token
from registrations.checkin import devices
from registrations.models import ScannerDevice
from tests.faults.conftest import SharedDatabase

# How long the request waits for a lock here (the production settings wait longer).
WAIT_SECONDS = 0.5

Hold = Callable[[SharedDatabase, Model], AbstractContextManager[None]]


@contextmanager
def write_locked(database: SharedDatabase, row: Model) -> Iterator[None]:
    """Another connection writes, holding the lock the token lookup needs for its write: the
    database's write lock (SQLite), the lookup's row (PostgreSQL)."""
    if database.vendor == "sqlite":
        assert database.path is not None
        options = connection.settings_dict["OPTIONS"]
        previous = options["timeout"]
        connection.close()
        options["timeout"] = WAIT_SECONDS
        holder = sqlite3.connect(database.path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.rollback()
            holder.close()
            connection.close()
            options["timeout"] = previous
        return
    holder = connections.create_connection("default")
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = %s", [f"{int(WAIT_SECONDS * 1000)}ms"])
    try:
        with holder.cursor() as cursor:
            cursor.execute("BEGIN")
            table = row._meta.db_table
            cursor.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE", [row.pk])
        yield
    finally:
        holder.close()  # ends its transaction
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")


@contextmanager
def unreachable(database: SharedDatabase, row: Model) -> Iterator[None]:
    """Not even a read gets through: the SQLite file cannot be opened (its volume is gone), or
    PostgreSQL refuses new connections and the request's backend has been terminated."""
    if database.vendor == "sqlite":
        assert database.path is not None
        settings_dict = connection.settings_dict
        connection.close()
        settings_dict["NAME"] = str(database.path.parent / "unmounted" / database.path.name)
        try:
            yield
        finally:
            connection.close()
            settings_dict["NAME"] = str(database.path)
        return
    name = connection.ops.quote_name(connection.settings_dict["NAME"])
    connection.ensure_connection()
    backend_pid = connection.connection.info.backend_pid
    # A database cannot close its own door: the holder works from the maintenance database.
    holder = psycopg.connect(**{**connection.get_connection_params(), "dbname": "postgres"})
    holder.autocommit = True
    try:
        holder.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        holder.execute("SELECT pg_terminate_backend(%s, 5000)", [backend_pid])
        yield
    finally:
        holder.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
        holder.close()
        connection.close()


def assert_unavailable(response) -> None:
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "60"
    assert "WWW-Authenticate" not in response
    assert response.json() == {
        "code": "unavailable",
        "message": "De dienst is even niet bereikbaar; probeer het over een minuut opnieuw.",
        "details": {},
    }


@pytest.fixture
def door(shared_database, programme, make_activity, make_registration):
    """A paired scanner for an activity whose check-in is open, and a ticket for it."""
    activity = make_activity(starts_at=timezone.now() + dt.timedelta(minutes=30))
    registration = make_registration(activity=activity, party_size=2)
    new = devices.create_device(programme, [activity.pk], name="Ingang Noord", with_token=True)
    return new.device, new.token, activity, registration


def redeem(token: str, activity, registration, nonce: str):
    body = {"code": registration.ticket_code, "activity": activity.pk, "nonce": nonce}
    return Client().post(
        "/api/v1/checkin/redeem",
        body,
        content_type="application/json",
        headers={"authorization": f"Bearer {token}"},
    )


@pytest.mark.parametrize("hold", [write_locked, unreachable])
def test_a_scan_while_the_database_does_not_answer_is_503_and_the_token_still_works(
    shared_database, door, hold: Hold, caplog
):
    device, token, activity, registration = door

    with hold(shared_database, device):
        response = redeem(token, activity, registration, "scan-1")

    assert_unavailable(response)
    [record] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert record.getMessage() == "Database unavailable (answered 503): POST api:checkin_redeem"
    # The same scan, sent again once the database answers: the token is still good.
    again = redeem(token, activity, registration, "scan-1")
    assert again.status_code == 200
    assert again.json()["result"] == "ok"
    assert ScannerDevice.objects.get(pk=device.pk).revoked_at is None


@pytest.mark.parametrize("debug", [False, True])
def test_the_503_does_not_depend_on_debug(shared_database, door, settings, debug):
    """With DEBUG on, ninja would answer what an auth class raises with a 500 and a traceback."""
    settings.DEBUG = debug
    device, token, activity, registration = door

    with unreachable(shared_database, device):
        response = redeem(token, activity, registration, "scan-1")

    assert_unavailable(response)


@pytest.mark.parametrize("hold", [write_locked, unreachable])
def test_an_organiser_token_while_the_database_does_not_answer_is_503(
    shared_database, organiser, programme, hold: Hold
):
    row, token = create_token(organiser, "boekhouding")
    url = f"/api/v1/programmes/{programme.slug}/budget"
    headers = {"authorization": f"Bearer {token}"}

    with hold(shared_database, row):
        response = Client().get(url, headers=headers)

    assert_unavailable(response)
    # Once it answers, the token is accepted (this programme has no budget yet: 404, not 401).
    assert Client().get(url, headers=headers).status_code == 404


def test_an_organiser_session_while_the_database_does_not_answer_is_503(
    shared_database, organiser, programme
):
    browser = Client()
    browser.force_login(organiser)
    url = f"/api/v1/programmes/{programme.slug}/budget"

    with unreachable(shared_database, organiser):
        response = browser.get(url)

    assert_unavailable(response)
    assert browser.get(url).status_code == 404
