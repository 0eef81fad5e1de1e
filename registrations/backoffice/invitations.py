"""Personal invitations for an activity, sent to the programme's member roster."""

from __future__ import annotations

from django.db import transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from events.models import Activity
from registrations.errors import InvalidState
from registrations.locking import lock_activity
from registrations.models import Invitation, RosterEntry
from registrations.tasks import send_invitation_mail


def invite_roster(activity_id: int) -> list[Invitation]:
    """Give everyone on the roster without an invitation for this activity one, and mail it.

    Returns the invitations made now. Safe to repeat: whoever already has an invitation (by
    e-mail address, case-insensitively) gets no second one and no second e-mail, so pressing
    the button again only reaches people added to the roster since.
    """
    with transaction.atomic():
        # The lock makes two presses at once queue up, so the second sees the first's rows.
        activity = lock_activity(activity_id)
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
        invited = set(
            Invitation.objects.filter(activity=activity)
            .annotate(address=Lower("email"))
            .values_list("address", flat=True)
        )
        invitations = [
            Invitation(activity=activity, name=entry.name, email=entry.email)
            for entry in RosterEntry.objects.filter(programme_id=activity.programme_id)
            if entry.email.lower() not in invited
        ]
        # Both supported databases return the new ids, which the mail tasks need.
        Invitation.objects.bulk_create(invitations)
        ids = [invitation.pk for invitation in invitations]

        def enqueue() -> None:
            for invitation_id in ids:
                send_invitation_mail.enqueue(invitation_id=invitation_id)

        transaction.on_commit(enqueue)
    return invitations
