"""Check-in at the door: redeem a ticket, search by name, register a walk-in, sync offline scans.

How many of a party are in is *derived*: the sum of `CheckIn.persons` for the registration.
`redeem` locks the registration row, and only that row (`FOR UPDATE OF`; on SQLite the immediate
transaction serialises writers), before it reads that sum and adds a check-in, so two devices
scanning the same ticket at once queue up and exactly one of them admits the party, while scans
of other tickets go on. A walk-in locks the activity row first, as every workflow that changes
who holds places does. The reads of a scan are written out in SQL (`registrations.checkin.sql`:
building them with the ORM cost more than running them); what it writes goes through the ORM.

Every attempt writes a `ScanLog` row. A client nonce makes a scan idempotent per device: the
first answer is stored with the log row and a repeat of the nonce gets it back unchanged.

Offline scans (from `sync`) carry the phone's `scanned_at`. When two devices admitted the same
party offline, the earliest scan in time wins: the check-in is re-dated to it and moved to its
device, and the later admission is flagged as a conflict for the organiser.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from events.models import Activity
from registrations import capacity, locking, services
from registrations.checkin import devices, sql
from registrations.models import CheckIn, Registration, ScanLog, ScannerDevice
from registrations.tokens import TICKET_PREFIX

Status = Registration.Status
Result = ScanLog.Result

# Doors open this long before an activity starts; a scan before then is `not_yet_open`.
CHECKIN_OPENS_BEFORE = dt.timedelta(hours=2)
# An offline scan's clock may not lie about the future beyond this.
MAX_CLOCK_SKEW = dt.timedelta(minutes=5)
# A name search needs this many characters: fewer would list a door's worth of names.
SEARCH_MIN_LENGTH = 3
SEARCH_LIMIT = 10
MAX_SYNC_SCANS = 500


class CheckinError(services.RegistrationError):
    code = "checkin_error"


class SearchTooShort(CheckinError):
    code = "search_too_short"
    status = 422
    message = _("Typ minstens drie letters van de naam om te zoeken.")


class NothingToRedeem(CheckinError):
    code = "nothing_to_redeem"
    status = 422
    message = _("Stuur een ticketcode of een aanmelding mee.")


class WalkInFull(CheckinError):
    code = "activity_full"
    status = 409
    message = _("Er zijn geen plaatsen meer vrij voor deze groep.")


@dataclass(frozen=True)
class Scan:
    """One redeem request, as the device sent it."""

    activity_id: int
    nonce: str
    code: str = ""
    registration_id: int | None = None
    count: int | None = None
    scanned_at: dt.datetime | None = None
    offline: bool = False


def code_hash(code: str) -> str:
    """What the offline manifest holds per ticket: SHA-256 hex of the bare ticket code."""
    return hashlib.sha256(code.encode()).hexdigest()


def normalise_code(value: str) -> str:
    value = value.strip().upper()
    return value.removeprefix(TICKET_PREFIX)


def opens_at(activity: Activity) -> dt.datetime:
    return activity.starts_at - CHECKIN_OPENS_BEFORE


def display_name(name: str) -> str:
    """First name and the initial of the last word: enough to greet, little to leak."""
    parts = name.split()
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return f"{parts[0]} {parts[-1][0].upper()}."


def ticket_status(registration: Registration, now: dt.datetime) -> str:
    """admit / cancelled / unpaid / other, as the manifest and the scanner know them."""
    current = registration.current_status(now)
    if current == Status.CONFIRMED:
        return "admit"
    if current in (Status.CANCELLED, Status.EXPIRED):
        return "cancelled"
    if current == Status.PENDING_PAYMENT:
        return "unpaid"
    return "other"


def checked_in_of(registration_id: int) -> int:
    total = CheckIn.objects.filter(registration_id=registration_id).aggregate(n=Sum("persons"))
    return total["n"] or 0


def _checked_in_subquery() -> Coalesce:
    sums = (
        CheckIn.objects.filter(registration=OuterRef("pk"))
        .values("registration")
        .annotate(n=Sum("persons"))
        .values("n")
    )
    return Coalesce(Subquery(sums, output_field=IntegerField()), 0)


def counts(activity_id: int) -> dict[str, int]:
    """Persons checked in, and persons expected (confirmed parties), for one activity."""
    checked = CheckIn.objects.filter(registration__activity_id=activity_id).aggregate(
        n=Sum("persons")
    )["n"]
    expected = Registration.objects.filter(
        activity_id=activity_id, status=Status.CONFIRMED
    ).aggregate(n=Sum("party_size"))["n"]
    return {"checked_in": checked or 0, "expected": expected or 0}


def activities_with_counts(activities: QuerySet[Activity]) -> QuerySet[Activity]:
    """Annotate `checked_in` and `expected` on each activity, in one query."""
    checked = (
        CheckIn.objects.filter(registration__activity=OuterRef("pk"))
        .values("registration__activity")
        .annotate(n=Sum("persons"))
        .values("n")
    )
    expected = (
        Registration.objects.filter(activity=OuterRef("pk"), status=Status.CONFIRMED)
        .values("activity")
        .annotate(n=Sum("party_size"))
        .values("n")
    )
    return activities.annotate(
        checked_in=Coalesce(Subquery(checked, output_field=IntegerField()), 0),
        expected=Coalesce(Subquery(expected, output_field=IntegerField()), 0),
    )


# --- Redeem -------------------------------------------------------------------------------


def _message(result: Result, name: str, admitted: int, remaining: int, **extra: Any) -> str:
    if result == Result.OK:
        return ngettext("Welkom — %(n)s persoon", "Welkom — %(n)s personen", admitted) % {
            "n": admitted
        }
    if result == Result.PARTIAL:
        return str(_("%(n)s binnen, nog %(rest)s later") % {"n": admitted, "rest": remaining})
    if result == Result.ALREADY:
        when = extra.get("when")
        device = extra.get("device") or "?"
        if when is None:
            return str(_("Al binnen"))
        return str(
            _("Al binnen om %(time)s, apparaat %(device)s")
            % {"time": timezone.localtime(when).strftime("%H:%M"), "device": device}
        )
    return str(
        {
            Result.WRONG_ACTIVITY: _("Dit ticket is voor een andere activiteit."),
            Result.CANCELLED: _("Deze aanmelding is geannuleerd of niet (meer) geldig."),
            Result.UNPAID: _("Deze aanmelding is nog niet betaald."),
            Result.NOT_YET_OPEN: _("De check-in is nog niet open."),
            Result.UNKNOWN: _("Dit ticket kennen we niet."),
        }[result]
    )


def _answer(
    result: Result,
    registration: Registration | None,
    *,
    checked_in: int = 0,
    admitted: int = 0,
    **extra: Any,
) -> dict[str, Any]:
    party = registration.party_size if registration else 0
    remaining = max(party - checked_in, 0)
    name = display_name(registration.contact_name) if registration else ""
    answer: dict[str, Any] = {
        "result": result,
        "party_size": party,
        "checked_in": checked_in,
        "remaining": remaining,
        "admitted": admitted,
        "name": name,
        "registration": registration.pk if registration else None,
        "message": _message(result, name, admitted, remaining, **extra),
        "first_checked_in_at": None,
        "device_name": None,
        "conflict": False,
    }
    if result == Result.ALREADY:
        when = extra.get("when")
        answer["first_checked_in_at"] = when.isoformat() if when else None
        answer["device_name"] = extra.get("device")
    return answer


def _replayed(device: ScannerDevice, nonce: str) -> ScanLog | None:
    if not nonce:
        return None
    return ScanLog.objects.filter(device=device, nonce=nonce, replay=False).first()


def _log_replay(first: ScanLog, scan: Scan) -> dict[str, Any]:
    ScanLog.objects.create(
        device=first.device,
        activity_id=first.activity_id,
        registration_id=first.registration_id,
        code_hash=first.code_hash,
        result=first.result,
        count=0,
        scanned_at=scan.scanned_at,
        offline=scan.offline,
        nonce=scan.nonce,
        replay=True,
        response={},
    )
    return first.response


def redeem(device: ScannerDevice, scan: Scan, *, now: dt.datetime | None = None) -> dict:
    """Admit (part of) a party for this scan; the answer the scanner shows.

    The device must be allowed at `scan.activity_id` (the endpoint checks). A repeated nonce
    returns the first answer and changes nothing."""
    now = now or timezone.now()
    code = normalise_code(scan.code) if scan.code else ""
    if not code and scan.registration_id is None:
        raise NothingToRedeem()
    try:
        with transaction.atomic():
            return _redeem_locked(device, scan, code, now)
    except IntegrityError:
        # The nonce was used before: the unique constraints on (device, nonce) of the check-in
        # and the first log row refuse the repeat, and everything this attempt did rolls back.
        # Asking first would cost a query on every scan; repeats are rare.
        first = _replayed(device, scan.nonce)
        if first is None:
            raise
        with transaction.atomic():
            return _log_replay(first, scan)


def _redeem_locked(device: ScannerDevice, scan: Scan, code: str, now: dt.datetime) -> dict:
    # A name search only finds this activity's parties; an id is not a way to probe others.
    registration = sql.locked_registration(
        code=code, registration_id=scan.registration_id, activity_id=scan.activity_id
    )
    scanned_at = now
    if scan.offline and scan.scanned_at is not None:
        scanned_at = min(scan.scanned_at, now + MAX_CLOCK_SKEW)

    def finish(answer: dict[str, Any], admitted: int = 0) -> dict[str, Any]:
        ScanLog.objects.create(
            device=device,
            activity_id=scan.activity_id,
            registration=registration,
            code_hash="" if registration else code_hash(code or str(scan.registration_id)),
            result=answer["result"],
            count=admitted,
            at=now,
            scanned_at=scan.scanned_at,
            offline=scan.offline,
            nonce=scan.nonce,
            conflict=answer["conflict"],
            response=answer,
        )
        return answer

    if registration is None:
        return finish(_answer(Result.UNKNOWN, None))
    if registration.activity_id != scan.activity_id:
        # Another activity's ticket, maybe another programme's: this device learns that much
        # and no more (no name, party or id). The log row keeps the registration for organisers.
        return finish(_answer(Result.WRONG_ACTIVITY, None))
    # Read after the lock was granted, in a query of its own, so that every check-in committed
    # before then is there: a subquery or join in the locking query would read the snapshot
    # taken before it waited for the lock, and miss the check-in of the scan it waited for.
    checkins = sql.checkins_of(registration)
    checked_in = sum(c.persons for c in checkins)
    status = ticket_status(registration, now)
    if status == "cancelled" or status == "other":
        return finish(_answer(Result.CANCELLED, registration, checked_in=checked_in))
    if status == "unpaid":
        return finish(_answer(Result.UNPAID, registration, checked_in=checked_in))
    if scanned_at < opens_at(registration.activity):
        return finish(_answer(Result.NOT_YET_OPEN, registration, checked_in=checked_in))

    remaining = registration.party_size - checked_in
    wanted = remaining if scan.count is None else max(scan.count, 1)
    if remaining <= 0:
        answer, admitted = _already(device, registration, checkins, scan, scanned_at)
        return finish(answer, admitted)
    admitted = min(wanted, remaining)
    CheckIn.objects.create(
        registration=registration,
        device=device,
        persons=admitted,
        at=scanned_at,
        offline=scan.offline,
        nonce=scan.nonce,
    )
    checked_in += admitted
    result = Result.OK if checked_in >= registration.party_size else Result.PARTIAL
    return finish(_answer(result, registration, checked_in=checked_in, admitted=admitted), admitted)


def _already(
    device: ScannerDevice,
    registration: Registration,
    checkins: list[CheckIn],
    scan: Scan,
    scanned_at: dt.datetime,
) -> tuple[dict[str, Any], int]:
    """Nobody left to admit: the answer, and how many this scan admitted after all.

    Two offline admissions of the same party conflict. The earliest scan in time wins: when
    this offline scan is earlier than an offline admission already recorded, that check-in is
    re-dated to this scan and moved to this device, this scan is answered as the admission,
    and the other one is flagged as the conflict; otherwise this scan is the flagged one."""
    checked_in = sum(c.persons for c in checkins)
    if scan.offline:
        later = [c for c in checkins if c.offline and c.at > scanned_at]
        if later:
            superseded = later[-1]
            # Its first log row, by the (device, nonce) it was admitted with; a check-in whose
            # device is gone or that came without a nonce has none to find.
            if superseded.device_id is not None and superseded.nonce:
                ScanLog.objects.filter(
                    device_id=superseded.device_id, nonce=superseded.nonce, replay=False
                ).update(conflict=True)
            CheckIn.objects.filter(pk=superseded.pk).update(
                at=scanned_at, device=device, nonce=scan.nonce
            )
            admitted = superseded.persons
            result = Result.OK if checked_in >= registration.party_size else Result.PARTIAL
            return (
                _answer(result, registration, checked_in=checked_in, admitted=admitted),
                admitted,
            )
    first = checkins[0] if checkins else None
    when = first.at if first else None
    device_name = first.device.name if first and first.device else None
    answer = _answer(
        Result.ALREADY, registration, checked_in=checked_in, when=when, device=device_name
    )
    answer["conflict"] = bool(scan.offline and first is not None and first.offline)
    return answer, 0


# --- Sync ---------------------------------------------------------------------------------


def sync(
    device: ScannerDevice, scans: list[Scan], *, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Redeem queued offline scans in their order; each nonce is accepted once. A scan for an
    activity the device may not scan at is answered `wrong_activity` (and logged)."""
    now = now or timezone.now()
    results = []
    for scan in scans:
        scan = dataclasses.replace(scan, offline=True)
        if not devices.may_scan(device, scan.activity_id):
            results.append(_refuse_activity(device, scan, now))
            continue
        try:
            results.append(redeem(device, scan, now=now))
        except NothingToRedeem:
            results.append(_answer(Result.UNKNOWN, None))
    return results


