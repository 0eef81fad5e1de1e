"""Paying for a registration, and asking for the money back.

A paid registration is `pending_payment` with places held until `hold_expires_at`. Paying is a
Checkout Session per attempt (`Payment`), each with its own idempotency key; a second click on
"Betalen" while a session is open returns that session. What Stripe then reports is handled in
`stripe_events`; without Stripe keys a page of ours stands in for Checkout (`demo`); and
`reconcile` asks Stripe about whatever a missed webhook left open.

Refunds are asked for here, inside the transaction that decides them, and carried out after
the commit by a task (`tasks.refund_payment`, which calls `refunds`): Stripe is slow and may be
down, and the task retries.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from events.models import Activity
from jubileum.lib.money import CENT, to_cents
from registrations import tasks
from registrations.capacity import PAYMENT_HOLD
from registrations.errors import RegistrationError
from registrations.locking import lock_activity, lock_payment, lock_registration
from registrations.models import Payment, Registration
from registrations.notify import send_after_commit
from registrations.payments import gateway as stripe_gateway

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
# given up after this long (`reconcile`).
CREATED_REUSE_WINDOW = dt.timedelta(minutes=10)
# Stripe refuses a session that lives less than 30 minutes by its clock. An unanswered attempt
# is asked again with its own idempotency key only while its expiry still clears that (a reused
# key must come with the same parameters, and Stripe refuses a changed one); later a new attempt
# with a fresh expiry and a new key takes its place.
STRIPE_MINIMUM_EXPIRY = dt.timedelta(minutes=30)


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


class PaymentRefused(PaymentError):
    """Stripe refused our request: our mistake (a bad parameter, a wrong key), not an outage."""

    code = "payment_refused"
    status = 502
    message = _(
        "Betalen lukt nu niet door een fout bij ons; de organisatie is ingelicht. Je plaatsen "
        "blijven vastgehouden; probeer het later opnieuw of neem contact op met de organisatie."
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


def unmatched_payments(registration: Registration) -> list[Payment]:
    """Money that came in for this registration as it was not asked for, being refunded."""
    return [payment for payment in registration.payments.all() if payment.is_unmatched]


def latest_attempt(registration: Registration) -> Payment | None:
    attempts = [payment for payment in registration.payments.all() if not payment.is_unmatched]
    return attempts[-1] if attempts else None


def payment_of(registration: Registration) -> Payment | None:
    """The payment to show for a registration: the paid one, else the latest attempt (money
    that settles nothing is shown apart: `unmatched_payments`).

    Reads `registration.payments.all()`, so a list page can prefetch them."""
    return registration.paid_payment() or latest_attempt(registration)


# --- Paying ------------------------------------------------------------------------------------


def start_payment(registration_id: int, *, now: dt.datetime | None = None) -> Payment:
    """The payment attempt to send the person to: the open one, or a new Checkout Session.

    The hold is not extended: the person may try again until it lapses. When Stripe cannot be
    reached (`PaymentUnavailable`) or refuses the request (`PaymentRefused`) the attempt is
    marked failed and the error raised; nothing else changes.
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
    if activity.price <= 0 or registration.paid_payment() is not None:
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
            and payment.expires_at is not None
            and payment.expires_at > now + STRIPE_MINIMUM_EXPIRY
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


def return_url(payment: Payment, language: str, outcome: str) -> str:
    """Where Stripe sends the person back to: names the attempt and nothing more. Whatever
    passes through Stripe can be read in its dashboard, so the manage token never does; the
    return view sends on only the browser that started the payment (`views.payment_return`)."""
    with translation.override(_language(language)):
        path = reverse("registrations:payment_return", kwargs={"public_id": payment.public_id})
    return f"{settings.SITE_URL.rstrip('/')}{path}?betaling={outcome}"


