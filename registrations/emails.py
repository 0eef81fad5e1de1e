"""E-mails to the people who registered or were invited, one named function per e-mail.

Each function builds a message from `registrations/email/<name>_subject.txt`, `<name>.txt` and
`<name>.html`, in the person's language, with absolute links to the pages in that language.
`send()` and `send_invitation()` are what the background tasks call: they load the row again,
skip an e-mail whose news is stale (a confirmation for a party that has since cancelled), and
record every e-mail in the mail log (`SentMail`) before it goes out, so a task that runs twice
for the same state sends once. `force=True` is the explicit resend from the personal page: it
always sends.

The ticket's QR code travels as a PNG in a multipart/related part beside the HTML (referenced
as `cid:`), so mail clients show it in place without loading anything remote, and once more as
an ordinary attachment, `ticket.png`, to save or print.
"""

from __future__ import annotations

import email.message
import email.policy
import logging
import struct
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import format_html

from events.access import organiser_addresses
from events.calendar import calendar_attachment
from jubileum.lib.mail import organiser_mail
from registrations.answers import shown_answers
from registrations.calendar import has_calendar_file, registration_calendar
from registrations.models import Invitation, MailKind, Message, Refund, Registration, SentMail
from registrations.payments.receipts import receipt_line
from registrations.tickets import qr_png

logger = logging.getLogger(__name__)

Status = Registration.Status

TEMPLATE_DIR = "registrations/email"
MAILER = "default"


def site_url() -> str:
    """Scheme and host of the site, without a trailing slash: tasks have no request to ask."""
    return settings.SITE_URL.rstrip("/")


class TicketMessage(EmailMultiAlternatives):
    """An HTML e-mail whose inline images sit beside the HTML in a multipart/related part.

    Inline images stay in `attachments` (marked inline, with a Content-ID), which is where
    anymail's ESP backends look for them; only the MIME rendering, which the SMTP, console and
    file backends send, moves them next to the HTML that shows them, so clients display them in
    place instead of listing them as attachments.
    """

    def message(self, *, policy: email.policy.Policy = email.policy.default) -> Any:
        inline = [part for part in self.attachments if _is_inline(part)]
        if not inline:
            return super().message(policy=policy)
        attachments = self.attachments
        self.attachments = [part for part in attachments if not _is_inline(part)]
        try:
            msg = super().message(policy=policy)
        finally:
            self.attachments = attachments
        html = msg.get_body(preferencelist=("html",))
        for part in inline:
            html.add_related(
                part.get_content(),
                maintype=part.get_content_maintype(),
                subtype=part.get_content_subtype(),
                cid=part["Content-ID"],
                disposition="inline",
                filename=part.get_filename(),
            )
        return msg


def _is_inline(part: object) -> bool:
    return (
        isinstance(part, email.message.MIMEPart)
        and part.get_content_disposition() == "inline"
        and part["Content-ID"] is not None
    )


@dataclass(frozen=True)
class _Ticket:
    code: str
    png: bytes
    cid: str  # without the angle brackets, as `cid:` URLs want it

    @property
    def size(self) -> int:
        # PNG header: the IHDR chunk's width sits at bytes 16-19.
        return struct.unpack(">I", self.png[16:20])[0]

    def inline_part(self) -> email.message.MIMEPart:
        part = email.message.MIMEPart()
        part.set_content(
            self.png,
            maintype="image",
            subtype="png",
            disposition="inline",
            filename="ticket.png",
            cid=f"<{self.cid}>",
        )
        return part


def _ticket(registration: Registration) -> _Ticket:
    # The domain "inline" is no real TLD: some ESPs use the Content-ID as a file name, and
    # Gmail blocks names ending in ".com".
    cid = make_msgid("ticket", domain="inline")[1:-1]
    return _Ticket(code=registration.ticket_code, png=qr_png(registration.ticket_code), cid=cid)


def _language(code: str) -> str:
    codes = {language for language, _name in settings.LANGUAGES}
    return code if code in codes else settings.LANGUAGE_CODE


