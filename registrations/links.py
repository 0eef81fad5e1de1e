"""The personal link: the registration behind a manage token, for the pages and the API alike.

A token that matches nothing is a 404, and counts against the client's `lookup_miss` limit: 120
random bits cannot be guessed, but whoever tries should not get to try forever. Past the limit
every lookup from that address is refused (429) until the window ends; people using their own
links never come near it.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest

from jubileum.lib import ratelimit
from registrations.models import Registration
from registrations.tokens import looks_like_manage_token


def registration_for_token(request: HttpRequest, token: str) -> Registration:
    ratelimit.limit(request, "lookup_miss", count=False)
    registration = None
    # The shape check turns a tampered or truncated token into 404 without touching the database.
    if looks_like_manage_token(token):
        registration = (
            Registration.objects.select_related("activity__programme")
            .filter(manage_token=token)
            .first()
        )
    if registration is None:
        ratelimit.limit(request, "lookup_miss")
        raise Http404
    return registration
