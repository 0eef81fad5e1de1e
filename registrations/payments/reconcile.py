"""`manage.py reconcile_payments`: bring our payments in line with what Stripe knows, for a
webhook that never came and a refund that was asked for but not carried out."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from registrations.models import Payment
from registrations.payments import gateway as stripe_gateway
from registrations.payments import refunds, services, stripe_events

# The event Stripe sends when a session ends the way it now stands.
SESSION_EVENTS = {"complete": "checkout.session.completed", "expired": "checkout.session.expired"}


def apply_session(session: dict[str, Any], *, now: dt.datetime | None = None) -> str | None:
    """Bring our attempt in line with a Checkout Session as Stripe reports it now, as the event
    a webhook would have brought (None: the session is still open)."""
    event_type = SESSION_EVENTS.get(str(session.get("status")))
    if event_type is None:
        return None
    return stripe_events.handle_event({"type": event_type, "data": {"object": session}}, now=now)


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
            if payment.created_at < now - services.CREATED_REUSE_WINDOW:
                services.fail_created(payment.pk, "session never created")
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
    ).exclude(status=Payment.Status.REFUNDED)
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
