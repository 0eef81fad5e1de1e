"""Scanner API: pair a device, then redeem, search, admit walk-ins and sync offline scans.

Mounted by `jubileum.api`. Every endpoint but `pair` takes the device token as
`Authorization: Bearer <token>`; an unknown, revoked or expired token is 401 at once, and only
that: a database that does not answer while the token is looked up is 503 `unavailable`, on
which the scanner keeps its pairing and works offline (a 401 makes it forget). A device
only reaches its own activities (another activity is 404). Redeem, sync and search are rate
limited per device, pairing per IP. The rules are `registrations.checkin.services`'s and
`registrations.checkin.devices`'.
"""

# No `from __future__ import annotations` here: ninja reads parameter and field types from the
# signatures and class bodies at import time.

import datetime as dt
from typing import Any, Literal

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.security import HttpBearer
from pydantic import ConfigDict, field_validator

from events.api import MAX_ID
from events.models import Activity
from jubileum.lib import ratelimit
from jubileum.lib.apitools import ErrorOut, example, strict_query
from registrations.checkin import devices
from registrations.checkin import services as checkin
from registrations.models import ScanLog, ScannerDevice

router = Router(tags=["check-in"])
TAGS = [
    {
        "name": "check-in",
        "description": "The door scanner: pairing a phone, the ticket list, scans (also those "
        "made offline), search, walk-ins and counts.",
    }
]

ERRORS = {401: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}


class DeviceAuth(HttpBearer):
    """`Authorization: Bearer <device token>`; the device is `request.auth`."""

    def authenticate(self, request: HttpRequest, token: str) -> ScannerDevice | None:
        return devices.device_for_token(token.strip())


device_auth = DeviceAuth()


def _activity_of(device: ScannerDevice, activity_id: int) -> Activity:
    if not devices.may_scan(device, activity_id):
        raise Http404
    return Activity.objects.get(pk=activity_id)


def _check_activity(device: ScannerDevice, activity_id: int) -> None:
    """404 unless the device is for this activity (no query: the ids came with the device)."""
    if not devices.may_scan(device, activity_id):
        raise Http404


ACTIVITY_EXAMPLE = {
    "id": 12,
    "title": "Kinderbrandweermiddag",
    "starts_at": "2027-04-10T12:00:00Z",
    "ends_at": "2027-04-10T14:30:00Z",
    "location_name": "Kazerne Soest",
}
REDEEM_IN_EXAMPLE = {
    "code": "JUB1:K7Q2M4XW9ZP3R5T6V8YA",
    "activity": 12,
    "nonce": "1b4e28ba-2fa1-41d2-883f-0016d3cca427",
}
REDEEM_OUT_EXAMPLE = {
    "result": "ok",
    "party_size": 3,
    "checked_in": 3,
    "remaining": 0,
    "admitted": 3,
    "name": "Anna de V.",
    "registration": 481,
    "message": "Welkom — 3 personen",
    "first_checked_in_at": "2027-04-10T11:52:10Z",
    "device_name": "Ingang links",
    "conflict": False,
}


class StrictIn(Schema):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ScannerPairIn(StrictIn):
    model_config = example({"code": "4KD7-PQ2M"})

    code: str = Field(min_length=1, max_length=40, description="The pairing code or QR text.")


class ScannerActivityOut(Schema):
    id: int
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    location_name: str


class ScannerActivityCountsOut(ScannerActivityOut):
    model_config = example({**ACTIVITY_EXAMPLE, "checked_in": 41, "expected": 112})

    checked_in: int
    expected: int


class ScannerDeviceOut(Schema):
    id: int
    name: str
    expires_at: dt.datetime


class ScannerPairOut(Schema):
    model_config = example(
        {
            "token": "s7Hq2vN9xK4bR8mT3wYc6pLz5dF1gJ0a",
            "device": {"id": 5, "name": "Ingang links", "expires_at": "2027-04-11T00:00:00Z"},
            "activities": [ACTIVITY_EXAMPLE],
        }
    )

    token: str = Field(description="The device token; shown only in this answer.")
    device: ScannerDeviceOut
    activities: list[ScannerActivityOut]


class CheckinCountsOut(Schema):
    model_config = example({"checked_in": 41, "expected": 112})

    checked_in: int
    expected: int


class CheckinManifestActivityOut(ScannerActivityOut):
    checkin_opens_at: dt.datetime


class CheckinTicketOut(Schema):
    hash: str = Field(description="SHA-256 hex of the ticket code (the part after `JUB1:`).")
    party_size: int
    checked_in: int
    status: Literal["admit", "cancelled", "unpaid", "other"]
    name: str


