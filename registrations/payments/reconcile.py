"""`manage.py reconcile_payments`: bring our payments in line with what Stripe knows, for a
webhook that never came, a refund that was asked for but not carried out (or failed), and a
refund made or changed in Stripe's Dashboard that we did not hear of."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F
from django.utils import timezone

from registrations.errors import InvalidTransition
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


@dataclass
class Reconciliation:
    """What a run changed (a line each) and how much it compared with Stripe."""

    changes: list[str] = field(default_factory=list)
    payments: set[int] = field(default_factory=set)
    refunds_checked: int = 0

    @property
    def payments_checked(self) -> int:
        return len(self.payments)


def reconcile(*, now: dt.datetime | None = None) -> Reconciliation:
    """Ask Stripe about every attempt still unsettled here (a webhook that never came), compare
    the refunds of every paid payment with Stripe's, and ask for what our rules want refunded
    and no pending or succeeded refund covers (never yet made, or failed)."""
    now = now or timezone.now()
    result = Reconciliation()
    changes = result.changes
    unsettled = Payment.objects.filter(
        demo=False, status__in=Payment.UNSETTLED_STATUSES
    ).select_related("registration")
    for payment in unsettled.order_by("pk"):
        result.payments.add(payment.pk)
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
    paid = (
        Payment.objects.filter(demo=False, paid_at__isnull=False)
        .exclude(payment_intent_id="")
        .select_related("registration")
    )
    for payment in paid.order_by("pk"):
        result.payments.add(payment.pk)
        before = (payment.status, payment.registration.status)
        try:
            reported, recorded = refunds.sync_refunds(payment, now=now)
        except stripe_gateway.StripeError as error:
            changes.append(f"payment {payment.pk}: Stripe did not answer ({type(error).__name__})")
            continue
        except InvalidTransition:
            # Stripe reports more refunded than was paid here: a person has to look.
            changes.append(f"payment {payment.pk}: Stripe's refunds exceed the amount paid here")
            continue
        result.refunds_checked += reported
        changes += [f"payment {payment.pk}: {line}" for line in recorded]
        changes.append(_change_line(payment, before))
    for payment in paid.filter(refund_requested_amount__gt=F("refunded_amount")).order_by("pk"):
        before = (payment.status, payment.registration.status)
        try:
            made = refunds.execute_refund(payment.pk, now=now)
        except stripe_gateway.StripeError as error:
            changes.append(
                f"payment {payment.pk}: refund not made, Stripe did not answer "
                f"({type(error).__name__})"
            )
            continue
        changes.append(f"payment {payment.pk}: refund asked, {made}")
        changes.append(_change_line(payment, before))
    result.changes = [line for line in changes if line]
    return result


def _change_line(payment: Payment, before: tuple[str, str]) -> str:
    now_payment = Payment.objects.select_related("registration").get(pk=payment.pk)
    after = (now_payment.status, now_payment.registration.status)
    if after == before:
        return ""
    return (
        f"payment {payment.pk} (registration {payment.registration_id}): "
        f"payment {before[0]} -> {after[0]}, registration {before[1]} -> {after[1]}"
    )
