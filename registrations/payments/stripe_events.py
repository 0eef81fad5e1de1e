"""What Stripe tells us about a payment, handled once: the one entry point (`process_event`)
that the signed webhook (`webhooks`), the demo payment page (`demo`) and reconciliation
(`reconcile`) all call with the same event shape (`{"id", "type", "data": {"object": ...}}`).

- first, whose event it is: one whose `livemode` differs from our key's, or whose object's
  metadata names another installation (`settings.INSTALLATION_ID`: databases sharing one Stripe
  account see each other's events), is acknowledged and changes nothing.
- a Checkout Session settles only the attempt whose `checkout_session_id` it is; its metadata
  finds an attempt only while that has no session id yet (the creation answer never reached
  us). A paid session of ours that is not its attempt's own is recorded and refunded.
- money in: lock the activity, then the registration, then the payment (`locking`). What was
  paid must be what the attempt asked for, in its currency; otherwise the money gets a row of
  its own and is refunded, and nothing else changes (`Payment.UNMATCHED_REASONS`). It must also
  cover what the registration owes now (a party or price that changed since: refunded). A
  payment within its hold confirms; one that arrives after the hold lapsed confirms if places
  are free (`capacity.fits`), else it is refunded with an e-mail. A second payment for a
  registration already paid is refunded: nobody pays twice.
- a refund, ours or one made in Stripe's Dashboard, is recorded per refund (`refund_events`);
  one about a payment not paid here yet raises `refund_events.EventTooEarly`, so the event is
  not stored and Stripe delivers it again.

Ticket income goes to the budget through `registrations.signals`, sent inside the transaction
that records the money.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from events.models import Activity
from jubileum.lib.money import from_cents
from registrations.capacity import fits
from registrations.locking import lock_payment, lock_registration
from registrations.models import Payment, Registration, StripeEvent
from registrations.notify import send_after_commit
from registrations.payments import gateway as stripe_gateway
from registrations.payments import refund_events, services
from registrations.signals import ticket_income_received

logger = logging.getLogger(__name__)

Status = Registration.Status
PaymentStatus = Payment.Status
Reason = Payment.RefundReason


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
    elsewhere = _meant_for_elsewhere(event, obj)
    if elsewhere:
        logger.warning("Stripe event %s (%s) ignored: %s", event.get("id"), event_type, elsewhere)
        return f"ignored: {elsewhere}"
    handler = _HANDLERS.get(event_type)
    if handler is None:
        logger.info("Stripe event %s of type %s ignored", event.get("id"), event_type)
        return f"ignored: {event_type}"
    return handler(obj, now)


def _meant_for_elsewhere(event: dict[str, Any], obj: dict[str, Any]) -> str:
    """Why an event is another installation's business ("" when it may be ours): test events
    at a live site or the other way round, or an object another database made."""
    livemode = event.get("livemode", obj.get("livemode"))
    if livemode is not None and bool(livemode) != stripe_gateway.live_mode():
        return "livemode does not match our key"
    metadata = obj.get("metadata") or {}
    installation = metadata.get("installation_id") if isinstance(metadata, dict) else None
    if installation is not None and installation != settings.INSTALLATION_ID:
        return "another installation"
    return ""


def _find_payment(session: dict[str, Any]) -> Payment | None:
    """The attempt a Checkout Session settles: the one whose session it is, else the one its
    metadata names while that has no session id yet (its creation answer never reached us).
    A session whose metadata names an attempt with another session is none of that attempt's
    business (see `_not_its_session`)."""
    session_id = str(session.get("id") or "")
    if not session_id:
        return None
    payment = Payment.objects.filter(checkout_session_id=session_id).first()
    if payment is not None:
        return payment
    named = _named_attempt(session)
    if named is not None and named.checkout_session_id is None:
        return named
    return None


def _named_attempt(session: dict[str, Any]) -> Payment | None:
    metadata = session.get("metadata") or {}
    payment_id, registration_id = metadata.get("payment_id"), metadata.get("registration_id")
    if str(payment_id).isdigit() and str(registration_id).isdigit():
        return Payment.objects.filter(
            pk=int(str(payment_id)), registration_id=int(str(registration_id))
        ).first()
    return None


def _claim_session(payment: Payment, session: dict[str, Any]) -> None:
    """An attempt found by its metadata learns its session id (saved with the caller's change),
    so from now on only that session settles it."""
    if payment.checkout_session_id is None and session.get("id"):
        payment.checkout_session_id = str(session["id"])
        payment.save(update_fields=["checkout_session_id", "updated_at"])


def _not_its_session(session: dict[str, Any], now: dt.datetime) -> str:
    """A session that settles none of our attempts: unknown, or one whose metadata names an
    attempt that has a session of its own (made by a database restored from a backup, by hand,
    by a bug). That attempt and its registration stay as they are. Money paid through a session
    that names this installation is ours and nobody else settles it, so it is recorded and
    refunded; without our installation id it may be another database's (one running code from
    before installation ids), which settles or refunds it itself: only logged, for the
    organiser to check in Stripe's dashboard."""
    named = _named_attempt(session)
    if named is None:
        return _unknown(session)
    logger.error(
        "Stripe Checkout Session %s (PaymentIntent %s, %s %s, %s) names payment %s, whose own "
        "session is %s; not settled",
        session.get("id"),
        stripe_gateway.object_id(session.get("payment_intent")) or "-",
        session.get("amount_total"),
        session.get("currency"),
        session.get("payment_status"),
        named.pk,
        named.checkout_session_id,
    )
    ours = (session.get("metadata") or {}).get("installation_id") == settings.INSTALLATION_ID
    if not ours or session.get("payment_status") != "paid":
        return "ignored: not the attempt's own session"
    with transaction.atomic():
        registration, activity = lock_registration(named.registration_id)
        return _refund_unmatched(
            registration, activity, session, Reason.NOT_ITS_SESSION, named.demo, now
        )


