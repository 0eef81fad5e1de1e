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


class DomainError(Exception):
    code: str = "domain_error"
    status: int = 400
    message: str | Promise = _("Dit kan niet.")

    def __init__(
        self,
        message: str | Promise | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        # Class attributes are the defaults; the instance may refine any of them. The message stays
        # lazy until rendered, so it comes out in the language of whoever reads it.
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details: dict[str, Any] = details or {}
        super().__init__(self.code)

    def __str__(self) -> str:
        return str(self.message)
