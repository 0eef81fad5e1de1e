"""The reads of a door scan, written out in SQL.

A scan is the busiest request at the door, and building its queries with the ORM costs more CPU
than running them: measured with `make bench` (bench/RESULTS.md, bench/README.md), a redeem
whose queries were all built by the ORM answered 0.6x the scans per second of one whose queries
were written out. The reads every scan makes are therefore written out here: the device with its
activities, the registration with its row locked, and its check-ins. What a scan writes goes
through the ORM (`create`, `update`), so that model defaults and signals apply.

Only Django's public database API is used: `connection.cursor()`, the models' `_meta` for the
table names and `Model.from_db` to load instances as a queryset would (fields not read are
deferred). Works on PostgreSQL and SQLite; SQLite returns datetimes naive, in UTC (`_aware`).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Model

from events.models import Activity
from registrations.models import CheckIn, Registration, ScannerDevice

# The tables by the models' names for them.
_ACTIVITY = Activity._meta.db_table
_CHECKIN = CheckIn._meta.db_table
_DEVICE = ScannerDevice._meta.db_table
_DEVICE_ACTIVITY = ScannerDevice.activities.through._meta.db_table
_REGISTRATION = Registration._meta.db_table

_DEVICE_SQL = f"""
SELECT d.id, d.name, d.programme_id, d.expires_at, d.last_seen_at, a.activity_id
FROM {_DEVICE} d LEFT JOIN {_DEVICE_ACTIVITY} a ON a.scannerdevice_id = d.id
WHERE d.token_hash = %s AND d.revoked_at IS NULL AND d.expires_at > %s
"""

# FOR UPDATE OF r locks only the registration: a lock on the activity row too would queue every
# scan of the activity behind each other. SQLite has no row locks: there the IMMEDIATE
# transaction (settings) serialises writers instead.
_REGISTRATION_SQL = f"""
SELECT r.id, r.activity_id, r.status, r.contact_name, r.party_size, r.hold_expires_at,
       a.starts_at
FROM {_REGISTRATION} r JOIN {_ACTIVITY} a ON a.id = r.activity_id
WHERE {{where}}{{lock}}
"""
_BY_CODE = "r.ticket_code = %s"
_BY_ID = "r.id = %s AND r.activity_id = %s"
_LOCK = " FOR UPDATE OF r"

_CHECKINS_SQL = f"""
SELECT c.id, c.persons, c.at, c.offline, c.nonce, c.device_id, d.name
FROM {_CHECKIN} c LEFT JOIN {_DEVICE} d ON d.id = c.device_id
WHERE c.registration_id = %s
ORDER BY c.at, c.id
"""


def _rows(sql: str, params: list[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


@functools.cache
def _columns(model: type[Model]) -> tuple[str, ...]:
    """The attribute names of the model's columns, in the order `Model.from_db` takes them."""
    return tuple(field.attname for field in model._meta.get_fields() if field.concrete)


def _load[M: Model](model: type[M], **values: Any) -> M:
    """An instance from the values of a query, by attribute name, as a queryset loads one: the
    fields not given are deferred (read from the database when first used)."""
    names = [name for name in _columns(model) if name in values]
    if len(names) != len(values):
        raise TypeError(f"{model.__name__} has no column {', '.join(values.keys() - names)}")
    return model.from_db(DEFAULT_DB_ALIAS, names, [values[name] for name in names])


def active_device(token_hash: str, now: dt.datetime) -> ScannerDevice | None:
    """The device with this token hash, neither revoked nor expired at `now`, with the ids of
    its activities as `activity_ids`; one query."""
    expires_after = ScannerDevice._meta.get_field("expires_at").get_db_prep_value(now, connection)
    rows = _rows(_DEVICE_SQL, [token_hash, expires_after])
    if not rows:
        return None
    pk, name, programme_id, expires_at, last_seen_at, _activity = rows[0]
    device = _load(
        ScannerDevice,
        id=pk,
        name=name,
        programme_id=programme_id,
        expires_at=_aware(expires_at),
        last_seen_at=_aware(last_seen_at),
    )
    device.activity_ids = frozenset(row[5] for row in rows if row[5] is not None)
    return device


def locked_registration(
    *, code: str = "", registration_id: int | None = None, activity_id: int | None = None
) -> Registration | None:
    """The registration with this ticket code, or with this id at this activity, its row
    locked until the transaction ends, with its activity's `starts_at`; other fields deferred."""
    if registration_id is not None:
        where, params = _BY_ID, [registration_id, activity_id]
    else:
        where, params = _BY_CODE, [code]
    lock = _LOCK if connection.vendor == "postgresql" else ""
    rows = _rows(_REGISTRATION_SQL.format(where=where, lock=lock), params)
    if not rows:
        return None
    pk, activity_id, status, contact_name, party_size, hold_expires_at, starts_at = rows[0]
    registration = _load(
        Registration,
        id=pk,
        activity_id=activity_id,
        status=status,
        contact_name=contact_name,
        party_size=party_size,
        hold_expires_at=_aware(hold_expires_at),
    )
    registration.activity = _load(Activity, id=activity_id, starts_at=_aware(starts_at))
    return registration


def checkins_of(registration: Registration) -> list[CheckIn]:
    """Every check-in of the registration, first first, each with its device's name."""
    checkins = []
    for pk, persons, at, offline, nonce, device_id, device_name in _rows(
        _CHECKINS_SQL, [registration.pk]
    ):
        checkin = _load(
            CheckIn,
            id=pk,
            registration_id=registration.pk,
            persons=persons,
            at=_aware(at),
            offline=offline,
            nonce=nonce,
            device_id=device_id,
        )
        checkin.registration = registration
        checkin.device = (
            _load(ScannerDevice, id=device_id, name=device_name) if device_id is not None else None
        )
        checkins.append(checkin)
    return checkins
