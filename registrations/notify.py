"""Telling a person where they stand: which e-mail fits their registration now, sent by a
background task that takes ids and is enqueued only once the transaction commits (a sign-up
that rolls back mails nobody)."""

from __future__ import annotations

from django.db import transaction

from registrations.models import Registration
from registrations.tasks import send_registration_mail

Status = Registration.Status


def send_after_commit(registration: Registration, kind: str | None, *, force: bool = False) -> None:
    """Enqueue the e-mail once the transaction commits. `force` sends it again even if this
    news went out before (the mail log otherwise skips repeats)."""
    if kind is None:
        return
    registration_id = registration.pk
    transaction.on_commit(
        lambda: send_registration_mail.enqueue(
            registration_id=registration_id, kind=kind, force=force
        )
    )


def mail_kind(registration: Registration) -> str | None:
    """Which e-mail tells the person where they stand now (None: expired, nothing to tell)."""
    if registration.is_approval_offer and registration.holds_places():
        return "approved"
    return {
        Status.CONFIRMED: "confirmation",
        Status.WAITLISTED: "waitlisted",
        Status.PENDING_APPROVAL: "pending_approval",
        Status.PENDING_PAYMENT: "pending_payment",
        Status.OFFERED: "offer",
        Status.CANCELLED: "cancelled",
    }.get(registration.current_status())
