"""Scanner devices: create, pair, authenticate, revoke.

A device is made by an organiser (organiser area or `manage.py create_scanner_device`) for
chosen activities of one programme. It gets a single-use pairing code: 8 characters from an
alphabet without look-alikes (no 0/O, 1/I/L), valid for PAIRING_VALID (15 minutes). The phone
sends the code once (`POST /api/v1/scanner/pair`; the pairing QR is a link to the scanner page that
carries the code, see `pairing_url`) and receives a bearer token; from then on the
token is the device's only proof. Tokens are stored only as a SHA-256 hash. A device expires by
default at the end of the day (Europe/Amsterdam) of its last activity, and a revocation takes
effect on the very next request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from qrcode.constants import ERROR_CORRECT_M

from events.models import Activity, Programme
from jubileum.lib.errors import DomainError
from registrations.checkin import sql
from registrations.models import ScannerDevice

TOKEN_PREFIX = "jsd_"
TOKEN_LENGTH = len(TOKEN_PREFIX) + 43  # token_urlsafe(32)
PAIRING_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
PAIRING_LENGTH = 8
PAIRING_VALID = dt.timedelta(minutes=15)
# What pairing QRs held before they became links; still accepted (devices printed before).
PAIRING_QR_PREFIX = "JUBSCAN:"
LOCAL_ZONE = ZoneInfo("Europe/Amsterdam")
# Writing on every scan would cost a write per request; once a minute is precise enough.
LAST_SEEN_PRECISION = dt.timedelta(minutes=1)


class DeviceError(DomainError):
    code = "device_error"
    status = 422
    message = _("Dit kan niet met deze scanner.")


class NoActivities(DeviceError):
    code = "no_activities"
    message = _("Kies minstens één activiteit van dit programma.")


class UnknownPairingCode(DeviceError):
    code = "unknown_pairing_code"
    status = 404
    message = _("Deze koppelcode kennen we niet, is al gebruikt of is verlopen.")


@dataclass(frozen=True)
class NewDevice:
    device: ScannerDevice
    pairing_code: str
    token: str | None = None  # only from the command line, shown once


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_pairing_code() -> str:
    return "".join(secrets.choice(PAIRING_ALPHABET) for _i in range(PAIRING_LENGTH))


def normalise_pairing_code(value: str) -> str:
    value = value.strip().upper()
    value = value.removeprefix(PAIRING_QR_PREFIX)
    return "".join(ch for ch in value if ch not in " -")


def scanner_url() -> str:
    """The scanner page's full address on this site, in the active language."""
    return settings.SITE_URL + reverse("scanner:page")


def pairing_url(code: str) -> str:
    """What the pairing QR holds: the scanner page with the code in its fragment, so that a
    phone's own camera app opens the scanner, which pairs at once. A fragment is never sent to
    a server, so the code stays out of every access log."""
    return f"{scanner_url()}#pair={code}"


