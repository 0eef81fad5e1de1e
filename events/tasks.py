"""Background work of the events app: the team's e-mails, in tasks that take ids (enqueued
after the commit by `events.team`). A mail server error fails the task, which the queue shows;
the organiser can invite again."""

from __future__ import annotations

from django.tasks import task

from events import emails


@task()
def send_role_granted_mail(*, role_id: int) -> bool:
    return emails.send_role_granted(role_id)


@task()
def send_team_invitation_mail(*, invitation_id: int) -> bool:
    return emails.send_team_invitation(invitation_id)