def _session_completed(session: dict[str, Any], now: dt.datetime) -> str:
    if session.get("payment_status") in ("paid", "no_payment_required"):
        return _session_paid(session, now)
    return _session_processing(session, now)


def _session_processing(session: dict[str, Any], now: dt.datetime) -> str:
    """Checkout is done but the money is not in yet (a bank transfer kind of method): wait for
    `async_payment_succeeded` or `..._failed`."""
    payment = _find_payment(session)
    if payment is None:
        return _not_its_session(session, now)
    with transaction.atomic():
        payment, _registration, _activity = lock_payment(payment)
        if payment.is_paid or payment.status == PaymentStatus.PROCESSING:
            return "unchanged"
        if payment.status == PaymentStatus.FAILED and _failed_at_stripe(payment, session):
            # Events come out of order: `completed` (unpaid) may arrive after Stripe reported
            # the payment failed. A session whose payment failed stays complete and unpaid for
            # good; processing again would stop the person from paying for ever.
            return "unchanged: the payment failed before"
        _claim_session(payment, session)
        payment.save(update_fields=[*payment.mark_processing(), "updated_at"])
    return "processing"


def _failed_at_stripe(payment: Payment, session: dict[str, Any]) -> bool:
    """Stripe reported this session's payment failed (not: we gave up creating the session,
    which may exist all the same and be paid by bank transfer). The session says the same in
    both cases (complete, unpaid), so our record decides: only what Stripe reported (a failed
    payment, a wrong amount) fails an attempt that knows its session."""
    return (
        payment.checkout_session_id == session.get("id")
        and session.get("status") == "complete"
        and session.get("payment_status") == "unpaid"
    )


