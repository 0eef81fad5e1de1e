"""A registration's own calendar file: the activity while the party holds its places, and the
cancellation of that event once they no longer do.

The event is the registration's, not the activity's (its own UID), so taking it out of someone's
calendar never touches the programme's feed they may subscribe to, and a party moved to another
activity sees its one event move. Only a confirmed party is offered the file: a place held for
payment is not theirs until the money is in, and a hold that lapses would leave an event in the
calendar that nothing ever takes out again.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import icalendar

from events.calendar import build_event, calendar_stamp, wrap_events
from events.models import Activity
from registrations.models import Registration

# SEQUENCE counts from here in seconds (RFC 5545 3.8.7.4: a later version has a higher one); from
# a recent date, so the number stays far inside the 32-bit integer calendar clients keep.
_SEQUENCE_EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def holds_calendar_event(registration: Registration) -> bool:
    """Whether the party has a place to put in their calendar."""
    return (
        registration.status == Registration.Status.CONFIRMED
        and registration.activity.status != Activity.Status.CANCELLED
    )


def has_calendar_file(registration: Registration) -> bool:
    """Whether there is a file at all: the event while it holds, its cancellation after a
    confirmed party lost or gave up its places. Nobody else ever had an event to change."""
    return holds_calendar_event(registration) or registration.confirmed_at is not None


def registration_uid(registration: Registration, host: str) -> str:
    return f"registration-{registration.pk}@{host}"


def _sequence(registration: Registration, *, holds: bool) -> int:
    """Rises with every change to the registration or its activity, so a client given two
    versions of the event keeps the later one; odd for a cancellation, so it is higher than the
    confirmation even when both fall in the same second."""
    changed = max(registration.updated_at, registration.activity.updated_at)
    return 2 * int((changed - _SEQUENCE_EPOCH).total_seconds()) + (0 if holds else 1)


def registration_calendar(registration: Registration, base_url: str) -> icalendar.Calendar:
    """The registration's event: METHOD:PUBLISH with STATUS:CONFIRMED while it holds, else
    METHOD:CANCEL with STATUS:CANCELLED, the same UID and a higher SEQUENCE (RFC 5546 3.2.5:
    a cancel names the organiser and the attendee taken out)."""
    activity = registration.activity
    host = urlsplit(base_url).hostname or "localhost"
    event = build_event(activity, base_url, calendar_stamp())
    event.pop("uid")
    event.pop("status")
    event.add("uid", registration_uid(registration, host))
    holds = holds_calendar_event(registration)
    event.add("sequence", _sequence(registration, holds=holds))
    programme = activity.programme
    organiser = icalendar.vCalAddress(f"mailto:{programme.organiser_email}")
    organiser.params["cn"] = icalendar.vText(programme.organiser_name)
    event.add("organizer", organiser)
    if holds:
        event.add("status", "CONFIRMED")
        return wrap_events([event])
    event.add("status", "CANCELLED")
    if registration.email:
        attendee = icalendar.vCalAddress(f"mailto:{registration.email}")
        attendee.params["cn"] = icalendar.vText(registration.contact_name)
        event.add("attendee", attendee)
    return wrap_events([event], method="CANCEL")