def _render(
    name: str,
    context: dict[str, Any],
    *,
    to: str,
    reply_to: str,
    language: str,
    ticket: _Ticket | None = None,
) -> TicketMessage:
    """Render one e-mail's three templates (in the active language) into a message."""
    organiser_email = context["programme"].organiser_email
    context = {
        **context,
        "language": language,
        "organiser_link": format_html(
            '<a href="mailto:{0}" style="color:#1a1a1a;">{0}</a>', organiser_email
        ),
    }
    if ticket is not None:
        context["ticket"] = ticket
    subject = " ".join(render_to_string(f"{TEMPLATE_DIR}/{name}_subject.txt", context).split())
    context["subject"] = subject
    text = render_to_string(f"{TEMPLATE_DIR}/{name}.txt", context)
    html = render_to_string(f"{TEMPLATE_DIR}/{name}.html", context)
    message = TicketMessage(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        reply_to=[reply_to],
    )
    message.attach_alternative(html, "text/html")
    if ticket is not None:
        message.attach(ticket.inline_part())
        message.attach("ticket.png", ticket.png, "image/png")
    return message


def _registration_context(registration: Registration) -> dict[str, Any]:
    """Links and facts every registration e-mail uses; call in the person's language."""
    activity = registration.activity
    programme = activity.programme
    base = site_url()
    token = registration.manage_token
    return {
        "registration": registration,
        "activity": activity,
        "programme": programme,
        "site_url": base,
        "activity_url": base + activity.get_absolute_url(),
        "manage_url": base + reverse("registrations:manage", kwargs={"token": token}),
        "privacy_url": base + reverse("events:privacy", kwargs={"slug": programme.slug}),
        "total_price": activity.price * registration.party_size,
    }


def _registration_mail(
    name: str,
    registration: Registration,
    *,
    ticket: bool = False,
    links: dict[str, str] | None = None,
    calendar: bool = False,
    answers: bool = False,
    receipt: bool = False,
    extra: dict[str, Any] | None = None,
) -> TicketMessage:
    """A registration e-mail in the person's language.

    `links` names more personal pages for the context (`{"claim_url": "registrations:claim"}`),
    each reversed with the manage token; `calendar` attaches the registration's event as an
    .ics file (its cancellation once the places are gone; nothing when it never held any);
    `answers` lists the answers to the activity's extra questions with the facts; `receipt`
    adds the receipt line of what was paid, if anything.
    """
    language = _language(registration.language)
    activity = registration.activity
    with translation.override(language):
        context = {**_registration_context(registration), **(extra or {})}
        if answers:
            context["answers"] = shown_answers(registration, language)
        attach_calendar = calendar and has_calendar_file(registration)
        context["calendar_attached"] = attach_calendar
        paid = registration.paid_payment() if receipt else None
        if paid is not None:
            context["receipt_line"] = receipt_line(paid, activity.programme)
        for variable, url_name in (links or {}).items():
            token = registration.manage_token
            context[variable] = site_url() + reverse(url_name, kwargs={"token": token})
        message = _render(
            name,
            context,
            to=registration.email,
            reply_to=activity.programme.organiser_email,
            language=language,
            ticket=_ticket(registration) if ticket else None,
        )
        if attach_calendar:
            calendar = registration_calendar(registration, site_url())
            message.attach(calendar_attachment(calendar, f"{activity.slug}.ics"))
    return message


# --- The e-mails -------------------------------------------------------------------------------


def confirmation(registration: Registration) -> TicketMessage:
    """You're in: when and where, the party, the QR ticket, a calendar file, the personal link;
    with a receipt line when the party paid."""
    return _registration_mail(
        "confirmation",
        registration,
        ticket=True,
        links={"ics_url": "registrations:ics"},
        calendar=True,
        answers=True,
        receipt=True,
    )


def waitlisted(registration: Registration) -> TicketMessage:
    return _registration_mail("waitlisted", registration, answers=True)


def offer(registration: Registration) -> TicketMessage:
    """A place is free: claim it before the offer lapses."""
    return _registration_mail("offer", registration, links={"claim_url": "registrations:claim"})


def approved(registration: Registration) -> TicketMessage:
    """An organiser let you in for a paid activity: pay before the deadline on your page (the
    button leads to the personal page's "Betalen", which asks before it does anything)."""
    return _registration_mail("approved", registration, answers=True)


def approval_expired(registration: Registration) -> TicketMessage:
    """You were let in but did not pay in time: the places went; sign up again if any are left."""
    return _registration_mail("approval_expired", registration)


def pending_approval(registration: Registration) -> TicketMessage:
    return _registration_mail("pending_approval", registration, answers=True)


def pending_payment(registration: Registration) -> TicketMessage:
    return _registration_mail("pending_payment", registration, answers=True)