def _session_paid(session: dict[str, Any], now: dt.datetime) -> str:
    payment = _find_payment(session)
    if payment is None:
        return _not_its_session(session, now)
    with transaction.atomic():
        payment, registration, activity = lock_payment(payment)
        if payment.is_paid:
            return "unchanged: paid before"
        _claim_session(payment, session)
        received, currency = _received(session)
        if received != payment.amount or currency != payment.currency:
            logger.error(
                "Payment %s: session %s paid %s %s, asked for %s %s; refunded",
                payment.pk,
                session.get("id"),
                received,
                currency,
                payment.amount,
                payment.currency,
            )
            outcome = _refund_unmatched(
                registration, activity, session, Reason.WRONG_AMOUNT, payment.demo, now
            )
            # This session is spent: the person pays again with a new one.
            if payment.status != PaymentStatus.FAILED:
                why = f"paid {received} {currency} instead of {payment.amount} {payment.currency}"
                payment.save(update_fields=[*payment.mark_failed(why), "updated_at"])
            return outcome
        payment.mark_paid(now, stripe_gateway.object_id(session.get("payment_intent")))
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


def _received(session: dict[str, Any]) -> tuple[Decimal | None, str]:
    """What a session took, in what currency (None: it does not say)."""
    cents = session.get("amount_total")
    amount = from_cents(cents) if isinstance(cents, int) else None
    return amount, str(session.get("currency") or "").lower()


def _refund_unmatched(
    registration: Registration,
    activity: Activity,
    session: dict[str, Any],
    reason: str,
    demo: bool,
    now: dt.datetime,
) -> str:
    """Money that settles nothing: a row of its own for what arrived (the attempt it named
    keeps what it asked for), recorded as income and refunded at once, so the budget nets it.
    Call with the registration locked. Once per session, however often Stripe reports it."""
    session_id = str(session.get("id") or "")
    key = "jubileum-unmatched-" + hashlib.sha256(session_id.encode()).hexdigest()[:48]
    if Payment.objects.filter(idempotency_key=key).exists():
        return "unchanged: refunded before"
    received, currency = _received(session)
    intent = stripe_gateway.object_id(session.get("payment_intent"))
    if received is None or received <= 0 or not intent:
        logger.error("Stripe session %s: no money to refund (%s, %s)", session_id, received, intent)
        return "ignored: nothing to refund"
    last = registration.payments.order_by("-attempt").values_list("attempt", flat=True).first()
    row = Payment(
        registration=registration,
        attempt=(last or 0) + 1,
        amount=received,
        currency=currency[:3],
        demo=demo,
        idempotency_key=key,
        failure=f"session {session_id}"[:200],
    )
    row.mark_paid(now, intent)
    row.save()
    ticket_income_received.send(
        sender=Payment,
        activity=activity,
        amount=row.amount,
        source=f"payment:{row.pk}",
        date=timezone.localdate(now),
        description=f"{activity.title}: {row.amount} {currency} ontvangen die niet klopt, "
        f"wordt terugbetaald (aanmelding {registration.pk})",
    )
    # Only the person who paid the wrong amount hears of it; a session that is not its
    # attempt's own may have been paid by someone else altogether.
    mail = "refunded" if reason == Reason.WRONG_AMOUNT else None
    services.request_refund(row, reason, now, mail=mail)
    return f"refunded: {Reason(reason).value}"


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
    # The one rule for a session paid after the party or the price changed (such sessions are
    # closed then, but Stripe may take the money before it hears of that): it counts only if it
    # covers what is owed now.
    if payment.amount < services.total_price(registration) or payment.currency != "eur":
        services.request_refund(payment, Reason.OUTDATED, now, mail="refunded")
        return "refunded: paid less than is owed now"
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
        return _not_its_session(session, now)
    with transaction.atomic():
        payment, _registration, _activity = lock_payment(payment)
        if payment.is_paid:
            return "unchanged: paid before"
        _claim_session(payment, session)
        payment.save(update_fields=[*payment.mark_failed("payment failed"), "updated_at"])
    return "failed"


def _session_expired(session: dict[str, Any], now: dt.datetime) -> str:
    payment = _find_payment(session)
    if payment is None:
        return _not_its_session(session, now)
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
