"""Demo mode (no Stripe keys): a page of our own stands in for Stripe's Checkout, and its
buttons send the event Stripe would have sent through the same handling as the webhook."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.utils import timezone

from jubileum.lib.money import to_cents
from registrations.models import Payment
from registrations.payments import services, stripe_events

DEMO_OUTCOMES = {
    "paid": "checkout.session.completed",
    "failed": "checkout.session.async_payment_failed",
    "expired": "checkout.session.expired",
}


def demo_payment(session_id: str) -> Payment:
    """The demo attempt behind a demo page; only while demo mode is on."""
    if not settings.PAYMENTS_DEMO_MODE:
        raise services.UnknownPayment()
    payment = (
        Payment.objects.select_related("registration__activity__programme")
        .filter(checkout_session_id=session_id, demo=True)
        .first()
    )
    if payment is None:
        raise services.UnknownPayment()
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
    stripe_events.process_event(demo_event(payment, outcome))
    return Payment.objects.select_related("registration").get(pk=payment.pk)