def _refuse_activity(device: ScannerDevice, scan: Scan, now: dt.datetime) -> dict[str, Any]:
    answer = _answer(Result.WRONG_ACTIVITY, None)
    ScanLog.objects.create(
        device=device,
        result=Result.WRONG_ACTIVITY,
        code_hash=code_hash(normalise_code(scan.code)) if scan.code else "",
        scanned_at=scan.scanned_at,
        offline=True,
        nonce="",
        at=now,
    )
    return answer


# --- Search, manifest, walk-in --------------------------------------------------------------


def search(activity_id: int, query: str) -> list[dict[str, Any]]:
    """At most SEARCH_LIMIT parties of this activity whose name contains the query.

    Names only: a door volunteer asks for a name, and matching parts of e-mail addresses
    would let a device list the parties of a mail domain."""
    query = query.strip()
    if len(query) < SEARCH_MIN_LENGTH:
        raise SearchTooShort(details={"min_length": SEARCH_MIN_LENGTH})
    now = timezone.now()
    rows = (
        Registration.objects.filter(activity_id=activity_id)
        .filter(contact_name__icontains=query)
        .annotate(checked_in=_checked_in_subquery())
        .order_by("contact_name", "pk")[:SEARCH_LIMIT]
    )
    return [
        {
            "registration": row.pk,
            "name": row.contact_name,
            "party_size": row.party_size,
            "checked_in": row.checked_in,
            "status": ticket_status(row, now),
        }
        for row in rows
    ]


