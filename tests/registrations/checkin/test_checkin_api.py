"""The scanner API: pairing, device auth (401 at once), own activities only, every endpoint."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from registrations.checkin import devices
from registrations.checkin import services as checkin
from registrations.models import CheckIn

# Engine-dependent, so CI runs it on SQLite too: the redeem is plain SQL; search and sync compare
# text and times in SQL.
pytestmark = pytest.mark.engine_dependent

API = "/api/v1"


@pytest.fixture
def open_activity(make_activity):
    return make_activity(starts_at=timezone.now() + dt.timedelta(hours=1), capacity=10)


@pytest.fixture
def paired(client, open_activity):
    new = devices.create_device(open_activity.programme, [open_activity.pk], name="Noord")
    response = client.post(
        f"{API}/scanner/pair", {"code": new.pairing_code}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def auth(paired):
    return {"HTTP_AUTHORIZATION": f"Bearer {paired['token']}"}


def post(client, path, body, auth):
    return client.post(f"{API}{path}", body, content_type="application/json", **auth)


def redeem_body(activity, code, **extra):
    return {"code": code, "activity": activity.pk, "nonce": str(uuid.uuid4()), **extra}


def test_pair_answers_token_device_and_activities(paired, open_activity):
    assert paired["token"].startswith("jsd_")
    assert paired["device"]["name"] == "Noord"
    assert [a["id"] for a in paired["activities"]] == [open_activity.pk]
    assert set(paired["activities"][0]) == {"id", "title", "starts_at", "ends_at", "location_name"}


def test_pair_with_unknown_code_is_404_json(client, db):
    response = client.post(f"{API}/scanner/pair", {"code": "ABCDEFGH"}, "application/json")
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_pairing_code"


def test_pair_is_rate_limited_per_ip(client, settings, db):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "checkin-pair": (2, 60)}
    codes = [
        client.post(f"{API}/scanner/pair", {"code": "ABCDEFGH"}, "application/json").status_code
        for _n in range(3)
    ]
    assert codes == [404, 404, 429]


def test_redeem_ok_then_already(client, auth, open_activity, make_registration):
    registration = make_registration(activity=open_activity, party_size=4)
    body = redeem_body(open_activity, f"JUB1:{registration.ticket_code}")

    first = post(client, "/checkin/redeem", body, auth)
    repeat = post(client, "/checkin/redeem", body, auth)
    second = post(
        client, "/checkin/redeem", redeem_body(open_activity, registration.ticket_code), auth
    )

    assert first.status_code == 200
    assert first.json()["result"] == "ok"
    assert first.json()["message"] == "Welkom — 4 personen"
    assert repeat.json() == first.json()
    answer = second.json()
    assert answer["result"] == "already_checked_in"
    assert answer["device_name"] == "Noord"
    assert answer["first_checked_in_at"]


def test_redeem_message_follows_accept_language(client, auth, open_activity, make_registration):
    registration = make_registration(activity=open_activity, party_size=2)
    response = post(
        client,
        "/checkin/redeem",
        redeem_body(open_activity, registration.ticket_code),
        {**auth, "HTTP_ACCEPT_LANGUAGE": "en"},
    )
    assert response.json()["result"] == "ok"


def test_without_or_with_a_bad_token_is_401(client, open_activity):
    assert client.get(f"{API}/checkin/activities").status_code == 401
    bad = {"HTTP_AUTHORIZATION": "Bearer jsd_" + "x" * 43}
    response = client.get(f"{API}/checkin/activities", **bad)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_revoked_device_is_refused_at_once(client, auth, paired, open_activity):
    assert client.get(f"{API}/checkin/activities", **auth).status_code == 200
    devices.revoke(open_activity.programme, paired["device"]["id"])
    assert client.get(f"{API}/checkin/activities", **auth).status_code == 401
    body = redeem_body(open_activity, "A" * 20)
    assert post(client, "/checkin/redeem", body, auth).status_code == 401


def test_expired_device_is_refused(client, auth, paired, time_machine):
    time_machine.move_to(paired["device"]["expires_at"], tick=False)
    time_machine.shift(dt.timedelta(seconds=1))
    assert client.get(f"{API}/checkin/activities", **auth).status_code == 401


def test_device_of_another_activity_is_refused(client, auth, make_activity, make_registration):
    other = make_activity()
    registration = make_registration(activity=other)
    response = post(client, "/checkin/redeem", redeem_body(other, registration.ticket_code), auth)
    assert response.status_code == 404
    for path in ("manifest", "counts"):
        assert client.get(f"{API}/checkin/{path}?activity={other.pk}", **auth).status_code == 404
    search = client.get(f"{API}/checkin/search?activity={other.pk}&q=inwoner", **auth)
    assert search.status_code == 404
    assert CheckIn.objects.count() == 0


def test_another_programmes_ticket_reveals_nothing_but_wrong_activity(
    client, auth, open_activity, make_programme, make_activity, make_registration
):
    elsewhere = make_activity(programme=make_programme())
    ticket = make_registration(activity=elsewhere, contact_name="Carla Smit", party_size=5)
    body = redeem_body(open_activity, ticket.ticket_code)

    answer = post(client, "/checkin/redeem", body, auth).json()
    replayed = post(client, "/checkin/redeem", body, auth).json()
    offline = post(
        client, "/checkin/sync", {"scans": [redeem_body(open_activity, ticket.ticket_code)]}, auth
    )

    assert answer["result"] == "wrong_activity"
    assert (answer["name"], answer["party_size"], answer["registration"]) == ("", 0, None)
    assert (answer["checked_in"], answer["remaining"], answer["admitted"]) == (0, 0, 0)
    assert "Carla" not in answer["message"]
    assert replayed == answer
    assert offline.json()["results"] == [answer]
    assert CheckIn.objects.count() == 0


def test_search_matches_names_not_email_addresses(client, auth, open_activity, make_registration):
    make_registration(
        activity=open_activity, contact_name="Anna de Vries", email="anna@brandweer.nl"
    )
    url = f"{API}/checkin/search"

    by_domain = client.get(url, {"activity": open_activity.pk, "q": "brandweer"}, **auth)
    by_name = client.get(url, {"activity": open_activity.pk, "q": "ann"}, **auth)

    assert by_domain.status_code == 200
    assert by_domain.json() == {"results": []}
    assert [r["name"] for r in by_name.json()["results"]] == ["Anna de Vries"]


def test_activities_with_counts(client, auth, open_activity, make_registration):
    registration = make_registration(activity=open_activity, party_size=3)
    make_registration(activity=open_activity, party_size=2)
    post(
        client,
        "/checkin/redeem",
        redeem_body(open_activity, registration.ticket_code, count=2),
        auth,
    )

    (item,) = client.get(f"{API}/checkin/activities", **auth).json()
    assert (item["checked_in"], item["expected"]) == (2, 5)
    counts = client.get(f"{API}/checkin/counts?activity={open_activity.pk}", **auth).json()
    assert counts == {"checked_in": 2, "expected": 5}


def test_manifest_full_and_since(client, auth, open_activity, make_registration):
    a = make_registration(activity=open_activity, contact_name="Anna de Vries")
    make_registration(activity=open_activity)
    full = client.get(f"{API}/checkin/manifest?activity={open_activity.pk}", **auth).json()
    assert full["full"] is True
    assert len(full["tickets"]) == 2
    assert full["activity"]["checkin_opens_at"]
    assert {"hash", "party_size", "checked_in", "status", "name"} == set(full["tickets"][0])
    assert a.ticket_code not in str(full)

    post(client, "/checkin/redeem", redeem_body(open_activity, a.ticket_code), auth)
    part = client.get(
        f"{API}/checkin/manifest",
        {"activity": open_activity.pk, "since": full["generated_at"]},
        **auth,
    ).json()
    assert part["full"] is False
    assert [t["hash"] for t in part["tickets"]] == [checkin.code_hash(a.ticket_code)]


@pytest.mark.parametrize("size", [2, 40])
def test_manifest_query_count_is_bounded(
    client, auth, open_activity, make_registration, django_assert_max_num_queries, size
):
    for _n in range(size):
        make_registration(activity=open_activity)
    with django_assert_max_num_queries(4):
        response = client.get(f"{API}/checkin/manifest?activity={open_activity.pk}", **auth)
    assert len(response.json()["tickets"]) == size


def test_redeem_query_count_is_bounded(
    client, auth, open_activity, make_registration, django_assert_max_num_queries
):
    registration = make_registration(activity=open_activity)
    with django_assert_max_num_queries(10):
        post(client, "/checkin/redeem", redeem_body(open_activity, registration.ticket_code), auth)


def test_sync_in_order_with_conflict(client, open_activity, make_registration):
    registration = make_registration(activity=open_activity, party_size=2)
    tokens = []
    for name in ("Noord", "Zuid"):
        new = devices.create_device(open_activity.programme, [open_activity.pk], name=name)
        tokens.append(devices.pair(new.pairing_code)[1])
    now = timezone.now()

    def sync(token, minutes):
        body = {
            "scans": [
                redeem_body(
                    open_activity,
                    registration.ticket_code,
                    offline=True,
                    scanned_at=(now - dt.timedelta(minutes=minutes)).isoformat(),
                ),
                redeem_body(open_activity, "B" * 20, offline=True, scanned_at=now.isoformat()),
            ]
        }
        return post(client, "/checkin/sync", body, {"HTTP_AUTHORIZATION": f"Bearer {token}"})

    north = sync(tokens[0], 5).json()["results"]
    south = sync(tokens[1], 10).json()["results"]

    assert [r["result"] for r in north] == ["ok", "unknown"]
    assert [r["result"] for r in south] == ["ok", "unknown"]
    assert CheckIn.objects.get().device.name == "Zuid"
    assert checkin.conflicts([open_activity.pk]).get().device.name == "Noord"


def test_offline_scan_times_are_kept_in_utc_whatever_the_phone_sends(
    client, auth, open_activity, make_registration
):
    """Found by schemathesis on PostgreSQL: an offset beyond ±15:59 was a 500. Any offset is
    converted to UTC, a time without one is read as UTC, one out of range is a 422."""
    first, second = (make_registration(activity=open_activity) for _ in range(2))
    moment = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=1)
    far_east = dt.timezone(dt.timedelta(hours=22, minutes=28))
    body = {
        "scans": [
            redeem_body(
                open_activity,
                first.ticket_code,
                offline=True,
                scanned_at=moment.astimezone(far_east).isoformat(),
            ),
            redeem_body(
                open_activity,
                second.ticket_code,
                offline=True,
                scanned_at=moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(),
            ),
        ]
    }

    response = post(client, "/checkin/sync", body, auth)
    too_early = post(
        client,
        "/checkin/sync",
        {"scans": [redeem_body(open_activity, "", scanned_at="0001-01-01T00:00+05:00")]},
        auth,
    )

    assert response.status_code == 200
    assert [r["result"] for r in response.json()["results"]] == ["ok", "ok"]
    times = dict(CheckIn.objects.values_list("registration_id", "at"))
    assert times == {first.pk: moment, second.pk: moment}
    assert too_early.status_code == 422


def test_manifest_since_with_an_offset_out_of_range_is_a_422(client, auth, open_activity):
    """A 500 on PostgreSQL before, which refuses offsets beyond ±15:59; now like `scanned_at`:
    any offset PostgreSQL cannot take is refused, any other is converted to UTC."""
    url = f"{API}/checkin/manifest"

    out_of_range = client.get(
        url, {"activity": open_activity.pk, "since": "0001-01-01T00:00:00+20:54"}, **auth
    )
    far_offset = client.get(
        url, {"activity": open_activity.pk, "since": "2026-01-01T00:00:00-20:54"}, **auth
    )

    assert out_of_range.status_code == 422
    assert out_of_range.json()["details"][0]["loc"] == ["query", "since"]
    assert far_offset.status_code == 200, far_offset.content
    assert far_offset.json()["full"] is False


def test_search(client, auth, open_activity, make_registration):
    make_registration(activity=open_activity, contact_name="Anna de Vries")
    make_registration(activity=open_activity, contact_name="Bert Jansen")
    url = f"{API}/checkin/search"
    short = client.get(url, {"activity": open_activity.pk, "q": "de"}, **auth)
    assert short.status_code == 422
    assert short.json()["code"] == "search_too_short"
    assert short.json()["details"] == {"min_length": 3}
    missing = client.get(url, {"activity": open_activity.pk}, **auth)
    assert missing.status_code == 422
    found = client.get(url, {"activity": open_activity.pk, "q": "vries"}, **auth).json()
    assert [r["name"] for r in found["results"]] == ["Anna de Vries"]


def test_search_and_redeem_are_rate_limited(client, auth, open_activity, settings):
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "checkin-search": (1, 60),
        "checkin-redeem": (1, 60),
    }
    url = f"{API}/checkin/search"
    assert client.get(url, {"activity": open_activity.pk, "q": "xxx"}, **auth).status_code == 200
    assert client.get(url, {"activity": open_activity.pk, "q": "xxx"}, **auth).status_code == 429
    body = redeem_body(open_activity, "C" * 20)
    assert post(client, "/checkin/redeem", body, auth).status_code == 200
    response = post(client, "/checkin/redeem", body, auth)
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"


def test_walk_in_until_full(client, auth, open_activity, make_registration):
    make_registration(activity=open_activity, party_size=6)
    body = {"activity": open_activity.pk, "name": "Loper", "party_size": 4, "nonce": "w1"}
    first = post(client, "/checkin/walk-in", body, auth)
    assert first.status_code == 200
    assert (first.json()["result"], first.json()["checked_in"]) == ("ok", 4)
    assert post(client, "/checkin/walk-in", body, auth).json() == first.json()  # same nonce
    full = post(client, "/checkin/walk-in", {**body, "nonce": "w2", "party_size": 1}, auth)
    assert full.status_code == 409
    assert full.json()["code"] == "activity_full"
