"""Payment workflows: paying for a registration, what Stripe tells us, refunds, reconciliation.

A paid registration is `pending_payment` with places held until `hold_expires_at`. Paying is a
Checkout Session per attempt (`Payment`), each with its own idempotency key; a second click on
"Betalen" while a session is open returns that session. What happens to the money is decided
by one set of handlers that the Stripe webhook, the demo payment page and `reconcile_payments`
all call with the same event shape (`{"id", "type", "data": {"object": ...}}`):

- money in: lock the activity, then the registration (the lock order of every workflow), then
  the payment. A payment within its hold confirms; one that arrives after the hold lapsed
  confirms if places are free (`capacity.fits`), else it is refunded with an e-mail.
  A second payment for a registration already paid is refunded: nobody pays twice.
- refunds are asked for inside the transaction that decides them and carried out after the
  commit by a task (Stripe is slow and may be down; the task retries); Stripe's answer or its
  `charge.refunded` event records them, whichever comes first, counted once.

Ticket income goes to the budget through `registrations.signals`, sent inside the transaction
that records the money.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from events.models import Activity
from jubileum.lib.money import CENT, to_cents
from registrations import tasks
from registrations.capacity import PAYMENT_HOLD, fits
from registrations.errors import RegistrationError
from registrations.locking import lock_payment, lock_registration
from registrations.models import Payment, Registration, StripeEvent
from registrations.notify import send_after_commit
from registrations.payments import gateway as stripe_gateway
from registrations.payments import refunds
from registrations.signals import ticket_income_received

logger = logging.getLogger(__name__)

Status = Registration.Status
PaymentStatus = Payment.Status
Reason = Payment.RefundReason

# Stripe wants a Checkout Session to live at least 30 minutes by its own clock; one minute more
# keeps a request from a server whose clock runs a little behind from being refused. A payment
# made in that last minute arrives after the hold and takes the late-payment path.
CHECKOUT_EXPIRY = PAYMENT_HOLD + dt.timedelta(minutes=1)
# An open session this close to its end is not worth sending anyone to.
REUSE_MARGIN = dt.timedelta(minutes=2)
# A session whose creation never got an answer (a crash between our row and Stripe's reply) is
# retried with the same idempotency key for this long; later it is given up.
CREATED_REUSE_WINDOW = dt.timedelta(minutes=10)

DEMO_OUTCOMES = {
    "paid": "checkout.session.completed",
    "failed": "checkout.session.async_payment_failed",
    "expired": "checkout.session.expired",
}


class PaymentError(RegistrationError):
    code = "payment_error"
    message = _("Betalen kan nu niet voor deze aanmelding.")


class NothingToPay(PaymentError):
    code = "nothing_to_pay"
    message = _("Voor deze aanmelding valt niets (meer) te betalen.")


class HoldExpired(PaymentError):
    code = "payment_hold_expired"
    message = _(
        "De tijd om te betalen is voorbij en je plaatsen zijn vrijgegeven. Meld je opnieuw aan "
        "als er nog plaats is."
    )


class PaymentProcessing(PaymentError):
    code = "payment_processing"
    message = _("Je betaling wordt nog verwerkt. Zodra die binnen is, krijg je een e-mail.")


class PaymentUnavailable(PaymentError):
    code = "payment_unavailable"
    status = 503
    message = _(
        "Betalen lukt op dit moment niet: we kunnen de betaaldienst niet bereiken. Je plaatsen "
        "blijven vastgehouden; probeer het over een paar minuten opnieuw."
    )


class NotRefundable(PaymentError):
    code = "not_refundable"
    message = _("Deze betaling kan niet (meer) worden terugbetaald.")


class UnknownPayment(PaymentError):
    code = "unknown_payment"
    status = 404
    message = _("Deze betaling kennen we niet.")


# --- Figures -----------------------------------------------------------------------------------


def total_price(registration: Registration) -> Decimal:
    """What the party pays: price per person times party size, in EUR with two places."""
    return (registration.activity.price * registration.party_size).quantize(CENT)


def paid_payment(registration: Registration) -> Payment | None:
    """The attempt that brought the money in (the latest, should there ever be two)."""
    paid = [payment for payment in registration.payments.all() if payment.is_paid]
    return paid[-1] if paid else None


def latest_attempt(registration: Registration) -> Payment | None:
    attempts = list(registration.payments.all())
    return attempts[-1] if attempts else None


def payment_of(registration: Registration) -> Payment | None:
    """The payment to show for a registration: the paid one, else the latest attempt.

    Reads `registration.payments.all()`, so a list page can prefetch them."""
    return paid_payment(registration) or latest_attempt(registration)


def _cents_to_euro(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def _stripe_id(value: Any) -> str:
    """An id from a field Stripe may send as an id or as an expanded object."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


# --- Paying ------------------------------------------------------------------------------------


