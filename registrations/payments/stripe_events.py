"""What Stripe tells us about a payment, handled once: the one entry point (`process_event`)
that the signed webhook (`webhooks`), the demo payment page (`demo`) and reconciliation
(`reconcile`) all call with the same event shape (`{"id", "type", "data": {"object": ...}}`).

- money in: lock the activity, then the registration, then the payment (`locking`). A payment
  within its hold confirms; one that arrives after the hold lapsed confirms if places are free
  (`capacity.fits`), else it is refunded with an e-mail. A second payment for a registration
  already paid is refunded: nobody pays twice.
- a refund, ours or one made in Stripe's Dashboard, is recorded per refund (`refund_events`);
  one about a payment not paid here yet raises `refund_events.EventTooEarly`, so the event is
  not stored and Stripe delivers it again.

Ticket income goes to the budget through `registrations.signals`, sent inside the transaction
that records the money.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from events.models import Activity
from jubileum.lib.money import CENT, to_cents
from registrations.capacity import fits
from registrations.locking import lock_payment
from registrations.models import Payment, Registration, StripeEvent
from registrations.notify import send_after_commit
from registrations.payments import refund_events, services
from registrations.signals import ticket_income_received

logger = logging.getLogger(__name__)

Status = Registration.Status
PaymentStatus = Payment.Status
Reason = Payment.RefundReason


def _cents_to_euro(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def _stripe_id(value: Any) -> str:
    """An id from a field Stripe may send as an id or as an expanded object."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


def process_event(event: dict[str, Any]) -> str:
    """Handle one verified event once; returns what was done.

    The event id is stored in the same transaction as what the event changed, so a second
    delivery finds it and changes nothing, while an event whose handling failed (a locked
    database, say) is not stored and Stripe's retry is handled in full.
    """
    event_id = str(event.get("id") or "")
    event_type = str(event.get("type") or "")
    if not event_id:
        raise ValueError("event without id")
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = StripeEvent.objects.create(event_id=event_id, type=event_type)
        except IntegrityError:
            logger.info("Stripe event %s (%s) handled before; ignored", event_id, event_type)
            return "duplicate"
        outcome = handle_event(event)
        record.outcome = outcome[:200]
        record.save(update_fields=["outcome"])
    logger.info("Stripe event %s (%s): %s", event_id, event_type, outcome)
    return outcome