def pairing_qr_svg(code: str) -> str:
    """The pairing QR as an SVG to put inline on the organiser's page."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    qr.add_data(pairing_url(code))
    qr.make(fit=True)
    image = qr.make_image(image_factory=qrcode.image.svg.SvgPathFillImage)
    return image.to_string(encoding="unicode")


def default_expiry(activities: Iterable[Activity]) -> dt.datetime:
    """The end of the day (Amsterdam time) on which the last of these activities ends."""
    last_end = max(activity.ends_at for activity in activities)
    day = timezone.localtime(last_end, LOCAL_ZONE).date()
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), tzinfo=LOCAL_ZONE)
    return end.astimezone(dt.UTC)


def _fresh_pairing(device: ScannerDevice, now: dt.datetime) -> str:
    for _attempt in range(5):
        code = new_pairing_code()
        device.pairing_code = code
        device.pairing_expires_at = now + PAIRING_VALID
        try:
            with transaction.atomic():
                device.save()
            return code
        except IntegrityError:  # a live code collided (1 in 31^8): draw again
            continue
    raise RuntimeError("could not draw a unique pairing code")


def create_device(
    programme: Programme,
    activity_ids: Iterable[int],
    *,
    name: str = "",
    created_by: User | None = None,
    expires_at: dt.datetime | None = None,
    with_token: bool = False,
    now: dt.datetime | None = None,
) -> NewDevice:
    """Make a device for these activities of the programme, with a pairing code; with
    `with_token` also a token at once (the command line prints it)."""
    now = now or timezone.now()
    ids = set(activity_ids)
    activities = list(Activity.objects.filter(programme=programme, pk__in=ids))
    if not activities or len(activities) != len(ids):
        raise NoActivities(details={"activity_ids": sorted(ids)})
    token = new_token() if with_token else None
    with transaction.atomic():
        device = ScannerDevice(
            name=(name.strip() or _default_name(programme))[:100],
            programme=programme,
            created_by=created_by if created_by and created_by.is_authenticated else None,
            expires_at=expires_at or default_expiry(activities),
            token_hash=hash_token(token) if token else None,
        )
        code = _fresh_pairing(device, now)
        device.activities.set(activities)
    return NewDevice(device, code, token)


def _default_name(programme: Programme) -> str:
    number = ScannerDevice.objects.filter(programme=programme).count() + 1
    return str(_("Scanner %(number)s") % {"number": number})


def renew_pairing(device: ScannerDevice, *, now: dt.datetime | None = None) -> str:
    """A new pairing code for a device not yet paired (the first one lapsed)."""
    now = now or timezone.now()
    with transaction.atomic():
        return _fresh_pairing(device, now)


def pair(code: str, *, now: dt.datetime | None = None) -> tuple[ScannerDevice, str]:
    """Spend a pairing code: the device and its new token (any earlier token stops working)."""
    now = now or timezone.now()
    code = normalise_pairing_code(code)
    if len(code) != PAIRING_LENGTH or any(ch not in PAIRING_ALPHABET for ch in code):
        raise UnknownPairingCode()
    with transaction.atomic():
        device = (
            ScannerDevice.objects.select_for_update()
            .filter(pairing_code=code, pairing_expires_at__gt=now, revoked_at__isnull=True)
            .first()
        )
        if device is None or device.expires_at <= now:
            raise UnknownPairingCode()
        token = new_token()
        device.token_hash = hash_token(token)
        device.pairing_code = None
        device.pairing_expires_at = None
        device.paired_at = now
        device.last_seen_at = now
        device.save()
    return device, token


def device_for_token(token: str, *, now: dt.datetime | None = None) -> ScannerDevice | None:
    """The active device this token belongs to, or None (unknown, revoked, expired).

    One query, written out in SQL (`registrations.checkin.sql`), and nothing cached: a revoked
    device is refused on its very next request. The device comes with `activity_ids`; its
    other fields load when first read."""
    if len(token) != TOKEN_LENGTH or not token.startswith(TOKEN_PREFIX):
        return None
    now = now or timezone.now()
    device = sql.active_device(hash_token(token), now)
    if device is None:
        return None
    if device.last_seen_at is None or now - device.last_seen_at >= LAST_SEEN_PRECISION:
        ScannerDevice.objects.filter(pk=device.pk).update(last_seen_at=now)
        device.last_seen_at = now
    return device


def activity_ids_of(device: ScannerDevice) -> list[int]:
    return list(device.activities.values_list("pk", flat=True))


def may_scan(device: ScannerDevice, activity_id: int) -> bool:
    """Whether the device is for this activity (no query for a device from device_for_token)."""
    ids = getattr(device, "activity_ids", None)
    if ids is None:
        return device.activities.filter(pk=activity_id).exists()
    return activity_id in ids


def revoke(programme: Programme, device_id: int, *, now: dt.datetime | None = None) -> bool:
    """Revoke a device of this programme; False when there is no such active device."""
    now = now or timezone.now()
    updated = ScannerDevice.objects.filter(
        pk=device_id, programme=programme, revoked_at__isnull=True
    ).update(revoked_at=now, token_hash=None, pairing_code=None, pairing_expires_at=None)
    return bool(updated)