def cancelled(registration: Registration) -> TicketMessage:
    """Cancelled; says what is refunded when the party had paid, and takes the event out of the
    calendar it was added to."""
    return _registration_mail(
        "cancelled", registration, calendar=True, extra=_refund_links(registration)
    )


# Stripe tells card holders a refund reaches them in 5 to 10 working days; we promise the upper
# end so nobody waits past what we said.
REFUND_WORKING_DAYS = 10


def activity_cancelled(registration: Registration) -> TicketMessage:
    """The organiser called the activity off: why, what people can do instead (if anything),
    and what happens to what they paid."""
    return _registration_mail(
        "activity_cancelled",
        registration,
        extra={**_refund_links(registration), "refund_days": REFUND_WORKING_DAYS},
    )


def _refund_links(registration: Registration) -> dict[str, Any]:
    """The payment being refunded (the latest asked for) and its amount, for the mail text."""
    payment = (
        registration.payments.filter(paid_at__isnull=False, refund_requested_at__isnull=False)
        .order_by("-refund_requested_at", "-pk")
        .first()
    )
    return {"refund": payment, "refund_amount": payment.amount if payment else None}


def refunded(registration: Registration) -> TicketMessage:
    """We are paying you back (an organiser's refund, or a payment we cannot use)."""
    return _registration_mail("refunded", registration, extra=_refund_links(registration))


def late_payment_refunded(registration: Registration) -> TicketMessage:
    """Your payment came after your places were released and the activity was full: refunded."""
    return _registration_mail(
        "late_payment_refunded", registration, extra=_refund_links(registration)
    )


def declined(registration: Registration) -> TicketMessage:
    return _registration_mail("declined", registration)


def organiser_message(message: Message, registration: Registration) -> TicketMessage:
    """An organiser's message to one recipient: their subject and text as they wrote it (plain
    text; escaped in the HTML part), then the activity and the personal link in the
    recipient's language. From the site's sender, Reply-To the programme's organiser."""
    return _registration_mail("message", registration, extra={"message": message})


def already_signed_up(registration: Registration) -> TicketMessage:
    """Someone signed up again with this address: nothing changed, here is the personal link.

    The sign-up's answer says no more than for a new one, so this e-mail is how the owner of the
    address (and only they) learns that the registration exists."""
    return _registration_mail("already_signed_up", registration)


def reminder(registration: Registration) -> TicketMessage:
    """Tomorrow: when and where, and the QR ticket again."""
    return _registration_mail("reminder", registration, ticket=True)


def invitation(invite: Invitation) -> TicketMessage:
    """A personal invitation: the code, and a link to the activity with the code filled in.

    An invitation has no language of its own (the roster has none); it goes out in Dutch.
    """
    language = settings.LANGUAGE_CODE
    activity = invite.activity
    programme = activity.programme
    with translation.override(language):
        base = site_url()
        context = {
            "invitation": invite,
            "activity": activity,
            "programme": programme,
            "site_url": base,
            "invitation_url": f"{base}{activity.get_absolute_url()}?code={invite.code}",
            "privacy_url": base + reverse("events:privacy", kwargs={"slug": programme.slug}),
        }
        return _render(
            "invitation",
            context,
            to=invite.email,
            reply_to=programme.organiser_email,
            language=language,
        )


REGISTRATION_MAILS: dict[MailKind, Callable[[Registration], TicketMessage]] = {
    MailKind.CONFIRMATION: confirmation,
    MailKind.WAITLISTED: waitlisted,
    MailKind.OFFER: offer,
    MailKind.PENDING_APPROVAL: pending_approval,
    MailKind.PENDING_PAYMENT: pending_payment,
    MailKind.CANCELLED: cancelled,
    MailKind.ACTIVITY_CANCELLED: activity_cancelled,
    MailKind.DECLINED: declined,
    MailKind.REMINDER: reminder,
    MailKind.ALREADY_SIGNED_UP: already_signed_up,
    MailKind.APPROVED: approved,
    MailKind.APPROVAL_EXPIRED: approval_expired,
}

# The e-mails about money going back (see `registrations.payments.services`).
PAYMENT_MAILS: dict[MailKind, Callable[[Registration], TicketMessage]] = {
    MailKind.REFUNDED: refunded,
    MailKind.LATE_PAYMENT_REFUNDED: late_payment_refunded,
}