class CheckinManifestOut(Schema):
    model_config = example(
        {
            "activity": {**ACTIVITY_EXAMPLE, "checkin_opens_at": "2027-04-10T10:00:00Z"},
            "generated_at": "2027-04-10T11:45:00Z",
            "tickets": [
                {
                    "hash": "c23cf19e04932cc08734865d61c095593ccc20aa5ad695966d3f7647df149ae5",
                    "party_size": 3,
                    "checked_in": 0,
                    "status": "admit",
                    "name": "Anna de V.",
                }
            ],
            "full": True,
        }
    )

    activity: CheckinManifestActivityOut
    generated_at: dt.datetime
    tickets: list[CheckinTicketOut]
    full: bool = Field(description="False: only tickets changed since `since`.")


def _in_utc(value: dt.datetime | None) -> dt.datetime | None:
    """A time from the phone, kept in UTC: PostgreSQL refuses offsets beyond ±15:59, and a
    time without an offset is read as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError(_("Dit tijdstip ligt buiten het bereik van tijdstippen.")) from None


class ManifestQuery(Schema):
    activity: int = Field(ge=1, le=MAX_ID, examples=[12])
    since: dt.datetime | None = None

    _since_in_utc = field_validator("since")(_in_utc)


class ActivityQuery(Schema):
    activity: int = Field(ge=1, le=MAX_ID, examples=[12])


class SearchQuery(Schema):
    activity: int = Field(ge=1, le=MAX_ID, examples=[12])
    q: str = Field(max_length=100, examples=["de Vries"])


class CheckinRedeemIn(StrictIn):
    model_config = example(REDEEM_IN_EXAMPLE)

    code: str = Field("", max_length=80, description="Ticket code, with or without `JUB1:`.")
    registration: int | None = Field(None, ge=1, le=MAX_ID, description="From a name search.")
    activity: int = Field(ge=1, le=MAX_ID)
    count: int | None = Field(None, ge=1, le=500, description="Default: the rest of the party.")
    nonce: str = Field(min_length=1, max_length=64, description="A client UUID per scan.")
    scanned_at: dt.datetime | None = None
    offline: bool = False

    _scanned_at_in_utc = field_validator("scanned_at")(_in_utc)

    def to_scan(self) -> checkin.Scan:
        return checkin.Scan(
            activity_id=self.activity,
            nonce=self.nonce,
            code=self.code,
            registration_id=self.registration,
            count=self.count,
            scanned_at=self.scanned_at,
            offline=self.offline,
        )


class CheckinRedeemOut(Schema):
    model_config = example(REDEEM_OUT_EXAMPLE)

    result: Literal[tuple(ScanLog.Result.values)]  # type: ignore[valid-type]
    party_size: int
    checked_in: int
    remaining: int
    admitted: int = Field(description="Persons this scan let in.")
    name: str
    registration: int | None
    message: str
    first_checked_in_at: dt.datetime | None = None
    device_name: str | None = None
    conflict: bool = Field(
        False, description="An offline admission another device had made earlier."
    )


class CheckinSyncIn(StrictIn):
    model_config = example(
        {"scans": [{**REDEEM_IN_EXAMPLE, "scanned_at": "2027-04-10T11:52:10Z", "offline": True}]}
    )

    scans: list[CheckinRedeemIn] = Field(max_length=checkin.MAX_SYNC_SCANS)


class CheckinSyncOut(Schema):
    model_config = example({"results": [REDEEM_OUT_EXAMPLE]})

    results: list[CheckinRedeemOut]


class CheckinSearchResultOut(Schema):
    registration: int
    name: str
    party_size: int
    checked_in: int
    status: Literal["admit", "cancelled", "unpaid", "other"]


class CheckinSearchOut(Schema):
    model_config = example(
        {
            "results": [
                {
                    "registration": 481,
                    "name": "Anna de Vries",
                    "party_size": 3,
                    "checked_in": 0,
                    "status": "admit",
                }
            ]
        }
    )

    results: list[CheckinSearchResultOut]


class CheckinWalkInIn(StrictIn):
    model_config = example(
        {"activity": 12, "name": "Piet Smit", "party_size": 2, "nonce": "5f0c2b7e-8d3a-4c1e"}
    )

    activity: int = Field(ge=1, le=MAX_ID)
    name: str = Field(min_length=1, max_length=200)
    party_size: int = Field(ge=1, le=50)
    nonce: str = Field(min_length=1, max_length=64)


@router.post(
    "/scanner/pair",
    response={200: ScannerPairOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    url_name="scanner_pair",
    summary="Pair a scanner device with its one-time code",
)
@strict_query
def pair(request: HttpRequest, payload: ScannerPairIn) -> dict[str, Any]:
    """Spend the pairing code shown in the organiser area (also as `JUBSCAN:<code>`, what
    pairing QRs held before they became links to `/scan/#pair=<code>`):
    the answer holds the device token, shown only here. An unknown, used or expired code is
    404 `unknown_pairing_code`."""
    ratelimit.limit(request, "checkin-pair")
    device, token = devices.pair(payload.code)
    return {
        "token": token,
        "device": device,
        "activities": list(device.activities.order_by("starts_at", "pk")),
    }


@router.get(
    "/checkin/activities",
    response={200: list[ScannerActivityCountsOut], **ERRORS},
    auth=device_auth,
    url_name="checkin_activities",
    summary="The device's activities with their counts",
)
@strict_query
def activities(request: HttpRequest) -> list[Activity]:
    device = request.auth
    rows = checkin.activities_with_counts(device.activities.order_by("starts_at", "pk"))
    return list(rows)


@router.get(
    "/checkin/manifest",
    response={200: CheckinManifestOut, **ERRORS},
    auth=device_auth,
    url_name="checkin_manifest",
    summary="Tickets of an activity for offline checking",
)
@strict_query
def manifest(request: HttpRequest, query: Query[ManifestQuery]) -> dict[str, Any]:
    """Per ticket a hash of its code, party size, persons in, status and a short name. With
    `since` (e.g. the previous `generated_at`) only tickets changed after it."""
    activity = _activity_of(request.auth, query.activity)
    body = checkin.manifest(activity, query.since)
    body["activity"] = {
        **{name: getattr(activity, name) for name in ScannerActivityOut.model_fields},
        "checkin_opens_at": body.pop("checkin_opens_at"),
    }
    return body


@router.post(
    "/checkin/redeem",
    response={200: CheckinRedeemOut, **ERRORS},
    auth=device_auth,
    url_name="checkin_redeem",
    summary="Check a ticket in",
)
@strict_query
def redeem(request: HttpRequest, payload: CheckinRedeemIn) -> dict[str, Any]:
    """Admit the party of a ticket code (or of a registration found by name). `result` is one
    of ok, partial, already_checked_in, wrong_activity, cancelled, unpaid, not_yet_open,
    unknown. A repeated `nonce` returns the first answer and changes nothing."""
    device = request.auth
    ratelimit.limit(request, "checkin-redeem", key=str(device.pk))
    _check_activity(device, payload.activity)
    return checkin.redeem(device, payload.to_scan())


@router.post(
    "/checkin/sync",
    response={200: CheckinSyncOut, **ERRORS},
    auth=device_auth,
    url_name="checkin_sync",
    summary="Send scans made offline",
)
@strict_query
def sync(request: HttpRequest, payload: CheckinSyncIn) -> dict[str, Any]:
    """The results in the order of the scans; each nonce counts once. When two devices admitted
    the same ticket offline, the earliest `scanned_at` wins and the other is flagged."""
    device = request.auth
    ratelimit.limit(request, "checkin-sync", key=str(device.pk))
    return {"results": checkin.sync(device, [scan.to_scan() for scan in payload.scans])}


@router.get(
    "/checkin/search",
    response={200: CheckinSearchOut, **ERRORS},
    auth=device_auth,
    url_name="checkin_search",
    summary="Find a party by name",
)
@strict_query
def search(request: HttpRequest, query: Query[SearchQuery]) -> dict[str, Any]:
    """At most 10 parties of the activity whose name contains `q`: name, party size, persons in
    and status only. Fewer than 3 characters is 422 `search_too_short` (`details.min_length`)."""
    device = request.auth
    ratelimit.limit(request, "checkin-search", key=str(device.pk))
    _check_activity(device, query.activity)
    return {"results": checkin.search(query.activity, query.q)}


@router.post(
    "/checkin/walk-in",
    response={200: CheckinRedeemOut, **ERRORS},
    auth=device_auth,
    url_name="checkin_walk_in",
    summary="Register and admit a walk-in",
)
@strict_query
def walk_in(request: HttpRequest, payload: CheckinWalkInIn) -> dict[str, Any]:
    """Register a party at the door (a guest, without e-mail) and admit it, while places
    remain; 409 `activity_full` otherwise."""
    device = request.auth
    ratelimit.limit(request, "checkin-redeem", key=str(device.pk))
    _check_activity(device, payload.activity)
    data = checkin.WalkIn(payload.activity, payload.name, payload.party_size, payload.nonce)
    return checkin.walk_in(device, data)


@router.get(
    "/checkin/counts",
    response={200: CheckinCountsOut, **ERRORS},
    auth=device_auth,
    url_name="checkin_counts",
    summary="Persons checked in and expected",
)
@strict_query
def counts(request: HttpRequest, query: Query[ActivityQuery]) -> dict[str, int]:
    _check_activity(request.auth, query.activity)
    return checkin.counts(query.activity)
