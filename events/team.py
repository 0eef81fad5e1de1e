"""Who runs a programme (issue 18): organisers invite organisers and viewers by e-mail, change a
role, remove someone. One rule holds throughout: a programme always keeps at least one
organiser, so nobody (an organiser removing themselves included) can leave it without one.

An address with an active account gets the role at once and an e-mail saying so; any other
address gets a `TeamInvitation` and an e-mail with a signed link (`TeamInvitation.token`) to a
page where they choose a password: then they get an account (not staff: the organiser area is
theirs, the Django admin is not) and the role. The link works once and for seven days.

Every change runs in a transaction that locks the programme's row, so two organisers removing
each other at the same moment cannot both succeed. Mails go out after the commit, from a task
that takes ids (`events.tasks`).
"""

from __future__ import annotations

from functools import partial

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from events import tasks
from events.models import InvitationUnusable, Programme, ProgrammeRole, TeamInvitation
from jubileum.lib.errors import DomainError

Role = ProgrammeRole.Role


class TeamError(DomainError):
    code = "team_error"
    status = 409
    message = _("Dit kan niet in het team van dit programma.")


class LastOrganiser(TeamError):
    code = "last_organiser"
    message = _(
        "Een programma heeft altijd minstens één organisator. Maak eerst iemand anders organisator."
    )


class AlreadyInTeam(TeamError):
    code = "already_in_team"
    message = _("Deze persoon heeft al een rol in dit programma; pas die rol aan in de lijst.")


class NotInTeam(TeamError):
    code = "not_in_team"
    status = 404
    message = _("Deze persoon heeft geen rol (meer) in dit programma.")


class AccountExists(TeamError):
    code = "account_exists"
    message = _(
        "Er bestaat al een account met dit e-mailadres. Log in, of vraag een organisator je "
        "opnieuw uit te nodigen."
    )


def _lock(programme: Programme) -> None:
    Programme.objects.select_for_update().filter(pk=programme.pk).first()


def _organisers(programme: Programme) -> int:
    return ProgrammeRole.objects.filter(programme=programme, role=Role.ORGANISER).count()


def invite(
    programme: Programme, email: str, role: str, *, by: User
) -> ProgrammeRole | TeamInvitation:
    """Give `email` the role: at once if an active account has that address (and mail them),
    else by an invitation mailed with its link."""
    email = email.strip()
    user = (
        get_user_model().objects.filter(email__iexact=email, is_active=True).order_by("pk").first()
    )
    with transaction.atomic():
        _lock(programme)
        if user is not None:
            if ProgrammeRole.objects.filter(programme=programme, user=user).exists():
                raise AlreadyInTeam(details={"field": "email"})
            granted = ProgrammeRole.objects.create(programme=programme, user=user, role=role)
            transaction.on_commit(partial(tasks.send_role_granted_mail.enqueue, role_id=granted.pk))
            return granted
        invitation = TeamInvitation.objects.create(
            programme=programme, email=email, role=role, invited_by=by
        )
        transaction.on_commit(
            partial(tasks.send_team_invitation_mail.enqueue, invitation_id=invitation.pk)
        )
        return invitation


def _role_of(programme: Programme, user_id: int) -> ProgrammeRole:
    role = (
        ProgrammeRole.objects.select_for_update()
        .filter(programme=programme, user_id=user_id)
        .first()
    )
    if role is None:
        raise NotInTeam(details={"user": user_id})
    return role


def change_role(programme: Programme, user_id: int, role: str) -> ProgrammeRole:
    """Make the team member an organiser or a viewer; the last organiser stays one."""
    with transaction.atomic():
        _lock(programme)
        current = _role_of(programme, user_id)
        demoted = current.role == Role.ORGANISER and role != Role.ORGANISER
        if demoted and _organisers(programme) <= 1:
            raise LastOrganiser(details={"user": user_id})
        if current.role != role:
            current.role = role
            current.save(update_fields=["role"])
        return current


def remove_member(programme: Programme, user_id: int) -> None:
    """Take the member's role away (their account stays); never the last organiser."""
    with transaction.atomic():
        _lock(programme)
        current = _role_of(programme, user_id)
        if current.role == Role.ORGANISER and _organisers(programme) <= 1:
            raise LastOrganiser(details={"user": user_id})
        current.delete()


def accept_invitation(token: str, password: str) -> User:
    """Make the invited person's account (not staff) with `password` (validated already) and
    give them the invitation's role. Raises `InvitationUnusable` for a bad, expired or used link
    and `AccountExists` when the address took an account meanwhile; nothing changes then."""
    users = get_user_model()
    with transaction.atomic():
        found = TeamInvitation.for_token(token)
        # Locked, and checked again: the same link sent twice at once makes one account.
        invitation = TeamInvitation.objects.select_for_update().get(pk=found.pk)
        invitation.programme = found.programme
        if not invitation.is_usable():
            raise InvitationUnusable()
        email = invitation.email
        if (
            users.objects.filter(email__iexact=email).exists()
            or users.objects.filter(username__iexact=email).exists()
        ):
            raise AccountExists()
        user = users.objects.create_user(username=email, email=email, password=password)
        ProgrammeRole.objects.create(
            programme=invitation.programme, user=user, role=invitation.role
        )
        invitation.save(update_fields=invitation.accept(user))
    return user