def manifest(activity: Activity, since: dt.datetime | None = None) -> dict[str, Any]:
    """What an offline scanner needs for one activity, in one query whatever its size. With
    `since`: only tickets whose registration or check-ins changed after that moment, read
    through the indexes on the registrations' `updated_at` and the check-ins' `created_at`, so
    that a scanner asking every minute reads a few rows, not the whole activity. (The two as one
    filter, "changed or has a new check-in", would test every registration of the activity.)"""
    generated_at = timezone.now()
    rows = Registration.objects.filter(activity=activity)
    if since is not None:
        changed = Registration.objects.filter(activity=activity, updated_at__gt=since)
        checked_in = CheckIn.objects.filter(registration__activity=activity, created_at__gt=since)
        rows = rows.filter(pk__in=changed.values("pk").union(checked_in.values("registration_id")))
    rows = rows.annotate(checked_in=_checked_in_subquery()).only(
        "pk", "ticket_code", "party_size", "status", "hold_expires_at", "contact_name"
    )
    tickets = [
        {
            "hash": code_hash(row.ticket_code),
            "party_size": row.party_size,
            "checked_in": row.checked_in,
            "status": ticket_status(row, generated_at),
            "name": display_name(row.contact_name),
        }
        for row in rows.order_by("pk")
    ]
    return {
        "activity": activity,
        "checkin_opens_at": opens_at(activity),
        "generated_at": generated_at,
        "tickets": tickets,
        "full": since is None,
    }