def start_payment(registration_id: int, *, now: dt.datetime | None = None) -> Payment:
    """The payment attempt to send the person to: the open one, or a new Checkout Session.

    The hold is not extended: the person may try again until it lapses. When Stripe cannot be
    reached the attempt is marked failed and `PaymentUnavailable` raised; nothing else changes.
    """
    now = now or timezone.now()
    with transaction.atomic():
        registration, activity = lock_registration(registration_id)
        _check_payable(registration, activity, now)
        amount = total_price(registration)
        payment = _reusable_attempt(registration, amount, now)
        if payment is None:
            payment = _new_attempt(registration, amount, now)
        if payment.status == PaymentStatus.OPEN:
            return payment
    return _create_session(payment, registration, activity)


def _check_payable(registration: Registration, activity: Activity, now: dt.datetime) -> None:
    if activity.price <= 0 or paid_payment(registration) is not None:
        raise NothingToPay()
    if registration.status not in (Status.PENDING_PAYMENT, Status.EXPIRED):
        raise NothingToPay()
    if not registration.holds_places(now):
        raise HoldExpired()
    if any(p.status == PaymentStatus.PROCESSING for p in registration.payments.all()):
        raise PaymentProcessing()


def _reusable_attempt(
    registration: Registration, amount: Decimal, now: dt.datetime
) -> Payment | None:
    """An unsettled attempt for the same amount that the person can still use; others that
    can no longer be used are closed (an old amount, nearly expired, never answered)."""
    reusable = None
    unsettled = registration.payments.select_for_update().filter(
        status__in=[PaymentStatus.CREATED, PaymentStatus.OPEN]
    )
    for payment in unsettled.order_by("-attempt"):
        fresh = (
            payment.status == PaymentStatus.OPEN
            and payment.expires_at is not None
            and payment.expires_at > now + REUSE_MARGIN
        ) or (
            payment.status == PaymentStatus.CREATED
            and payment.created_at > now - CREATED_REUSE_WINDOW
        )
        if reusable is None and fresh and payment.amount == amount:
            reusable = payment
        else:
            _close_attempt(payment, "superseded by a new attempt", now)
    return reusable


def _new_attempt(registration: Registration, amount: Decimal, now: dt.datetime) -> Payment:
    last = registration.payments.order_by("-attempt").values_list("attempt", flat=True).first()
    payment = Payment(
        registration=registration,
        attempt=(last or 0) + 1,
        amount=amount,
        demo=settings.PAYMENTS_DEMO_MODE,
        # Random, not derived from ids: test and production databases share one Stripe account.
        idempotency_key=f"jubileum-checkout-{uuid.uuid4()}",
        expires_at=now + CHECKOUT_EXPIRY,
    )
    if payment.demo:
        session_id = f"cs_demo_{secrets.token_urlsafe(24)}"
        payment.checkout_session_id = session_id
        payment.checkout_url = reverse(
            "registrations:demo_payment", kwargs={"session_id": session_id}
        )
        payment.mark_open()
    payment.save()
    return payment


def _manage_url(registration: Registration) -> str:
    with translation.override(_language(registration.language)):
        path = reverse("registrations:manage", kwargs={"token": registration.manage_token})
    return settings.SITE_URL.rstrip("/") + path


def _language(code: str) -> str:
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _create_session(payment: Payment, registration: Registration, activity: Activity) -> Payment:
    """Ask Stripe for the session, outside any transaction (no lock waits on the network)."""
    manage_url = _manage_url(registration)
    try:
        session = stripe_gateway.create_checkout_session(
            title=activity.title,
            unit_amount_cents=to_cents(activity.price),
            quantity=registration.party_size,
            locale=_language(registration.language),
            client_reference_id=f"registration-{registration.pk}",
            metadata=payment.stripe_metadata(),
            customer_email=registration.email,
            success_url=f"{manage_url}?betaling=klaar",
            cancel_url=f"{manage_url}?betaling=afgebroken",
            expires_at=int(payment.expires_at.timestamp()),
            idempotency_key=payment.idempotency_key,
        )
    except stripe_gateway.StripeError as error:
        logger.warning(
            "Checkout Session for payment %s not created: %r", payment.pk, error, exc_info=True
        )
        _fail_created(payment.pk, f"session not created: {type(error).__name__}")
        raise PaymentUnavailable() from error
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        # Meanwhile a webhook may have found this attempt by its metadata and settled it, or a
        # concurrent click whose call failed may have marked it failed: the session exists all
        # the same, so it is recorded (and open, unless it was paid already).
        if payment.checkout_session_id is None:
            payment.checkout_session_id = session.id
            payment.checkout_url = session.url
            if payment.status in (PaymentStatus.CREATED, PaymentStatus.FAILED):
                payment.mark_open()
            payment.save()
    return payment


