"""Removing personal data once a programme's retention period has passed.

A programme keeps the personal data of its registrations, roster and invitations until
`retention_days` after its end date; the day after that, the purge anonymises every
registration (name, e-mail, phone, years of service, and their copies in the history) and
deletes the roster and the invitations' names and addresses. What the reports count stays:
the activity, status, party size, kind of attendee and brigade of each registration, and how
many invitations went out. Running it again finds nothing left to do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from events.models import Programme
from registrations.models import Invitation, Registration, RosterEntry
from registrations.services import anonymise


@dataclass(frozen=True)
class ProgrammePurge:
    """What the purge did (or, in a dry run, would do) for one programme."""

    programme: Programme
    registrations: int
    roster_entries: int
    invitations: int


def retention_ends_on(programme: Programme) -> dt.date:
    """The last day the programme's personal data is kept."""
    return programme.ends_on + dt.timedelta(days=programme.retention_days)


def expired_programmes(today: dt.date) -> list[Programme]:
    # Few programmes ever exist, and date-plus-column-days arithmetic differs per database:
    # comparing in Python keeps one rule for SQLite and PostgreSQL.
    return [p for p in Programme.objects.order_by("ends_on", "pk") if retention_ends_on(p) < today]


def purge_personal_data(
    *, today: dt.date | None = None, dry_run: bool = False
) -> list[ProgrammePurge]:
    """Anonymise what each programme past its retention period still holds.

    `dry_run` counts the same rows and changes nothing.
    """
    today = today or timezone.localdate()
    now = timezone.now()
    report = []
    for programme in expired_programmes(today):
        registrations = Registration.objects.filter(
            activity__programme=programme, anonymised_at__isnull=True
        )
        roster = RosterEntry.objects.filter(programme=programme)
        invitations = Invitation.objects.filter(activity__programme=programme).exclude(
            name="", email=""
        )
        counts = ProgrammePurge(
            programme=programme,
            registrations=registrations.count(),
            roster_entries=roster.count(),
            invitations=invitations.count(),
        )
        report.append(counts)
        if dry_run:
            continue
        with transaction.atomic():
            for registration in registrations.only("pk"):
                anonymise(registration, now=now)
            roster.delete()
            invitations.update(name="", email="")
    return report
