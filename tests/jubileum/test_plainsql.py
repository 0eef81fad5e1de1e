"""The plain-SQL helpers of the scan hot path: rows written as save() would, instances loaded as
the ORM would, and prepared statements on PostgreSQL when they are switched on."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jubileum import plainsql
from registrations.checkin import devices
from registrations.models import Registration, ScanLog

# Engine-dependent, so CI runs it on SQLite too: plain SQL, with a cursor and pipeline of its own
# on PostgreSQL.
pytestmark = pytest.mark.engine_dependent


@pytest.fixture
def device(activity):
    return devices.create_device(activity.programme, [activity.pk], name="Noord").device


def scan_log_values(device, activity, **overrides) -> dict:
    values = {
        "device_id": device.pk,
        "activity_id": activity.pk,
        "registration_id": None,
        "code_hash": "ab" * 32,
        "result": "unknown",
        "count": 0,
        "at": dt.datetime(2026, 12, 10, 18, 30, tzinfo=dt.UTC),
        "scanned_at": None,
        "offline": False,
        "nonce": "n-1",
        "replay": False,
        "conflict": False,
        "response": {"result": "unknown", "message": "Dit ticket kennen we niet."},
    }
    return values | overrides


def test_insert_writes_the_row_as_save_would(device, activity):
    plainsql.insert(ScanLog, **scan_log_values(device, activity))

    log = ScanLog.objects.get()
    assert (log.device, log.activity, log.result, log.nonce) == (device, activity, "unknown", "n-1")
    assert log.at == dt.datetime(2026, 12, 10, 18, 30, tzinfo=dt.UTC)
    assert log.response == {"result": "unknown", "message": "Dit ticket kennen we niet."}
    assert log.scanned_at is None and log.registration is None


def test_insert_refuses_a_row_without_every_column(device, activity):
    values = scan_log_values(device, activity)
    del values["response"]
    with pytest.raises(TypeError, match="response"):
        plainsql.insert(ScanLog, **values)
    assert not ScanLog.objects.exists()


def test_instance_loads_what_it_is_given_and_defers_the_rest(make_registration):
    stored = make_registration(contact_name="Anna de Vries", party_size=3)

    loaded = plainsql.instance(
        Registration, id=stored.pk, party_size=3, contact_name="Anna de Vries"
    )

    assert loaded == stored
    assert not loaded._state.adding
    assert "email" in loaded.get_deferred_fields()
    with CaptureQueriesContext(connection) as queries:
        assert loaded.email == stored.email  # read from the database on first use
    assert len(queries) == 1


def test_instance_refuses_an_unknown_field():
    with pytest.raises(TypeError, match="nickname"):
        plainsql.instance(Registration, id=1, nickname="Ans")


def test_aware_reads_sqlite_datetimes_as_utc():
    naive = dt.datetime(2026, 12, 10, 18, 30)
    assert plainsql.aware(naive) == dt.datetime(2026, 12, 10, 18, 30, tzinfo=dt.UTC)
    amsterdam = dt.datetime(2026, 12, 10, 19, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert plainsql.aware(amsterdam) is amsterdam
    assert plainsql.aware(None) is None


@pytest.mark.postgres
def test_statements_are_prepared_once_switched_on(device, activity):
    raw = connection.connection
    assert raw.prepare_threshold is None  # Django's default: off

    raw.prepare_threshold = 0
    try:
        for n in range(2):
            plainsql.insert(ScanLog, **scan_log_values(device, activity, nonce=f"p-{n}"))
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            prepared = [row[0] for row in cursor.fetchall()]
    finally:
        raw.prepare_threshold = None
    assert any("registrations_scanlog" in statement for statement in prepared)
    assert ScanLog.objects.filter(nonce__startswith="p-").count() == 2
