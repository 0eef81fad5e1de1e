"""The two secrets of a registration, and what a ticket's QR code holds.

- The *manage token* is the key in the personal link (`/aanmelding/<token>/`): whoever holds it
  may change or cancel the registration. 120 random bits, URL-safe base64 (20 characters).
- The *ticket code* is what the QR code on the ticket carries; it admits the party at the door
  and does nothing else, so a photo of a QR cannot cancel anything. 100 random bits as 20
  characters of RFC 4648 base32 (A-Z, 2-7).

The QR code holds `JUB1:` followed by the ticket code, e.g. `JUB1:K7Q2M4XW9ZP3R5T6V8YA`. Every
character is in the QR alphanumeric set, which keeps the code small (version 2) and quick to
scan; the prefix lets the scanner tell this site's tickets from any other QR at once and
leaves room for a new format (`JUB2:`) later. Both values are looked up through unique
indexes, in one query.
"""

from __future__ import annotations

import base64
import re
import secrets

TICKET_PREFIX = "JUB1:"
_TICKET_CODE = re.compile(r"^[A-Z2-7]{20}$")
_MANAGE_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20}$")


def new_manage_token() -> str:
    return secrets.token_urlsafe(15)


def new_ticket_code() -> str:
    return base64.b32encode(secrets.token_bytes(13)).decode()[:20]


def ticket_qr_payload(ticket_code: str) -> str:
    return f"{TICKET_PREFIX}{ticket_code}"


def parse_ticket_qr(payload: str) -> str | None:
    """The ticket code in a scanned QR, or None when it is not one of our tickets."""
    payload = payload.strip().upper()
    if not payload.startswith(TICKET_PREFIX):
        return None
    code = payload.removeprefix(TICKET_PREFIX)
    return code if _TICKET_CODE.match(code) else None


def looks_like_manage_token(value: str) -> bool:
    """Cheap shape check before a database lookup (a tampered link fails here already)."""
    return bool(_MANAGE_TOKEN.match(value))
