"""Personal invitations for an activity, sent to the programme's member roster.

The organiser first sees what would go out (`uninvited`, `preview`): the e-mail as the first
member would get it and everyone on the roster who has no invitation yet. Confirming sends to
exactly those entries (`invite_roster` with their ids), not to whoever joined the roster since.
"""

from __future__ import annotations

from collections.abc import Collection

from django.db import transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from events.models import Activity
from registrations import emails
from registrations.errors import InvalidState
from registrations.locking import lock_activity
from registrations.models import Invitation, RosterEntry
from registrations.tasks import send_invitation_mail

# Stands in for the personal code in the preview; every real invitation gets its own.
PREVIEW_CODE = "VOORBEELD"


def check_invitable(activity: Activity) -> None:
    """InvalidState, with the reason, when this activity takes no invitations now."""
    if activity.audience == Activity.Audience.PUBLIC:
        raise InvalidState(
            message=_(
                "Uitnodigingen zijn er alleen voor activiteiten voor leden of op uitnodiging."
            )
        )
    if activity.status == Activity.Status.CANCELLED:
        raise InvalidState(message=_("Deze activiteit is geannuleerd."))
    if activity.status == Activity.Status.DRAFT:
        raise InvalidState(
            message=_("Publiceer de activiteit eerst: de uitnodiging verwijst ernaar.")
        )
    if activity.is_past():
        raise InvalidState(message=_("Deze activiteit is afgelopen."))


def uninvited(activity: Activity) -> list[RosterEntry]:
    """The roster entries with no invitation for this activity yet (by e-mail address,
    case-insensitively), by name."""
    invited = set(
        Invitation.objects.filter(activity=activity)
        .annotate(address=Lower("email"))
        .values_list("address", flat=True)
    )
    return [
        entry
        for entry in RosterEntry.objects.filter(programme_id=activity.programme_id).order_by(
            "name", "pk"
        )
        if entry.email.lower() not in invited
    ]


def preview(activity: Activity, entry: RosterEntry | None) -> emails.TicketMessage:
    """The invitation e-mail as `entry` would get it (in Dutch, as every invitation goes out),
    with a stand-in for the code; nothing is saved."""
    sample = Invitation(
        activity=activity,
        name=entry.name if entry is not None else "",
        email=entry.email if entry is not None else "",
        code=PREVIEW_CODE,
    )
    return emails.invitation(sample)


def invite_roster(activity_id: int, entry_ids: Collection[int] | None = None) -> list[Invitation]:
    """Give these roster entries (everyone on the roster when None) an invitation for this
    activity unless they have one, and mail it.

    Returns the invitations made now. Safe to repeat: whoever already has an invitation (by
    e-mail address, case-insensitively) gets no second one and no second e-mail, so a second
    press of the same confirmation sends nothing.
    """
    with transaction.atomic():
        # The lock makes two presses at once queue up, so the second sees the first's rows.
        activity = lock_activity(activity_id)
        check_invitable(activity)
        invitations = [
            Invitation(activity=activity, name=entry.name, email=entry.email)
            for entry in uninvited(activity)
            if entry_ids is None or entry.pk in entry_ids
        ]
        # Both supported databases return the new ids, which the mail tasks need.
        Invitation.objects.bulk_create(invitations)
        ids = [invitation.pk for invitation in invitations]

        def enqueue() -> None:
            for invitation_id in ids:
                send_invitation_mail.enqueue(invitation_id=invitation_id)

        transaction.on_commit(enqueue)
    return invitations
