"""The redeem service: every result, partial admission, nonce replay, offline conflicts, races."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from django.db import connection, transaction
from django.utils import timezone

from registrations.checkin import devices
from registrations.checkin import services as checkin
from registrations.checkin.services import Scan
from registrations.models import CheckIn, Registration, ScanLog
from tests.registrations.test_concurrency import database, run_at_once  # noqa: F401  (fixture)

# Engine-dependent, so CI runs it on SQLite too: the reads of a redeem are plain SQL
# (registrations/checkin/sql.py) under row locks.


pytestmark = pytest.mark.engine_dependent

Status = Registration.Status


def nonce() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def open_activity(make_activity):
    """Starts in an hour: check-in is open."""
    return make_activity(starts_at=timezone.now() + dt.timedelta(hours=1), capacity=30)


@pytest.fixture
def device(open_activity):
    return devices.create_device(open_activity.programme, [open_activity.pk], name="Noord").device


def scan(activity, code="", **fields) -> Scan:
    return Scan(activity_id=activity.pk, nonce=fields.pop("nonce", nonce()), code=code, **fields)


def test_ok_admits_the_whole_party(device, open_activity, make_registration):
    registration = make_registration(activity=open_activity, party_size=4)

    answer = checkin.redeem(device, scan(open_activity, registration.ticket_code))

    assert answer["result"] == "ok"
    assert (answer["party_size"], answer["checked_in"], answer["remaining"]) == (4, 4, 0)
    assert answer["message"] == "Welkom — 4 personen"
    assert checkin.checked_in_of(registration.pk) == 4
    log = ScanLog.objects.get()
    assert (log.result, log.count, log.registration, log.device) == ("ok", 4, registration, device)


def test_full_qr_payload_is_accepted(device, open_activity, make_registration):
    registration = make_registration(activity=open_activity)
    answer = checkin.redeem(device, scan(open_activity, f"jub1:{registration.ticket_code}"))
    assert answer["result"] == "ok"


def test_partial_then_the_rest_then_already(device, open_activity, make_registration):
    registration = make_registration(activity=open_activity, party_size=4)

    first = checkin.redeem(device, scan(open_activity, registration.ticket_code, count=1))
    rest = checkin.redeem(device, scan(open_activity, registration.ticket_code))
    again = checkin.redeem(device, scan(open_activity, registration.ticket_code))

    assert (first["result"], first["checked_in"], first["remaining"]) == ("partial", 1, 3)
    assert (rest["result"], rest["admitted"], rest["checked_in"]) == ("ok", 3, 4)
    assert again["result"] == "already_checked_in"
    assert again["device_name"] == "Noord"
    assert again["first_checked_in_at"] is not None
    assert again["message"].startswith("Al binnen om ")
    assert CheckIn.objects.count() == 2
    assert ScanLog.objects.count() == 3


def test_count_beyond_the_rest_admits_only_the_rest(device, open_activity, make_registration):
    registration = make_registration(activity=open_activity, party_size=2)
    answer = checkin.redeem(device, scan(open_activity, registration.ticket_code, count=5))
    assert (answer["result"], answer["checked_in"]) == ("ok", 2)


@pytest.mark.parametrize(
    ("status", "result"),
    [
        (Status.CANCELLED, "cancelled"),
        (Status.EXPIRED, "cancelled"),
        (Status.WAITLISTED, "cancelled"),
        (Status.PENDING_PAYMENT, "unpaid"),
    ],
)
def test_not_admitted_statuses(device, open_activity, make_registration, status, result):
    registration = make_registration(
        activity=open_activity,
        status=status,
        hold_expires_at=timezone.now() + dt.timedelta(minutes=10),
    )
    answer = checkin.redeem(device, scan(open_activity, registration.ticket_code))
    assert answer["result"] == result
    assert CheckIn.objects.count() == 0
    assert ScanLog.objects.get().result == result


def test_wrong_activity(device, open_activity, make_activity, make_registration):
    other = make_activity()
    registration = make_registration(activity=other)
    answer = checkin.redeem(device, scan(open_activity, registration.ticket_code))
    assert answer["result"] == "wrong_activity"
    assert (answer["name"], answer["party_size"], answer["registration"]) == ("", 0, None)
    assert CheckIn.objects.count() == 0


def test_not_yet_open(make_activity, make_registration):
    later = make_activity(starts_at=timezone.now() + dt.timedelta(hours=3))
    device = devices.create_device(later.programme, [later.pk]).device
    registration = make_registration(activity=later)
    answer = checkin.redeem(device, scan(later, registration.ticket_code))
    assert answer["result"] == "not_yet_open"


def test_unknown_code_is_logged_as_a_hash(device, open_activity):
    answer = checkin.redeem(device, scan(open_activity, "AAAAAAAAAAAAAAAAAAAA"))
    assert answer["result"] == "unknown"
    log = ScanLog.objects.get()
    assert log.registration is None
    assert log.code_hash == checkin.code_hash("AAAAAAAAAAAAAAAAAAAA")


def test_registration_of_another_activity_by_id_is_unknown(
    device, open_activity, make_activity, make_registration
):
    other = make_registration(activity=make_activity())
    answer = checkin.redeem(device, Scan(open_activity.pk, nonce(), registration_id=other.pk))
    assert answer["result"] == "unknown"


def test_admit_by_registration_id(device, open_activity, make_registration):
    registration = make_registration(activity=open_activity, party_size=3)
    answer = checkin.redeem(
        device, Scan(open_activity.pk, nonce(), registration_id=registration.pk)
    )
    assert (answer["result"], answer["checked_in"]) == ("ok", 3)


def test_repeated_nonce_returns_the_first_answer_and_changes_nothing(
    device, open_activity, make_registration
):
    registration = make_registration(activity=open_activity, party_size=4)
    same = nonce()

    first = checkin.redeem(
        device, scan(open_activity, registration.ticket_code, nonce=same, count=1)
    )
    again = checkin.redeem(
        device, scan(open_activity, registration.ticket_code, nonce=same, count=1)
    )

    assert first == again
    assert checkin.checked_in_of(registration.pk) == 1
    assert CheckIn.objects.count() == 1
    assert ScanLog.objects.filter(replay=True).count() == 1


def test_offline_sync_with_a_conflict_keeps_the_earliest(open_activity, make_registration):
    registration = make_registration(activity=open_activity, party_size=2)
    north = devices.create_device(open_activity.programme, [open_activity.pk], name="Noord").device
    south = devices.create_device(open_activity.programme, [open_activity.pk], name="Zuid").device
    now = timezone.now()
    early, late = now - dt.timedelta(minutes=10), now - dt.timedelta(minutes=5)
    code = registration.ticket_code

    # The later scan reaches the server first.
    (north_answer,) = checkin.sync(north, [scan(open_activity, code, scanned_at=late)])
    (south_answer,) = checkin.sync(south, [scan(open_activity, code, scanned_at=early)])

    assert north_answer["result"] == "ok"
    assert south_answer["result"] == "ok"  # the earliest wins
    assert checkin.checked_in_of(registration.pk) == 2
    only = CheckIn.objects.get()
    assert (only.device, only.at, only.offline) == (south, early, True)
    flagged = list(checkin.conflicts([open_activity.pk]))
    assert [log.device for log in flagged] == [north]
    # A third offline scan, later than both, is already_checked_in and flagged too.
    (third,) = checkin.sync(north, [scan(open_activity, code, scanned_at=now)])
    assert third["result"] == "already_checked_in"
    assert third["device_name"] == "Zuid"
    assert third["conflict"] is True
    assert checkin.conflicts([open_activity.pk]).count() == 2


def test_sync_answers_in_order_and_once_per_nonce(device, open_activity, make_registration):
    a = make_registration(activity=open_activity)
    b = make_registration(activity=open_activity)
    scans = [
        scan(open_activity, a.ticket_code, nonce="n1", scanned_at=timezone.now()),
        scan(open_activity, "ZZZZZZZZZZZZZZZZZZZZ", nonce="n2", scanned_at=timezone.now()),
        scan(open_activity, b.ticket_code, nonce="n3", scanned_at=timezone.now()),
    ]
    first = checkin.sync(device, scans)
    again = checkin.sync(device, scans)

    assert [r["result"] for r in first] == ["ok", "unknown", "ok"]
    assert again == first
    assert CheckIn.objects.count() == 2
    assert all(c.offline for c in CheckIn.objects.all())


def test_search_needs_three_characters_and_matches_names_only(open_activity, make_registration):
    make_registration(activity=open_activity, contact_name="Anna de Vries", email="a@x.nl")
    make_registration(activity=open_activity, contact_name="Bert Jansen", email="bert@x.nl")
    for short in (" a ", "an"):
        with pytest.raises(checkin.SearchTooShort):
            checkin.search(open_activity.pk, short)
    results = checkin.search(open_activity.pk, "VRIES")
    assert [r["name"] for r in results] == ["Anna de Vries"]
    assert set(results[0]) == {"registration", "name", "party_size", "checked_in", "status"}
    assert [r["name"] for r in checkin.search(open_activity.pk, "ans")] == ["Bert Jansen"]
    # Parts of e-mail addresses find nobody: a device cannot list the parties of a domain.
    assert checkin.search(open_activity.pk, "bert@") == []
    assert checkin.search(open_activity.pk, "x.nl") == []


def test_walk_in_respects_capacity(make_activity, make_registration):
    small = make_activity(starts_at=timezone.now() + dt.timedelta(minutes=30), capacity=5)
    device = devices.create_device(small.programme, [small.pk]).device
    make_registration(activity=small, party_size=2)

    answer = checkin.walk_in(device, checkin.WalkIn(small.pk, "Loper", 3, nonce()))
    assert (answer["result"], answer["checked_in"]) == ("ok", 3)
    walk = Registration.objects.get(pk=answer["registration"])
    assert (walk.kind, walk.email, walk.status) == ("guest", "", Status.CONFIRMED)
    with pytest.raises(checkin.WalkInFull):
        checkin.walk_in(device, checkin.WalkIn(small.pk, "Te laat", 1, nonce()))
    assert checkin.counts(small.pk) == {"checked_in": 3, "expected": 5}


def test_manifest_is_incremental(
    device, open_activity, make_registration, django_assert_num_queries
):
    a = make_registration(activity=open_activity, contact_name="Anna de Vries")
    make_registration(activity=open_activity)
    full = checkin.manifest(open_activity)
    assert full["full"] is True
    assert {t["hash"] for t in full["tickets"]} >= {checkin.code_hash(a.ticket_code)}
    assert full["tickets"][0]["name"] == "Anna V."

    since = full["generated_at"]
    checkin.redeem(device, scan(open_activity, a.ticket_code))
    part = checkin.manifest(open_activity, since)
    assert part["full"] is False
    assert [(t["hash"], t["checked_in"]) for t in part["tickets"]] == [
        (checkin.code_hash(a.ticket_code), 2)
    ]


@pytest.mark.parametrize("size", [3, 60])
def test_manifest_queries_do_not_grow(
    open_activity, make_registration, django_assert_num_queries, size
):
    for _n in range(size):
        make_registration(activity=open_activity)
    with django_assert_num_queries(1):
        assert len(checkin.manifest(open_activity)["tickets"]) == size


def test_two_devices_racing_exactly_one_ok(database, make_activity, make_registration):  # noqa: F811
    activity = make_activity(starts_at=timezone.now() + dt.timedelta(hours=1))
    registration = make_registration(activity=activity, party_size=3)
    scanners = [
        devices.create_device(activity.programme, [activity.pk], name=f"S{n}").device
        for n in range(8)
    ]

    results = run_at_once(
        [
            (lambda d=d: checkin.redeem(d, scan(activity, registration.ticket_code)))
            for d in scanners
        ]
    )

    assert sorted(r["result"] for r in results) == ["already_checked_in"] * 7 + ["ok"]
    assert checkin.checked_in_of(registration.pk) == 3
    assert CheckIn.objects.count() == 1
    assert ScanLog.objects.count() == 8


@pytest.mark.postgres
def test_scans_of_one_activity_do_not_queue_behind_each_other(
    transactional_db, make_activity, make_registration
):
    """A scan locks its registration's row, not the activity's: while one scan's transaction is
    still open, a scan of another ticket for the same activity goes through."""
    activity = make_activity(starts_at=timezone.now() + dt.timedelta(hours=1))
    first, second = (make_registration(activity=activity, party_size=2) for _n in range(2))
    north, south = (
        devices.create_device(activity.programme, [activity.pk], name=name).device
        for name in ("Noord", "Zuid")
    )
    scanned, done = threading.Event(), threading.Event()
    answers = {}

    def scan_and_hold() -> None:
        try:
            with transaction.atomic():
                answers["first"] = checkin.redeem(north, scan(activity, first.ticket_code))
                scanned.set()
                done.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=scan_and_hold)
    holder.start()
    try:
        assert scanned.wait(timeout=30)
        with transaction.atomic():
            with connection.cursor() as cursor:
                # Waiting for the other scan's locks would fail this scan instead of hanging.
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            answers["second"] = checkin.redeem(south, scan(activity, second.ticket_code))
    finally:
        done.set()
        holder.join(timeout=30)
    assert answers["first"]["result"] == answers["second"]["result"] == "ok"
    assert checkin.checked_in_of(first.pk) == checkin.checked_in_of(second.pk) == 2


@pytest.mark.postgres
def test_every_result_with_prepared_statements(device, open_activity, make_registration):
    """The same answers when the database option `prepare_threshold` is set."""
    party = make_registration(activity=open_activity, party_size=2)
    cancelled = make_registration(activity=open_activity, status=Status.CANCELLED)
    raw = connection.connection
    raw.prepare_threshold = 0
    try:
        same = nonce()
        first = checkin.redeem(device, scan(open_activity, party.ticket_code, nonce=same))
        replay = checkin.redeem(device, scan(open_activity, party.ticket_code, nonce=same))
        again = checkin.redeem(device, scan(open_activity, party.ticket_code))
        by_id = checkin.redeem(device, Scan(open_activity.pk, nonce(), registration_id=party.pk))
        refused = checkin.redeem(device, scan(open_activity, cancelled.ticket_code))
        unknown = checkin.redeem(device, scan(open_activity, "AAAAAAAAAAAAAAAAAAAA"))
        token = devices.create_device(
            open_activity.programme, [open_activity.pk], with_token=True
        ).token
        found = devices.device_for_token(token)
    finally:
        raw.prepare_threshold = None

    assert (first["result"], first["admitted"]) == ("ok", 2)
    assert replay == first
    assert again["result"] == by_id["result"] == "already_checked_in"
    assert again["device_name"] == "Noord"
    assert refused["result"] == "cancelled"
    assert unknown["result"] == "unknown"
    assert found is not None and found.activity_ids == {open_activity.pk}
    assert checkin.checked_in_of(party.pk) == 2
    assert ScanLog.objects.count() == 6
