"""Background work of the registrations app: the mail tasks, the payment tasks (closing a
Checkout Session, carrying out a refund, telling the organisers a refund failed) and the daily
reminders. Tasks take ids, never model instances.

Neither Django's tasks framework nor django-tasks-db 0.13 retries a failed task (the worker
marks it FAILED and moves on), so a mail task that meets a mail-server or ESP error enqueues
itself again with a growing delay, `attempt` counting up, and then fails with the error so
the attempt and its traceback stay visible in the task results. After MAX_ATTEMPTS it gives up
and logs an error. The registration is never touched: a failed e-mail loses nothing but the
e-mail. The mail log in `emails` makes a retry that meets an e-mail already sent a no-op.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial
from typing import Any

from anymail.exceptions import AnymailError
from django.db import transaction
from django.db.models import QuerySet
from django.tasks import Task, task
from django.utils import timezone

from events.models import Activity
from registrations import emails
from registrations.models import MailKind, Payment, Registration
from registrations.payments import gateway as stripe_gateway
from registrations.payments.refunds import execute_refund

logger = logging.getLogger(__name__)

# Waits before attempts 2, 3, ...: about nine hours in all, long enough to ride out an ESP
# outage, short enough that a ticket still arrives before most activities.
RETRY_DELAYS = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=6),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1

# What a failed delivery raises: smtplib's errors and socket errors are OSErrors; anymail
# raises AnymailError (API errors, rejected recipients, missing settings). Anything else is a
# bug (a broken template, say), which a retry would not mend.
SENDING_ERRORS: tuple[type[BaseException], ...] = (OSError, AnymailError)


def schedule_retry(mail_task: Task, attempt: int, **kwargs: Any) -> bool:
    """Enqueue the next attempt of a failed mail task; False when there is none."""
    if attempt >= MAX_ATTEMPTS:
        logger.error(
            "%s failed %s times; giving up (%s)", mail_task.name, attempt, kwargs, exc_info=True
        )
        return False
    if not mail_task.get_backend().supports_defer:
        # The immediate backend (local use) cannot wait; retrying at once would only fail again.
        logger.error(
            "%s failed; this task backend cannot retry later (%s)",
            mail_task.name,
            kwargs,
            exc_info=True,
        )
        return False
    run_after = timezone.now() + RETRY_DELAYS[attempt - 1]
    mail_task.using(run_after=run_after).enqueue(attempt=attempt + 1, **kwargs)
    logger.warning(
        "%s failed (attempt %s of %s); retrying after %s (%s)",
        mail_task.name,
        attempt,
        MAX_ATTEMPTS,
        run_after.isoformat(),
        kwargs,
        exc_info=True,
    )
    return True


@task()
def send_registration_mail(
    *, registration_id: int, kind: str, force: bool = False, attempt: int = 1
) -> bool:
    """Send one registration e-mail (see `emails.send`; `force` is the resend on request)."""
    try:
        return emails.send(registration_id, kind, force=force)
    except SENDING_ERRORS:
        schedule_retry(
            send_registration_mail,
            attempt,
            registration_id=registration_id,
            kind=kind,
            force=force,
        )
        raise


@task()
def send_invitation_mail(*, invitation_id: int, force: bool = False, attempt: int = 1) -> bool:
    try:
        return emails.send_invitation(invitation_id, force=force)
    except SENDING_ERRORS:
        schedule_retry(send_invitation_mail, attempt, invitation_id=invitation_id, force=force)
        raise


@task()
def expire_checkout_session(*, payment_id: int, attempt: int = 1) -> bool:
    """Close a Stripe session we no longer want paid (its attempt was closed here: given up, a
    new party size or price, a cancellation). Retried until Stripe confirms it is closed: an
    open session of an old amount can still take money. A session Stripe has closed already
    (expired, or complete: paid meanwhile, which the money handler deals with) is done."""
    session_id = (
        Payment.objects.filter(pk=payment_id).values_list("checkout_session_id", flat=True).first()
    )
    if not session_id:
        return False
    try:
        stripe_gateway.expire_checkout_session(session_id)
    except stripe_gateway.StripeError as error:
        # Stripe refuses to expire a session that is not open; whether that is why, its
        # status says (a refusal for any other reason is retried, and logged at the end).
        if stripe_gateway.is_refusal(error) and _session_closed(session_id):
            return True
        schedule_retry(expire_checkout_session, attempt, payment_id=payment_id)
        raise
    return True


def _session_closed(session_id: str) -> bool:
    try:
        session = stripe_gateway.retrieve_checkout_session(session_id)
    except stripe_gateway.StripeError:
        return False
    return session.get("status") in ("expired", "complete")


@task()
def refund_payment(*, payment_id: int, attempt: int = 1) -> str:
    """Carry out a refund that was asked for; retried while Stripe cannot be reached."""
    try:
        return execute_refund(payment_id)
    except stripe_gateway.StripeError:
        schedule_retry(refund_payment, attempt, payment_id=payment_id)
        raise


@task()
def send_refund_failed_mail(*, refund_id: int, attempt: int = 1) -> bool:
    """Tell the organisers that a refund failed (see `emails.send_refund_failed`)."""
    try:
        return emails.send_refund_failed(refund_id)
    except SENDING_ERRORS:
        schedule_retry(send_refund_failed_mail, attempt, refund_id=refund_id)
        raise


def on_refund_failed(sender: Any, *, refund_id: int, **kwargs: Any) -> None:
    """`signals.refund_failed`: the organisers' e-mail, once the transaction commits."""
    transaction.on_commit(partial(send_refund_failed_mail.enqueue, refund_id=refund_id))