def _fail_created(payment_id: int, why: str) -> None:
    """An attempt that never got its session is failed (saved, so the history shows it)."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status == PaymentStatus.CREATED:
            payment.save(update_fields=[*payment.mark_failed(why), "updated_at"])


def cancel_payment(registration_id: int, *, now: dt.datetime | None = None) -> int:
    """The person gives up the payment under way; the places stay held until the hold ends
    (they may pay again, change the party size or cancel). Returns how many attempts closed."""
    now = now or timezone.now()
    with transaction.atomic():
        registration, _activity = lock_registration(registration_id)
        unsettled = registration.payments.select_for_update().filter(
            status__in=[PaymentStatus.CREATED, PaymentStatus.OPEN]
        )
        closed = 0
        for payment in unsettled:
            _close_attempt(payment, "given up by the attendee", now)
            closed += 1
    return closed


def close_attempts(registration: Registration, now: dt.datetime) -> None:
    """Close every unsettled attempt of a registration that no longer takes payment. Call with
    the registration locked."""
    unsettled = registration.payments.select_for_update().filter(
        status__in=Payment.UNSETTLED_STATUSES
    )
    for payment in unsettled:
        _close_attempt(payment, "registration no longer takes payment", now)


def _close_attempt(payment: Payment, why: str, now: dt.datetime) -> None:
    """Mark an attempt expired and, after the commit, close its Stripe session so it cannot be
    paid any more. Should it be paid all the same, the money handler refunds or admits it."""
    payment.save(update_fields=[*payment.mark_expired(why), "updated_at"])
    if payment.checkout_session_id and not payment.demo:
        payment_id = payment.pk
        transaction.on_commit(lambda: tasks.expire_checkout_session.enqueue(payment_id=payment_id))


# --- Events: the one entry point for Stripe, the demo page and reconciliation ------------------


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
            pk=int(payment_id), registration_id=int(registration_id)
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
        _request_refund(payment, Reason.DUPLICATE, now, mail="refunded")
        return "refunded: paid twice"
    if registration.status == Status.CONFIRMED:
        return "paid"
    attendable = activity.status == Activity.Status.PUBLISHED and not activity.is_past(now)
    if registration.status not in (Status.PENDING_PAYMENT, Status.EXPIRED) or not attendable:
        _request_refund(payment, Reason.NOT_ADMITTED, now, mail="refunded")
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
    _request_refund(payment, Reason.LATE_NO_PLACE, now, mail="late_payment_refunded")
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


def _charge_refunded(charge: dict[str, Any], now: dt.datetime) -> str:
    """A refund on the charge, ours or one made in Stripe's dashboard."""
    intent = _stripe_id(charge.get("payment_intent"))
    payment = Payment.objects.filter(payment_intent_id=intent).first() if intent else None
    if payment is None:
        return _unknown(charge)
    listed = (charge.get("refunds") or {}).get("data") or []
    refund_id = _stripe_id(listed[0]) if listed else ""
    total = _cents_to_euro(int(charge.get("amount_refunded") or 0))
    return refunds.record_refund(payment, total, refund_id, now)


def _unknown(obj: dict[str, Any]) -> str:
    logger.info("Stripe %s %s is not one of ours; ignored", obj.get("object"), obj.get("id"))
    return "ignored: unknown object"


_HANDLERS = {
    "checkout.session.completed": _session_completed,
    "checkout.session.async_payment_succeeded": _session_paid,
    "checkout.session.async_payment_failed": _session_failed,
    "checkout.session.expired": _session_expired,
    "charge.refunded": _charge_refunded,
}


# --- Refunds -----------------------------------------------------------------------------------


def _request_refund(payment: Payment, reason: str, now: dt.datetime, *, mail: str | None) -> bool:
    """Ask for the whole payment back, after the commit. Call with the registration and the
    payment locked. `mail` names the e-mail that tells the person (None: another e-mail, such
    as the cancellation, says so already)."""
    if payment.refund_requested_at is not None or not payment.is_paid:
        return False
    payment.save(update_fields=[*payment.request_refund(reason, now), "updated_at"])
    payment_id = payment.pk
    transaction.on_commit(lambda: tasks.refund_payment.enqueue(payment_id=payment_id))
    if mail:
        send_after_commit(payment.registration, mail)
    return True


def refund_paid(registration: Registration, reason: str, now: dt.datetime) -> bool:
    """Refund what a registration paid, when it is cancelled. Call with the registration locked.
    Unsettled attempts are closed so they cannot be paid any more."""
    close_attempts(registration, now)
    asked = False
    paid = registration.payments.select_for_update().filter(paid_at__isnull=False)
    for payment in paid:
        payment.registration = registration
        asked = _request_refund(payment, reason, now, mail=None) or asked
    return asked


