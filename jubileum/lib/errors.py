"""Domain errors: what services raise when a rule refuses an action.

A service raises a subclass with a machine-readable `code`, a translated `message` and the HTTP
`status` an API client should see; the HTML view shows the message, the API renders
`{"code", "message", "details"}` (see `jubileum.api`). For example::

    class ActivityFull(DomainError):
        code = "activity_full"
        status = 409
        message = _("Deze activiteit is vol.")

    raise ActivityFull(details={"places_left": 0})
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# Statuses the framework answers with on its own (ninja, our middleware, Django's handlers), with
# the code and message clients see. Services name their own codes in DomainError subclasses.
HTTP_ERRORS: dict[int, tuple[str, Promise]] = {
    400: ("bad_request", _("Het verzoek kon niet worden gelezen.")),
    401: ("not_authenticated", _("Inloggen is nodig: stuur een geldig token mee.")),
    403: ("permission_denied", _("Hier heb je geen toegang toe.")),
    404: ("not_found", _("Dit bestaat niet of is niet openbaar.")),
    405: ("method_not_allowed", _("Deze methode is hier niet toegestaan.")),
    409: ("conflict", _("Dit botst met de huidige stand van zaken.")),
    415: (
        "unsupported_media_type",
        _("Stuur de gegevens als JSON, met Content-Type: application/json."),
    ),
    429: ("throttled", _("Te veel verzoeken; probeer het straks opnieuw.")),
    503: (
        "unavailable",
        _("De dienst is even niet bereikbaar; probeer het over een minuut opnieuw."),
    ),
}


def error_body(
    code: str, message: str | Promise, details: dict[str, Any] | list[Any] | None = None
) -> dict[str, Any]:
    """What every API error looks like: `{"code", "message", "details"}`."""
    return {"code": code, "message": str(message), "details": {} if details is None else details}


class DomainError(Exception):
    code: str = "domain_error"
    status: int = 400
    message: str | Promise = _("Dit kan niet.")

    def __init__(
        self,
        message: str | Promise | None = None,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        # Class attributes are the defaults; the instance may refine its message and code, while
        # the HTTP status belongs to the kind of error (its class). The message stays lazy until
        # rendered, so it comes out in the language of whoever reads it.
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        self.details: dict[str, Any] = details or {}
        super().__init__(self.code)

    def __str__(self) -> str:
        return str(self.message)
