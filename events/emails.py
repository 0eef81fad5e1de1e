"""E-mails of the events app: to someone who joined a programme's team, and the invitation to
someone without an account. Rendered with `jubileum.lib.mail.organiser_mail` from
`events/email/<name>_subject.txt`, `<name>.txt` and `<name>.html` in the site's language
(organisers have none of their own); replies go to the programme's organiser address.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import translation

from events.models import ProgrammeRole, TeamInvitation
from jubileum.lib.mail import organiser_mail

logger = logging.getLogger(__name__)

TEMPLATE_DIR = "events/email"
MAILER = "default"


def site_url() -> str:
    return settings.SITE_URL.rstrip("/")


def role_granted(role: ProgrammeRole) -> EmailMultiAlternatives:
    """You now have this role in the programme: where to find it."""
    programme = role.programme
    language = settings.LANGUAGE_CODE
    with translation.override(language):
        context = {
            "programme": programme,
            "role": role.get_role_display(),
            "language": language,
            "programme_url": site_url()
            + reverse("organiser:programme", kwargs={"programme_slug": programme.slug}),
        }
        return organiser_mail(
            f"{TEMPLATE_DIR}/role_granted",
            context,
            recipients=[role.user.email],
            reply_to=programme.organiser_email,
        )


def team_invitation(invitation: TeamInvitation) -> EmailMultiAlternatives:
    """An invitation with the link to choose a password; valid for seven days, once."""
    programme = invitation.programme
    language = settings.LANGUAGE_CODE
    with translation.override(language):
        context = {
            "programme": programme,
            "role": invitation.get_role_display(),
            "inviter": (invitation.invited_by.get_full_name() if invitation.invited_by else "")
            or programme.organiser_name,
            "expires_at": invitation.expires_at(),
            "language": language,
            "accept_url": site_url()
            + reverse("events:accept_team_invitation", kwargs={"token": invitation.token()}),
        }
        return organiser_mail(
            f"{TEMPLATE_DIR}/team_invitation",
            context,
            recipients=[invitation.email],
            reply_to=programme.organiser_email,
        )


def send_role_granted(role_id: int) -> bool:
    """Nothing is sent when the role was taken away again before the worker got to it."""
    role = ProgrammeRole.objects.select_related("programme", "user").filter(pk=role_id).first()
    if role is None or not role.user.email:
        logger.info("No role mail: role %s is gone or its user has no address", role_id)
        return False
    role_granted(role).send()
    return True


def send_team_invitation(invitation_id: int) -> bool:
    """Nothing is sent for an invitation used or expired meanwhile."""
    invitation = (
        TeamInvitation.objects.select_related("programme", "invited_by")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or not invitation.is_usable():
        logger.info("No invitation mail: invitation %s is gone, used or expired", invitation_id)
        return False
    team_invitation(invitation).send()
    return True