# The state each e-mail reports. A task that runs after the registration moved on (confirmed,
# then cancelled before the worker got to it) sends nothing: the later e-mail tells the truth.
_REPORTS: dict[MailKind, tuple[str, ...]] = {
    MailKind.CONFIRMATION: (Status.CONFIRMED,),
    MailKind.WAITLISTED: (Status.WAITLISTED,),
    MailKind.OFFER: (Status.OFFERED,),
    MailKind.PENDING_APPROVAL: (Status.PENDING_APPROVAL,),
    MailKind.PENDING_PAYMENT: (Status.PENDING_PAYMENT,),
    MailKind.CANCELLED: (Status.CANCELLED,),
    MailKind.ACTIVITY_CANCELLED: (Status.CANCELLED,),
    MailKind.DECLINED: (Status.CANCELLED,),
    MailKind.REMINDER: (Status.CONFIRMED,),
    MailKind.ALREADY_SIGNED_UP: Registration.ACTIVE_STATUSES,
    MailKind.APPROVED: (Status.OFFERED,),
    MailKind.APPROVAL_EXPIRED: (Status.EXPIRED,),
    # Money going back is news whatever became of the registration.
    MailKind.REFUNDED: tuple(Status),
    MailKind.LATE_PAYMENT_REFUNDED: (Status.EXPIRED, Status.PENDING_PAYMENT, Status.CANCELLED),
}


# --- Sending, once per state -------------------------------------------------------------------


def _stale_reason(registration: Registration, kind: str) -> str | None:
    """Why this e-mail would no longer be true, or None when it should go out."""
    if registration.anonymised_at is not None or not registration.email:
        return "anonymised"
    if registration.status not in _REPORTS[kind]:
        return f"status is now {registration.status}"
    if kind == MailKind.APPROVED and not registration.is_approval_offer:
        return "not held since an approval"
    if (
        kind in (MailKind.OFFER, MailKind.PENDING_PAYMENT, MailKind.APPROVED)
        and not registration.holds_places()
    ):
        return "hold has expired"
    if kind == MailKind.REMINDER and registration.activity.is_past():
        return "activity is over"
    return None


def state_key(registration: Registration, kind: str) -> str:
    """Names the state an e-mail reports: the same state is mailed once.

    `updated_at` moves with every change that saves the registration, so a change of party
    size (and back again) is news; activity and party size make the key readable in the admin.
    A reminder is about the activity's date, whatever changed since; an "already signed up" is
    about the repeated sign-up that claimed it (`Registration.claim_repeat_mail`).
    """
    if kind == MailKind.REMINDER:
        return f"a{registration.activity_id}/{registration.activity.starts_at.isoformat()}"
    if kind == MailKind.ALREADY_SIGNED_UP and registration.repeat_mailed_at is not None:
        return f"a{registration.activity_id}/repeat/{registration.repeat_mailed_at.isoformat()}"
    return (
        f"a{registration.activity_id}/p{registration.party_size}/"
        f"{registration.updated_at.isoformat()}"
    )


def _claim(target: dict[str, Any], kind: str, key: str, *, force: bool) -> SentMail | None:
    """Write the mail-log row before sending; None when another run has written it already.

    Recording first means two workers running the same task cannot both send (the unique
    constraint lets one in). The price: a worker that dies between this row and the send leaves
    that one e-mail unsent rather than risking it twice.
    """
    try:
        with transaction.atomic():
            return SentMail.objects.create(kind=kind, key=key, forced=force, **target)
    except IntegrityError:
        return None


def _log_claimed_before(target: dict[str, Any], kind: str, key: str) -> None:
    """Say why an e-mail is not sent: it went out before, or an earlier run claimed it and never
    recorded it sent (it is sending right now, or its worker died mid-send: then the e-mail may
    be missing, and the person can ask for it again on their personal page)."""
    [(field, obj)] = target.items()
    claimed = SentMail.objects.filter(kind=kind, key=key, forced=False, **target).first()
    if claimed is not None and claimed.sent_at is None:
        logger.warning(
            "No %s mail for %s %s: claimed at %s by a run that never recorded it sent; "
            "not sent again, so it may be missing (%s)",
            kind,
            field,
            obj.pk,
            claimed.created_at.isoformat(),
            key,
        )
        return
    logger.info("No %s mail for %s %s: sent already (%s)", kind, field, obj.pk, key)