@dataclass(frozen=True)
class WalkIn:
    activity_id: int
    name: str
    party_size: int
    nonce: str


def walk_in(device: ScannerDevice, data: WalkIn, *, now: dt.datetime | None = None) -> dict:
    """Register a party at the door (guest, no e-mail) and admit it at once, while places
    remain. A repeated nonce returns the first answer."""
    now = now or timezone.now()
    with transaction.atomic():
        activity = locking.lock_activity(data.activity_id)
        first = _replayed(device, data.nonce)
        if first is not None:
            return _log_replay(first, Scan(activity_id=activity.pk, nonce=data.nonce))
        if not 1 <= data.party_size <= activity.max_party_size:
            raise services.PartyTooLarge(
                message=services.PartyTooLarge.message % {"max": activity.max_party_size},
                details={"max_party_size": activity.max_party_size},
            )
        if activity.status != Activity.Status.PUBLISHED:
            raise services.RegistrationClosed(details={"activity_id": activity.pk})
        if now < opens_at(activity):
            registration = None
            answer = _answer(Result.NOT_YET_OPEN, None)
        else:
            free = capacity.places_free(activity, now)
            if free is not None and data.party_size > free:
                raise WalkInFull(details={"places_left": free})
            registration = Registration.objects.create(
                activity=activity,
                status=Status.CONFIRMED,
                contact_name=data.name.strip(),
                email="",
                party_size=data.party_size,
                kind=Registration.Kind.GUEST,
                consent_at=now,
                confirmed_at=now,
            )
            CheckIn.objects.create(
                registration=registration,
                device=device,
                persons=data.party_size,
                at=now,
                nonce=data.nonce,
            )
            answer = _answer(
                Result.OK, registration, checked_in=data.party_size, admitted=data.party_size
            )
        ScanLog.objects.create(
            device=device,
            activity=activity,
            registration=registration,
            result=answer["result"],
            count=answer["admitted"],
            nonce=data.nonce,
            at=now,
            response=answer,
        )
    return answer


def conflicts(activity_ids: list[int]) -> QuerySet[ScanLog]:
    """Offline admissions of a ticket another device had admitted earlier, newest first."""
    return (
        ScanLog.objects.filter(activity_id__in=activity_ids, conflict=True, replay=False)
        .select_related("device", "registration", "activity")
        .order_by("-at", "-pk")
    )
