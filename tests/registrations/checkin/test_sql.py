"""The reads of a scan written out in SQL: instances loaded as a queryset loads them (aware
datetimes, the fields not read deferred), the device's activities, check-ins first first."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registrations.checkin import devices, sql
from registrations.models import CheckIn, ScannerDevice


@pytest.fixture
def device(activity):
    return devices.create_device(activity.programme, [activity.pk], name="Noord").device


def test_locked_registration_reads_what_a_scan_needs_and_defers_the_rest(
    activity, make_registration
):
    stored = make_registration(activity=activity, contact_name="Anna de Vries", party_size=3)

    with transaction.atomic():
        loaded = sql.locked_registration(code=stored.ticket_code)

    assert loaded == stored
    assert not loaded._state.adding
    assert (loaded.contact_name, loaded.party_size, loaded.status) == (
        "Anna de Vries",
        3,
        "confirmed",
    )
    assert loaded.activity.starts_at == activity.starts_at
    assert loaded.activity.starts_at.tzinfo is not None
    assert "email" in loaded.get_deferred_fields()
    with CaptureQueriesContext(connection) as queries:
        assert loaded.email == stored.email  # read from the database on first use
    assert len(queries) == 1


def test_locked_registration_by_id_only_at_its_own_activity(
    activity, make_activity, make_registration
):
    stored = make_registration(activity=activity)
    with transaction.atomic():
        assert sql.locked_registration(registration_id=stored.pk, activity_id=activity.pk)
        assert (
            sql.locked_registration(registration_id=stored.pk, activity_id=make_activity().pk)
            is None
        )
        assert sql.locked_registration(code="AAAAAAAAAAAAAAAAAAAA") is None


def test_active_device_comes_with_its_activity_ids(device, activity, make_activity):
    other = make_activity()
    device.activities.add(other)
    device.token_hash = "ab" * 32
    device.save()

    found = sql.active_device("ab" * 32, timezone.now())

    assert found == device
    assert found.activity_ids == {activity.pk, other.pk}
    assert found.expires_at == device.expires_at and found.expires_at.tzinfo is not None
    assert "token_hash" in found.get_deferred_fields()
    assert sql.active_device("ab" * 32, device.expires_at) is None
    ScannerDevice.objects.filter(pk=device.pk).update(revoked_at=timezone.now())
    assert sql.active_device("ab" * 32, timezone.now()) is None


def test_checkins_of_first_first_with_the_device_name(device, activity, make_registration):
    registration = make_registration(activity=activity, party_size=3)
    late = dt.datetime(2026, 12, 10, 18, 30, tzinfo=dt.UTC)
    early = late - dt.timedelta(minutes=5)
    CheckIn.objects.create(registration=registration, device=device, persons=1, at=late)
    CheckIn.objects.create(registration=registration, device=None, persons=2, at=early)

    checkins = sql.checkins_of(registration)

    assert [(c.persons, c.at) for c in checkins] == [(2, early), (1, late)]
    assert checkins[0].device is None
    assert checkins[1].device.name == "Noord"
    assert checkins[1].registration is registration
