"""E-mails of the budget app: the alert to the programme's organisers when the forecast reaches
the warning percentage or 100 % of the budget, and the e-mail to one organiser about what waits
for their approval (`budget.digest`).

Rendered from `budget/email/<name>_subject.txt`, `<name>.txt` and `<name>.html` in Dutch (users
have no language of their own; the organiser area is Dutch first). `send_alert` is what the task
calls: it claims the alert (`BudgetAlert.mailed_at`) before sending, so a task that runs twice
mails once, and gives the claim back when the mail server fails, so the retry may send.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMultiAlternatives
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.html import format_html

from budget.models import BudgetAlert
from budget.summary import totals
from events.access import organiser_addresses
from jubileum.lib.mail import organiser_mail

if TYPE_CHECKING:
    from budget.digest import ProgrammeWaiting

logger = logging.getLogger(__name__)

TEMPLATE_DIR = "budget/email"
MAILER = "default"


def site_url() -> str:
    return settings.SITE_URL.rstrip("/")


def _budget_path(slug: str) -> str:
    # The budget dashboard; the programme's organiser page while the budget pages are absent.
    try:
        return reverse("budget:dashboard", kwargs={"programme_slug": slug})
    except NoReverseMatch:
        return reverse("organiser:programme", kwargs={"programme_slug": slug})


def threshold_alert(alert: BudgetAlert, recipients: list[str]) -> EmailMultiAlternatives:
    """The forecast has reached `alert.percentage` % of the budget: the figures, and a link."""
    budget = alert.budget
    programme = budget.programme
    language = settings.LANGUAGE_CODE
    with translation.override(language):
        figures = totals(budget)
        context = {
            "alert": alert,
            "budget": budget,
            "programme": programme,
            "totals": figures,
            "over_budget": alert.percentage >= 100,
            "language": language,
            "budget_url": site_url() + _budget_path(programme.slug),
            "organiser_link": format_html(
                '<a href="mailto:{0}" style="color:#1a1a1a;">{0}</a>', programme.organiser_email
            ),
        }
        return organiser_mail(
            f"{TEMPLATE_DIR}/threshold_alert",
            context,
            recipients=recipients,
            reply_to=programme.organiser_email,
        )


def send_alert(alert_id: int) -> bool:
    """Mail the organisers about one alert; True when it went out now.

    Nothing is sent when the alert is gone (the forecast fell back below its level before the
    worker got to it), was mailed already, or the programme has no organiser with an address.
    Errors from the mail backend propagate so the task can retry; the claim is then released.
    """
    alert = (
        BudgetAlert.objects.select_related("budget__programme")
        .filter(pk=alert_id, mailed_at__isnull=True)
        .first()
    )
    if alert is None:
        logger.info("No budget alert mail: alert %s is gone or mailed already", alert_id)
        return False
    recipients = organiser_addresses(alert.budget.programme_id)
    if not recipients:
        logger.warning("No budget alert mail for alert %s: no organiser address", alert_id)
        return False
    # Built before the claim: a broken template must not mark the alert as mailed.
    message = threshold_alert(alert, recipients)
    claimed = BudgetAlert.objects.filter(pk=alert_id, mailed_at__isnull=True).update(
        mailed_at=timezone.now()
    )
    if not claimed:
        return False
    try:
        message.send(using=MAILER)
    except BaseException:
        BudgetAlert.objects.filter(pk=alert_id).update(mailed_at=None)
        raise
    return True


def organiser_digest(user: User, programmes: list[ProgrammeWaiting]) -> EmailMultiAlternatives:
    """To one organiser: per programme, the registrations and expenses waiting for their
    approval, each with a link to its queue."""
    language = settings.LANGUAGE_CODE
    base = site_url()
    with translation.override(language):
        sections = []
        for item in programmes:
            slug = item.programme.slug
            sections.append(
                {
                    "programme": item.programme,
                    "registrations": item.registrations,
                    "expenses": item.expenses,
                    "activities": [
                        {
                            "activity": activity,
                            "parties": parties,
                            "url": base
                            + reverse(
                                "organiser:activity",
                                kwargs={"programme_slug": slug, "activity_slug": activity.slug},
                            )
                            + "#pending-heading",
                        }
                        for activity, parties in item.activities
                    ],
                    "approvals_url": base
                    + reverse("budget:approvals", kwargs={"programme_slug": slug}),
                }
            )
        context = {
            "sections": sections,
            "registrations": sum(item.registrations for item in programmes),
            "expenses": sum(item.expenses for item in programmes),
            "language": language,
            "settings_url": base + reverse("organiser:notifications"),
        }
        return organiser_mail(
            f"{TEMPLATE_DIR}/organiser_digest",
            context,
            recipients=[user.email],
            reply_to="",
        )
