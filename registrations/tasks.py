"""Background tasks of the registrations app. They take ids, never model instances."""

from __future__ import annotations

from django.tasks import task


@task()
def send_registration_mail(*, registration_id: int, kind: str) -> None:
    from registrations import emails

    emails.send(registration_id, kind)


@task()
def send_invitation_mail(*, invitation_id: int) -> None:
    from registrations import emails

    emails.send_invitation(invitation_id)