def refund(payment_id: int, *, now: dt.datetime | None = None) -> Payment:
    """An organiser gives a payment back in full (the registration itself stays as it is)."""
    now = now or timezone.now()
    with transaction.atomic():
        payment, _registration, _activity = lock_payment(Payment.objects.get(pk=payment_id))
        if not payment.is_paid or payment.refunded_amount >= payment.amount:
            raise NotRefundable()
        _request_refund(payment, Reason.ORGANISER, now, mail="refunded")
    return payment


# --- Demo mode ---------------------------------------------------------------------------------


def demo_payment(session_id: str) -> Payment:
    """The demo attempt behind a demo page; only while demo mode is on."""
    if not settings.PAYMENTS_DEMO_MODE:
        raise UnknownPayment()
    payment = (
        Payment.objects.select_related("registration__activity__programme")
        .filter(checkout_session_id=session_id, demo=True)
        .first()
    )
    if payment is None:
        raise UnknownPayment()
    return payment


def demo_event(payment: Payment, outcome: str, *, now: dt.datetime | None = None) -> dict:
    """The event Stripe would send for this outcome, in the shape of a real one."""
    now = now or timezone.now()
    paid = outcome == "paid"
    session = {
        "id": payment.checkout_session_id,
        "object": "checkout.session",
        "amount_total": to_cents(payment.amount),
        "currency": "eur",
        "client_reference_id": f"registration-{payment.registration_id}",
        "metadata": payment.stripe_metadata(),
        "mode": "payment",
        "payment_intent": f"pi_demo_{payment.pk}" if paid else None,
        "payment_status": "paid" if paid else "unpaid",
        "status": {"paid": "complete", "expired": "expired"}.get(outcome, "open"),
        "livemode": False,
    }
    return {
        "id": f"evt_demo_{uuid.uuid4().hex}",
        "object": "event",
        "type": DEMO_OUTCOMES[outcome],
        "created": int(now.timestamp()),
        "livemode": False,
        "data": {"object": session},
    }


def complete_demo_payment(session_id: str, outcome: str) -> Payment:
    """A button on the demo page: the same handling as Stripe's webhook, minus the signature."""
    if outcome not in DEMO_OUTCOMES:
        raise ValueError(outcome)
    payment = demo_payment(session_id)
    process_event(demo_event(payment, outcome))
    return Payment.objects.select_related("registration").get(pk=payment.pk)


# --- Reconciliation ----------------------------------------------------------------------------


def apply_session(session: dict[str, Any], *, now: dt.datetime | None = None) -> str | None:
    """Bring our attempt in line with a Checkout Session as Stripe reports it now."""
    now = now or timezone.now()
    status = session.get("status")
    if status == "complete":
        return _session_completed(session, now)
    if status == "expired":
        return _session_expired(session, now)
    return None


def reconcile(*, now: dt.datetime | None = None) -> list[str]:
    """Ask Stripe about every attempt still unsettled here (a webhook that never came) and
    about refunds not yet carried out; returns a line for each change."""
    now = now or timezone.now()
    changes: list[str] = []
    unsettled = Payment.objects.filter(
        demo=False, status__in=Payment.UNSETTLED_STATUSES
    ).select_related("registration")
    for payment in unsettled.order_by("pk"):
        before = (payment.status, payment.registration.status)
        if not payment.checkout_session_id:
            if payment.created_at < now - CREATED_REUSE_WINDOW:
                _fail_created(payment.pk, "session never created")
                changes.append(_change_line(payment, before))
            continue
        try:
            session = stripe_gateway.retrieve_checkout_session(payment.checkout_session_id)
        except stripe_gateway.StripeError as error:
            changes.append(f"payment {payment.pk}: Stripe did not answer ({type(error).__name__})")
            continue
        apply_session(session, now=now)
        changes.append(_change_line(payment, before))
    to_refund = Payment.objects.filter(
        demo=False, paid_at__isnull=False, refund_requested_at__isnull=False
    ).exclude(status=PaymentStatus.REFUNDED)
    for payment in to_refund.select_related("registration").order_by("pk"):
        before = (payment.status, payment.registration.status)
        try:
            refunds.execute_refund(payment.pk, now=now)
        except stripe_gateway.StripeError as error:
            changes.append(
                f"payment {payment.pk}: refund not made, Stripe did not answer "
                f"({type(error).__name__})"
            )
            continue
        changes.append(_change_line(payment, before))
    return [line for line in changes if line]


def _change_line(payment: Payment, before: tuple[str, str]) -> str:
    now_payment = Payment.objects.select_related("registration").get(pk=payment.pk)
    after = (now_payment.status, now_payment.registration.status)
    if after == before:
        return ""
    return (
        f"payment {payment.pk} (registration {payment.registration_id}): "
        f"payment {before[0]} -> {after[0]}, registration {before[1]} -> {after[1]}"
    )