def _language(code: str) -> str:
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _create_session(payment: Payment, registration: Registration, activity: Activity) -> Payment:
    """Ask Stripe for the session, outside any transaction (no lock waits on the network).

    An outage (no connection, a 5xx, the rate limit) raises `PaymentUnavailable`: try again in
    a while. A refusal (4xx: a parameter, the keys, the idempotency key) is our mistake, logged
    as an error with Stripe's request id, and raises `PaymentRefused`."""
    language = registration.language
    assert payment.expires_at is not None  # every attempt gets its expiry when it is made
    try:
        session = stripe_gateway.create_checkout_session(
            title=activity.title,
            unit_amount_cents=to_cents(activity.price),
            quantity=registration.party_size,
            locale=_language(registration.language),
            client_reference_id=f"registration-{registration.pk}",
            metadata=payment.stripe_metadata(),
            customer_email=registration.email,
            success_url=return_url(payment, language, "klaar"),
            cancel_url=return_url(payment, language, "afgebroken"),
            expires_at=int(payment.expires_at.timestamp()),
            idempotency_key=payment.idempotency_key,
        )
    except stripe_gateway.StripeError as error:
        fail_created(payment.pk, f"session not created: {type(error).__name__}")
        if stripe_gateway.is_refusal(error):
            logger.error(
                "Stripe refused the Checkout Session for payment %s (request %s): %s",
                payment.pk,
                error.request_id,
                error.user_message or error,
            )
            raise PaymentRefused() from error
        logger.warning(
            "Checkout Session for payment %s not created: %r", payment.pk, error, exc_info=True
        )
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


def fail_created(payment_id: int, why: str) -> None:
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


def close_attempts(
    registration: Registration,
    now: dt.datetime,
    why: str = "registration no longer takes payment",
) -> None:
    """Close every unsettled attempt of a registration that no longer takes payment, or whose
    amount no longer holds (the party size or the price changed: a session paid all the same
    counts only if it covers what is owed then, see `stripe_events`). Call with the
    registration locked."""
    unsettled = registration.payments.select_for_update().filter(
        status__in=Payment.UNSETTLED_STATUSES
    )
    for payment in unsettled:
        _close_attempt(payment, why, now)


def close_attempts_at_new_price(activity_id: int, *, now: dt.datetime | None = None) -> int:
    """An organiser changed an activity's price: what its parties are paying now is for the old
    one. Returns how many registrations had attempts closed."""
    now = now or timezone.now()
    with transaction.atomic():
        activity = lock_activity(activity_id)
        paying = Payment.objects.filter(
            registration__activity=activity, status__in=Payment.UNSETTLED_STATUSES
        ).values("registration_id")
        registrations = Registration.objects.select_for_update().filter(pk__in=paying)
        count = 0
        for registration in registrations.order_by("pk"):
            registration.activity = activity
            close_attempts(registration, now, "the activity's price changed")
            count += 1
    return count


def on_activity_price_changed(sender: type, activity: Activity, **kwargs: object) -> None:
    """Receives `events.signals.activity_price_changed`."""
    close_attempts_at_new_price(activity.pk)


def _close_attempt(payment: Payment, why: str, now: dt.datetime) -> None:
    """Mark an attempt expired and, after the commit, close its Stripe session so it cannot be
    paid any more. Should it be paid all the same, `stripe_events` refunds or admits it."""
    payment.save(update_fields=[*payment.mark_expired(why), "updated_at"])
    if payment.checkout_session_id and not payment.demo:
        payment_id = payment.pk
        transaction.on_commit(lambda: tasks.expire_checkout_session.enqueue(payment_id=payment_id))


# --- Refunds -----------------------------------------------------------------------------------


def request_refund(payment: Payment, reason: str, now: dt.datetime, *, mail: str | None) -> bool:
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
        asked = request_refund(payment, reason, now, mail=None) or asked
    return asked


def refund(payment_id: int, *, now: dt.datetime | None = None) -> Payment:
    """An organiser gives a payment back in full (the registration itself stays as it is)."""
    now = now or timezone.now()
    with transaction.atomic():
        payment, _registration, _activity = lock_payment(Payment.objects.get(pk=payment_id))
        if not payment.is_paid or payment.refunded_amount >= payment.amount:
            raise NotRefundable()
        request_refund(payment, Reason.ORGANISER, now, mail="refunded")
    return payment
