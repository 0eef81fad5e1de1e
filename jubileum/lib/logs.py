"""Logs without secrets: the token of a personal link is masked wherever a path is logged.

A personal link (`/aanmelding/<token>/`, and the API's `/registrations/<token>`) lets whoever
holds it change or cancel a registration, so it must not end up in a log that an operator or a
log service reads. gunicorn's access log masks it (jubileum/gunicorn.conf.py, `redact_path`);
Django's own messages, such as `Not Found: /aanmelding/<token>/` from `django.request`, pass the
`RedactSecrets` filter on the log handler (settings.LOGGING). A server's URL, as in REDIS_URL,
is shown without its password (`redact_url`).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

# Path segments that are secrets: the manage token in the personal link and in the API.
_SECRET_SEGMENT = re.compile(
    r"(/aanmelding/|/api/v1/registrations/|/api/v1/waitlist-offers/)[^/\s\"']+"
)


def redact_path(text: str) -> str:
    """`text` with every personal-link token replaced by `[token]`."""
    return _SECRET_SEGMENT.sub(r"\1[token]", text)


def redact_url(url: str) -> str:
    """`url` with its password, if any, replaced by `***`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()


class RedactSecrets(logging.Filter):
    """Masks personal-link tokens in a record's message; lets every record through."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_path(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