def _deliver(message: TicketMessage, entry: SentMail) -> None:
    try:
        message.send(using=MAILER)
    except BaseException:
        # Not sent: forget the log row so the retry may send it.
        entry.delete()
        raise
    entry.sent_at = timezone.now()
    entry.save(update_fields=["sent_at"])


def send(registration_id: int, kind: str, *, force: bool = False) -> bool:
    """Send the `kind` e-mail for a registration; True when it went out now.

    Nothing is sent when the registration is gone or anonymised, when its state no longer
    matches the e-mail, or — unless `force` — when this state was mailed already. Errors from
    the mail backend propagate, so the task can retry; the mail-log row is then removed.
    """
    build = REGISTRATION_MAILS.get(kind) or PAYMENT_MAILS[kind]
    registration = (
        Registration.objects.select_related("activity__programme")
        .filter(pk=registration_id)
        .first()
    )
    if registration is None:
        logger.info("No %s mail: registration %s no longer exists", kind, registration_id)
        return False
    reason = _stale_reason(registration, kind)
    if reason is not None:
        logger.info("No %s mail for registration %s: %s", kind, registration_id, reason)
        return False
    # Built before the log row is written: a broken template must not mark the mail as sent.
    message = build(registration)
    key = state_key(registration, kind)
    entry = _claim({"registration": registration}, kind, key, force=force)
    if entry is None:
        _log_claimed_before({"registration": registration}, kind, key)
        return False
    _deliver(message, entry)
    return True


def send_invitation(invitation_id: int, *, force: bool = False) -> bool:
    """Send a personal invitation; once, unless `force` (an organiser sends it again)."""
    invitations = Invitation.objects.select_related("activity__programme")
    invite = invitations.filter(pk=invitation_id).first()
    if invite is None or not invite.email:
        logger.info("No invitation mail: invitation %s is gone or anonymised", invitation_id)
        return False
    activity = invite.activity
    if activity.status == activity.Status.CANCELLED or activity.is_past():
        logger.info("No invitation mail for invitation %s: activity is over or off", invitation_id)
        return False
    message = invitation(invite)
    entry = _claim({"invitation": invite}, MailKind.INVITATION, "invitation", force=force)
    if entry is None:
        _log_claimed_before({"invitation": invite}, MailKind.INVITATION, "invitation")
        return False
    _deliver(message, entry)
    Invitation.objects.filter(pk=invite.pk).update(sent_at=entry.sent_at)
    return True


# --- To the organisers -------------------------------------------------------------------------


def refund_failed(refund: Refund, recipients: list[str]) -> EmailMultiAlternatives:
    """A refund failed or was canceled: whose, how much, why, and that reconciling asks again.
    In the site's language (organisers have none of their own), Reply-To the programme."""
    payment = refund.payment
    registration = payment.registration
    activity = registration.activity
    programme = activity.programme
    language = settings.LANGUAGE_CODE
    with translation.override(language):
        context = {
            "refund": refund,
            "payment": payment,
            "registration": registration,
            "activity": activity,
            "programme": programme,
            "language": language,
            "activity_url": site_url()
            + reverse(
                "organiser:activity",
                kwargs={"programme_slug": programme.slug, "activity_slug": activity.slug},
            ),
        }
        return organiser_mail(
            f"{TEMPLATE_DIR}/refund_failed",
            context,
            recipients=recipients,
            reply_to=programme.organiser_email,
        )


def send_refund_failed(refund_id: int) -> bool:
    """Mail the organisers that a refund failed; True when it went out now. Claimed on the
    refund before sending (a task that runs twice mails once) and given back when the mail
    server fails, so the retry may send."""
    refund = (
        Refund.objects.select_related("payment__registration__activity__programme")
        .filter(pk=refund_id, organisers_told_at__isnull=True)
        .first()
    )
    if refund is None:
        logger.info("No refund-failed mail: refund %s is gone or was mailed", refund_id)
        return False
    recipients = organiser_addresses(refund.payment.registration.activity.programme_id)
    if not recipients:
        logger.warning("No refund-failed mail for refund %s: no organiser address", refund_id)
        return False
    message = refund_failed(refund, recipients)
    claimed = Refund.objects.filter(pk=refund_id, organisers_told_at__isnull=True).update(
        organisers_told_at=timezone.now()
    )
    if not claimed:
        return False
    try:
        message.send(using=MAILER)
    except BaseException:
        Refund.objects.filter(pk=refund_id).update(organisers_told_at=None)
        raise
    return True