def _tomorrow_bounds(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Start and end of tomorrow in the site's time zone (Amsterdam), as aware moments."""
    tomorrow = timezone.localdate(now) + dt.timedelta(days=1)
    start = timezone.make_aware(dt.datetime.combine(tomorrow, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(tomorrow + dt.timedelta(days=1), dt.time.min))
    return start, end


def due_reminders(*, now: dt.datetime | None = None) -> QuerySet[Registration]:
    """Confirmed parties of tomorrow's activities that have had no reminder yet."""
    start, end = _tomorrow_bounds(now or timezone.now())
    return (
        Registration.objects.filter(
            status=Registration.Status.CONFIRMED,
            reminder_sent_at__isnull=True,
            anonymised_at__isnull=True,
            activity__status=Activity.Status.PUBLISHED,
            activity__starts_at__gte=start,
            activity__starts_at__lt=end,
        )
        .select_related("activity")
        .order_by("activity__starts_at", "pk")
    )


def send_reminders(*, now: dt.datetime | None = None) -> list[int]:
    """Enqueue the reminder for every party due one; returns the registration ids.

    Each registration is claimed by setting `reminder_sent_at` only where it is still empty,
    so two runs at once (or a run repeated after a crash) remind each party once: the second
    update finds nothing to change. The mail task itself retries if the mail server fails.
    """
    now = now or timezone.now()
    claimed = []
    for registration_id in due_reminders(now=now).values_list("pk", flat=True):
        with transaction.atomic():
            updated = Registration.objects.filter(
                pk=registration_id, reminder_sent_at__isnull=True
            ).update(reminder_sent_at=now)
            if updated:
                transaction.on_commit(partial(_enqueue_reminder, registration_id))
                claimed.append(registration_id)
    return claimed


def _enqueue_reminder(registration_id: int) -> None:
    send_registration_mail.enqueue(registration_id=registration_id, kind=MailKind.REMINDER)


@task()
def send_message_batch(*, message_id: int, recipient_ids: list[int], attempt: int = 1) -> int:
    """Send an organiser's message to one batch of its recipients; returns how many went out.

    Each recipient is claimed before sending (see `messaging`), so this task may run twice.
    Those the provider refused for now are retried by a later task with only their ids; on the
    last attempt (or where the backend cannot wait) they are marked failed instead.
    """
    from registrations.backoffice import messaging  # a cycle: messaging enqueues this task

    final = attempt >= MAX_ATTEMPTS or not send_message_batch.get_backend().supports_defer
    result = messaging.send_batch(message_id, recipient_ids, final=final)
    if result.retry:
        run_after = timezone.now() + RETRY_DELAYS[attempt - 1]
        send_message_batch.using(run_after=run_after).enqueue(
            message_id=message_id, recipient_ids=result.retry, attempt=attempt + 1
        )
        logger.warning(
            "Message %s: %s recipients failed (attempt %s of %s); retrying after %s",
            message_id,
            len(result.retry),
            attempt,
            MAX_ATTEMPTS,
            run_after.isoformat(),
        )
    return result.sent
