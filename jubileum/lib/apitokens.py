"""Personal API tokens, and the ninja auth class of the organiser API.

A token is `jub_` followed by 43 URL-safe characters (256 random bits). Only its SHA-256 hash is
stored (`ApiToken.key_hash`, unique, so a lookup is one indexed query): whoever reads the database
cannot use the tokens in it. A plain hash without salt is enough because the token is random and
long, not a password a person chose. The token is shown once, when it is made, and can be revoked.

`OrganiserAuth` accepts either the Django session (the organiser area's login, with the CSRF
check for changes) or `Authorization: Bearer <token>`; which programmes the user may then read
or change is decided by `events.access`, as for the organiser pages.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.utils import check_csrf

from jubileum.models import ApiToken

TOKEN_PREFIX = "jub_"
TOKEN_LENGTH = len(TOKEN_PREFIX) + 43  # token_urlsafe(32) gives 43 characters
SHOWN_PREFIX_LENGTH = 8
# Recording every use would write on every read; once a minute is precise enough to see which
# tokens are still in use.
LAST_USED_PRECISION = dt.timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, name: str = "") -> tuple[ApiToken, str]:
    """Make a token for this user; returns the row and the token itself (show it once)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(
        user=user,
        name=name[:100],
        key_hash=hash_token(token),
        prefix=token[:SHOWN_PREFIX_LENGTH],
    )
    return row, token


def revoke_token(token_id: int, *, user: User) -> bool:
    """Revoke one of this user's tokens; False when there is no such active token."""
    updated = ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    return bool(updated)


def user_for_token(token: str) -> User | None:
    """The active user a valid, unrevoked token belongs to; None otherwise."""
    # The shape check turns garbage into "no" without a query.
    if len(token) != TOKEN_LENGTH or not token.startswith(TOKEN_PREFIX):
        return None
    row = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(token), revoked_at__isnull=True)
        .first()
    )
    if row is None or not row.user.is_active:
        return None
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user


class OrganiserAuth(HttpBearer):
    """The session of a logged-in user, or `Authorization: Bearer <personal API token>`.

    A request that sends an Authorization header is judged by that header alone: a wrong token
    is refused (401) even if a session cookie came along. Without the header, the session counts,
    and a change (POST, PATCH, ...) must pass Django's CSRF check, as a form would. The user is
    `request.auth`; for the session it is also `request.user`, for a token it is set there too,
    so code that asks `request.user` (history, the access helper) sees who acts.

    A database error while looking up the token or the session is raised, never taken for
    "unknown": `jubileum.api` answers it 503, so a 401 always means the credentials are wrong.
    """

    def __call__(self, request: HttpRequest) -> Any | None:
        header = request.headers.get(self.header)
        if header:
            scheme, _space, token = header.partition(" ")
            if scheme.lower() != self.openapi_scheme:
                return None
            return self.authenticate(request, token.strip())
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise HttpError(403, "CSRF check failed")
        return user

    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user
