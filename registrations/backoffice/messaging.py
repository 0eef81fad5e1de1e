"""Messages from organisers to everyone confirmed, waitlisted or otherwise still registered for
an activity.

`send_message` records the message and one `MessageRecipient` row per person in a single
transaction, then (after the commit) enqueues background tasks that each send a batch. A task
claims every row before sending it (an UPDATE from `queued` to `sending` that only one worker
can win), so a task that runs twice, or a retry that meets a row another task has sent, never
mails anyone twice. The price, as with the registration e-mails: a worker that dies between
the claim and the outcome leaves that row `sending` rather than risking a second e-mail. Once the
claim is older than any task runs (`taskqueue.STALE_AFTER`), `give_up_stale_claims` calls it
what it is, `possibly_sent`, and tells the organiser; it is never sent again by itself. That
runs with the scheduled `requeue_stale_tasks` and whenever a message's page is shown.

A provider error puts the row back in the queue for a later retry (see `tasks.RETRY_DELAYS`);
after the last attempt it is `failed`, with the error in `detail`. The provider's tracking
webhook (anymail's `tracking` signal, connected in `apps.py`) then moves sent rows on to
delivered, bounced or complained by the message id the provider gave.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field
from functools import partial
from itertools import batched
from typing import Any

from anymail.exceptions import AnymailRecipientsRefused
from anymail.signals import AnymailTrackingEvent, EventType
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from events.models import Activity
from jubileum.lib import taskqueue
from jubileum.lib.errors import DomainError
from jubileum.templatetags.jubileum_format import format_timespan
from registrations import emails
from registrations.models import Message, MessageRecipient, Registration
from registrations.tasks import SENDING_ERRORS, send_message_batch

logger = logging.getLogger(__name__)

Audience = Message.Audience
Delivery = MessageRecipient.Status

# Recipients per background task: small enough that a task finishes in well under a minute
# against a slow ESP, large enough that 2,000 people make only 40 tasks.
BATCH_SIZE = 50

# The registration statuses each audience means.
AUDIENCE_STATUSES: dict[str, tuple[str, ...]] = {
    Audience.CONFIRMED: (Registration.Status.CONFIRMED,),
    Audience.WAITLISTED: (Registration.Status.WAITLISTED,),
    Audience.REGISTERED: Registration.ACTIVE_STATUSES,
}

# Why a queued row was not sent after all; the key is stored in `detail`, the text is shown.
SKIP_REASONS = {
    "anonymised": _("De gegevens van deze aanmelding zijn verwijderd."),
    "inactive": _("De aanmelding is inmiddels geannuleerd of verlopen."),
    "moved": _("De aanmelding is inmiddels naar een andere activiteit verplaatst."),
}

# What "possibly sent" means, shown with each such recipient (the page explains it above too).
POSSIBLY_SENT_EXPLANATION = _(
    "Het versturen werd onderbroken; we weten niet of deze e-mail is aangekomen. "
    "Niet opnieuw verstuurd."
)

DETAIL_LENGTH = MessageRecipient._meta.get_field("detail").max_length


class MessagingError(DomainError):
    code = "messaging_error"
    status = 409
    message = _("Dit bericht kan niet worden verstuurd.")


class NoRecipients(MessagingError):
    code = "no_recipients"
    status = 422
    message = _("Er is niemand met een e-mailadres in deze groep; het bericht is niet verstuurd.")


class KeyInUse(MessagingError):
    code = "idempotency_key_in_use"
    message = _("Dit formulier is al gebruikt voor een andere activiteit. Begin opnieuw.")


# --- Who gets it ---------------------------------------------------------------------------


def audience_of(activity_id: int, audience: str) -> QuerySet[Registration]:
    """The registrations a message to `audience` goes to: in that status, with an e-mail."""
    return Registration.objects.filter(
        activity_id=activity_id,
        status__in=AUDIENCE_STATUSES[Audience(audience)],
        anonymised_at__isnull=True,
    ).exclude(email="")


def audience_counts(activity: Activity) -> dict[str, int]:
    """How many recipients each audience has now, in one query."""
    reachable = Q(anonymised_at__isnull=True) & ~Q(email="")
    counts = Registration.objects.filter(activity=activity).aggregate(
        **{
            str(audience): Count("pk", filter=reachable & Q(status__in=statuses))
            for audience, statuses in AUDIENCE_STATUSES.items()
        }
    )
    return {audience: counts[audience] or 0 for audience in counts}


# --- The notice of a changed time or place --------------------------------------------------


def _place(record: Any) -> str:
    return ", ".join(part for part in (record.location_name, record.location_address) if part)


def change_notice(before: Any, after: Any, changed: list[str]) -> tuple[str, str]:
    """Subject and body of the message that tells registrants the activity moved: `before`
    and `after` are two versions of the activity (history records or instances), `changed`
    the fields of REGISTRANT_NOTICE_FIELDS that differ. Times in Dutch time, as on every page."""
    subject_field = Message._meta.get_field("subject")
    title = after.title
    subject = _("Gewijzigd: %(title)s") % {"title": title}
    if subject_field.max_length and len(subject) > subject_field.max_length:
        subject = subject[: subject_field.max_length - 1].rstrip() + "…"
    lines = [
        _("Er is iets veranderd aan “%(title)s”, waarvoor je je hebt aangemeld.")
        % {"title": title},
        "",
    ]
    if "starts_at" in changed or "ends_at" in changed:
        lines.append(
            _("Wanneer: %(old)s → %(new)s")
            % {
                "old": format_timespan(before.starts_at, before.ends_at),
                "new": format_timespan(after.starts_at, after.ends_at),
            }
        )
    if "location_name" in changed or "location_address" in changed:
        lines.append(_("Waar: %(old)s → %(new)s") % {"old": _place(before), "new": _place(after)})
    lines += [
        "",
        str(
            _(
                "Je aanmelding blijft staan. Kun je nu niet meer? Annuleer dan via je "
                "persoonlijke link hieronder, dan kan iemand anders je plaats krijgen."
            )
        ),
    ]
    return str(subject), "\n".join(str(line) for line in lines)


# --- Sending -------------------------------------------------------------------------------


def send_message(
    activity: Activity,
    audience: str,
    subject: str,
    body: str,
    sent_by: AbstractBaseUser | None,
    *,
    idempotency_key: uuid.UUID | None = None,
) -> Message:
    """Record a message and its recipients; the batches go out after the commit.

    With an `idempotency_key` (the organiser's form carries one), a second call with the same
    key returns the message the first one made and sends nothing. Raises NoRecipients when the
    audience has nobody to mail.
    """
    with transaction.atomic():
        # The activity's row lock makes the audience a snapshot no sign-up changes half-way,
        # and queues a double submit behind the first, which it then finds by its key.
        Activity.objects.select_for_update(no_key=True).filter(pk=activity.pk).first()
        if idempotency_key is not None:
            existing = Message.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                if existing.activity_id != activity.pk:
                    raise KeyInUse()
                return existing
        registration_ids = list(
            audience_of(activity.pk, audience).order_by("pk").values_list("pk", flat=True)
        )
        if not registration_ids:
            raise NoRecipients()
        message = Message.objects.create(
            activity=activity,
            audience=audience,
            subject=subject,
            body=body,
            sent_by=sent_by,
            idempotency_key=idempotency_key,
        )
        MessageRecipient.objects.bulk_create(
            [
                MessageRecipient(message=message, registration_id=registration_id)
                for registration_id in registration_ids
            ],
            batch_size=500,
        )
        recipient_ids = list(message.recipients.order_by("pk").values_list("pk", flat=True))
        transaction.on_commit(partial(_enqueue_batches, message.pk, recipient_ids))
    logger.info(
        "Message %s for activity %s queued for %s recipients",
        message.pk,
        activity.pk,
        len(recipient_ids),
    )
    return message


def _enqueue_batches(message_id: int, recipient_ids: list[int]) -> None:
    for chunk in batched(recipient_ids, BATCH_SIZE):
        send_message_batch.enqueue(message_id=message_id, recipient_ids=list(chunk))


@dataclass
class BatchResult:
    sent: int = 0
    retry: list[int] = field(default_factory=list)


def send_batch(message_id: int, recipient_ids: list[int], *, final: bool) -> BatchResult:
    """Send the message to each of these recipients still queued.

    A provider error puts the row back in the queue and its id in `retry`, unless this is the
    `final` attempt: then it is marked failed. Nothing here raises for one recipient's trouble.
    """
    result = BatchResult()
    recipients = (
        MessageRecipient.objects.filter(
            pk__in=recipient_ids, message_id=message_id, status=Delivery.QUEUED
        )
        .select_related("message", "registration__activity__programme")
        .order_by("pk")
    )
    for recipient in recipients:
        outcome = _send_one(recipient, final=final)
        if outcome == Delivery.SENT:
            result.sent += 1
        elif outcome == Delivery.QUEUED:
            result.retry.append(recipient.pk)
    return result


def _skip_reason(recipient: MessageRecipient) -> str | None:
    registration = recipient.registration
    if registration.anonymised_at is not None or not registration.email:
        return "anonymised"
    if not registration.is_active:
        return "inactive"
    if registration.activity_id != recipient.message.activity_id:
        return "moved"
    return None


def _move(pk: int, source: str, target: str, **fields: Any) -> bool:
    """Move one row on if it is still in `source`; False when it had moved on."""
    return bool(MessageRecipient.objects.filter(pk=pk).move(source, target, **fields))


def _describe(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    return text[:DETAIL_LENGTH]


def _send_one(recipient: MessageRecipient, *, final: bool) -> str | None:
    """Send to one recipient; returns the row's new status (None: another task had it)."""
    pk = recipient.pk
    reason = _skip_reason(recipient)
    if reason is not None:
        skipped = _move(pk, Delivery.QUEUED, Delivery.SKIPPED, detail=reason)
        return Delivery.SKIPPED if skipped else None
    try:
        # Built before the claim: a broken template must not leave a row claimed and unsent.
        mail = emails.organiser_message(recipient.message, recipient.registration)
    except Exception as error:
        logger.exception("Message %s: cannot build the e-mail for %s", recipient.message_id, pk)
        _move(pk, Delivery.QUEUED, Delivery.FAILED, detail=_describe(error))
        return Delivery.FAILED
    claimed = _move(pk, Delivery.QUEUED, Delivery.SENDING, attempts=F("attempts") + 1)
    if not claimed:
        return None
    try:
        mail.send(using=emails.MAILER)
    except AnymailRecipientsRefused as error:
        # The provider will not send to this address (invalid, suppressed after earlier
        # bounces): trying again later would only be refused again.
        _move(pk, Delivery.SENDING, Delivery.BOUNCED, detail=_describe(error))
        return Delivery.BOUNCED
    except SENDING_ERRORS as error:
        status = Delivery.FAILED if final else Delivery.QUEUED
        logger.warning(
            "Message %s to recipient %s failed (%s)",
            recipient.message_id,
            pk,
            "giving up" if final else "will retry",
            exc_info=True,
        )
        _move(pk, Delivery.SENDING, status, detail=_describe(error))
        return status
    except Exception as error:
        # A bug, not the provider: a retry would not mend it.
        logger.exception("Message %s to recipient %s failed", recipient.message_id, pk)
        _move(pk, Delivery.SENDING, Delivery.FAILED, detail=_describe(error))
        return Delivery.FAILED
    _move(
        pk,
        Delivery.SENDING,
        Delivery.SENT,
        provider_message_id=_provider_message_id(mail),
        sent_at=timezone.now(),
        detail="",
    )
    return Delivery.SENT


def _provider_message_id(mail: emails.TicketMessage) -> str:
    """The id anymail's backend reports (the key for tracking events); empty for SMTP."""
    status = getattr(mail, "anymail_status", None)
    message_id = getattr(status, "message_id", None)
    return "" if message_id is None else str(message_id)


def give_up_stale_claims(
    *,
    message_id: int | None = None,
    now: dt.datetime | None = None,
    stale_after: dt.timedelta = taskqueue.STALE_AFTER,
) -> int:
    """Rows claimed (`sending`) for longer than `stale_after` become `possibly_sent`: their
    worker died between the claim and the outcome. Only this message's, with `message_id`.
    Returns how many."""
    now = now or timezone.now()
    stale = MessageRecipient.objects.filter(
        status=Delivery.SENDING, updated_at__lt=now - stale_after
    )
    if message_id is not None:
        stale = stale.filter(message_id=message_id)
    given_up = stale.move(Delivery.SENDING, Delivery.POSSIBLY_SENT, updated_at=now)
    if given_up:
        logger.warning(
            "%s message recipients were claimed before %s by a worker that never finished; "
            "possibly sent, not sent again",
            given_up,
            (now - stale_after).isoformat(),
        )
    return given_up


# --- Tracking (anymail's webhooks) -----------------------------------------------------------

# What each tracked event makes of a row, and which statuses it may replace. Events can arrive
# out of order or twice: a late "delivered" must not hide a bounce or a complaint, and a
# repeated event only writes the same thing again.
TRACKED_EVENTS: dict[str, tuple[str, frozenset[str]]] = {
    EventType.DELIVERED: (Delivery.DELIVERED, frozenset({Delivery.SENT, Delivery.DELIVERED})),
    EventType.FAILED: (Delivery.FAILED, frozenset({Delivery.SENT, Delivery.FAILED})),
    EventType.BOUNCED: (
        Delivery.BOUNCED,
        frozenset({Delivery.SENT, Delivery.DELIVERED, Delivery.FAILED, Delivery.BOUNCED}),
    ),
    EventType.REJECTED: (
        Delivery.BOUNCED,
        frozenset({Delivery.SENT, Delivery.DELIVERED, Delivery.FAILED, Delivery.BOUNCED}),
    ),
    EventType.COMPLAINED: (
        Delivery.COMPLAINED,
        frozenset({Delivery.SENT, Delivery.DELIVERED, Delivery.COMPLAINED}),
    ),
}


def record_tracking_event(
    sender: object, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any
) -> int:
    """Receiver of anymail's `tracking` signal: update the recipient the event is about.

    The webhook view has already checked the request (basic auth, and the ESP's signature
    where it signs). Events for other e-mails (registration mails, unknown ids) change nothing.
    Returns the number of rows changed.
    """
    tracked = TRACKED_EVENTS.get(event.event_type)
    if tracked is None or not event.message_id:
        return 0
    status, replaces = tracked
    detail = event.description or event.mta_response or event.reject_reason or ""
    changed = MessageRecipient.objects.filter(provider_message_id=str(event.message_id)).move(
        replaces, status, detail=str(detail)[:DETAIL_LENGTH]
    )
    if changed:
        logger.info(
            "%s tracking: message %s is now %s", esp_name, event.message_id, event.event_type
        )
    return changed


# --- Reading -------------------------------------------------------------------------------


def status_counts(message: Message) -> dict[str, int]:
    """How many recipients are in each status (every status present, zero included)."""
    counts = dict.fromkeys(Delivery.values, 0)
    rows = message.recipients.order_by().values_list("status").annotate(n=Count("pk"))
    for status, n in rows:
        counts[status] = n
    return counts


def with_status_counts(messages: QuerySet[Message]) -> QuerySet[Message]:
    """Annotate each message with `count_<status>` and `count_total`, in the same query."""
    return messages.annotate(
        count_total=Count("recipients"),
        **{
            f"count_{status}": Count("recipients", filter=Q(recipients__status=status))
            for status in Delivery.values
        },
    )


def detail_text(recipient: MessageRecipient) -> str:
    """What to show about a recipient's status: the skip reason in words, else the detail."""
    if recipient.status == Delivery.SKIPPED:
        return str(SKIP_REASONS.get(recipient.detail, recipient.detail))
    if recipient.status == Delivery.POSSIBLY_SENT:
        return str(POSSIBLY_SENT_EXPLANATION)
    return recipient.detail