def handle_event(event: dict[str, Any], *, now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    event_type = str(event.get("type") or "")
    obj = (event.get("data") or {}).get("object") or {}
    handler = _HANDLERS.get(event_type)
    if handler is None:
        logger.info("Stripe event %s of type %s ignored", event.get("id"), event_type)
        return f"ignored: {event_type}"
    return handler(obj, now)


def _find_payment(session: dict[str, Any]) -> Payment | None:
    """Our attempt for a Checkout Session: by its id, else by the metadata we gave it (a
    session whose creation answer never reached us)."""
    session_id = session.get("id")
    if session_id:
        payment = Payment.objects.filter(checkout_session_id=session_id).first()
        if payment is not None:
            return payment
    metadata = session.get("metadata") or {}
    payment_id, registration_id = metadata.get("payment_id"), metadata.get("registration_id")
    if str(payment_id).isdigit() and str(registration_id).isdigit():
        return Payment.objects.filter(
            pk=int(str(payment_id)), registration_id=int(str(registration_id))
        ).first()
    return None


def _session_completed(session: dict[str, Any], now: dt.datetime) -> str:
    if session.get("payment_status") in ("paid", "no_payment_required"):
        return _session_paid(session, now)
    return _session_processing(session, now)


def _session_processing(session: dict[str, Any], now: dt.datetime) -> str:
    """Checkout is done but the money is not in yet (a bank transfer kind of method): wait for
    `async_payment_succeeded` or `..._failed`."""
    payment = _find_payment(session)
    if payment is None:
        return _unknown(session)
    with transaction.atomic():
        payment, _registration, _activity = lock_payment(payment)
        if payment.is_paid or payment.status == PaymentStatus.PROCESSING:
            return "unchanged"
        payment.save(update_fields=[*payment.mark_processing(), "updated_at"])
    return "processing"


def _session_paid(session: dict[str, Any], now: dt.datetime) -> str:
    payment = _find_payment(session)
    if payment is None:
        return _unknown(session)
    with transaction.atomic():
        payment, registration, activity = lock_payment(payment)
        if payment.is_paid:
            return "unchanged: paid before"
        received = session.get("amount_total")
        if received is not None and _cents_to_euro(received) != payment.amount:
            logger.warning(
                "Payment %s: session paid %s cents, expected %s",
                payment.pk,
                received,
                to_cents(payment.amount),
            )
            payment.amount = _cents_to_euro(received)
        payment.mark_paid(now, _stripe_id(session.get("payment_intent")))
        if payment.checkout_session_id is None and session.get("id"):
            payment.checkout_session_id = session["id"]
        payment.save()
        ticket_income_received.send(
            sender=Payment,
            activity=activity,
            amount=payment.amount,
            source=f"payment:{payment.pk}",
            date=timezone.localdate(now),
            description=f"{activity.title}: {registration.party_size} x {activity.price} "
            f"(aanmelding {registration.pk})",
        )
        return _admit_paid(payment, registration, activity, now)


def _admit_paid(
    payment: Payment, registration: Registration, activity: Activity, now: dt.datetime
) -> str:
    """The money is in: give the party its places, or give the money back."""
    paid_before = registration.payments.exclude(pk=payment.pk).filter(
        paid_at__isnull=False, refund_requested_at__isnull=True
    )
    if paid_before.exists():
        services.request_refund(payment, Reason.DUPLICATE, now, mail="refunded")
        return "refunded: paid twice"
    if registration.status == Status.CONFIRMED:
        return "paid"
    attendable = activity.status == Activity.Status.PUBLISHED and not activity.is_past(now)
    if registration.status not in (Status.PENDING_PAYMENT, Status.EXPIRED) or not attendable:
        services.request_refund(payment, Reason.NOT_ADMITTED, now, mail="refunded")
        return "refunded: registration no longer active"
    late = not registration.holds_places(now)
    if not late or fits(activity, registration.party_size, now):
        registration.confirm(now)
        registration.save()
        send_after_commit(registration, "confirmation")
        return "confirmed after the hold expired" if late else "confirmed"
    # Too late and the places went to someone else: the party is not admitted.
    if registration.status != Status.EXPIRED:
        registration.save(update_fields=[*registration.expire(), "updated_at"])
    services.request_refund(payment, Reason.LATE_NO_PLACE, now, mail="late_payment_refunded")
    return "refunded: paid after the hold expired and no place was free"


def _session_failed(session: dict[str, Any], now: dt.datetime) -> str:
    payment = _find_payment(session)
    if payment is None:
        return _unknown(session)
    with transaction.atomic():
        payment, _registration, _activity = lock_payment(payment)
        if payment.is_paid:
            return "unchanged: paid before"
        payment.save(update_fields=[*payment.mark_failed("payment failed"), "updated_at"])
    return "failed"


def _session_expired(session: dict[str, Any], now: dt.datetime) -> str:
    payment = _find_payment(session)
    if payment is None:
        return _unknown(session)
    with transaction.atomic():
        payment, _registration, _activity = lock_payment(payment)
        # Events may come out of order: an expiry after the payment changes nothing.
        if payment.is_paid or payment.status not in Payment.UNSETTLED_STATUSES:
            return "unchanged"
        payment.save(update_fields=[*payment.mark_expired("session expired"), "updated_at"])
    return "expired"


def _unknown(obj: dict[str, Any]) -> str:
    logger.info("Stripe %s %s is not one of ours; ignored", obj.get("object"), obj.get("id"))
    return "ignored: unknown object"


_HANDLERS = {
    "checkout.session.completed": _session_completed,
    "checkout.session.async_payment_succeeded": _session_paid,
    "checkout.session.async_payment_failed": _session_failed,
    "checkout.session.expired": _session_expired,
    **refund_events.HANDLERS,
}
