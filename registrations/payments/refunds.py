"""Carrying out the refunds that were asked for (`services.request_refund`) and recording them.

A refund is asked for inside the transaction that decides it and carried out after the commit
by `tasks.refund_payment` (Stripe is slow and may be down; the task retries), or by
`reconcile_payments`. Stripe's answer and its `charge.refunded` event both record it, whichever
comes first; only the growth of the refunded total counts, so together they count once.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from jubileum.lib.money import to_cents
from registrations.locking import lock_payment
from registrations.models import Payment
from registrations.payments import gateway as stripe_gateway
from registrations.signals import ticket_income_refunded

logger = logging.getLogger(__name__)


def execute_refund(payment_id: int, *, now: dt.datetime | None = None) -> str:
    """Ask Stripe for what is still to be refunded of a payment; returns what was done."""
    now = now or timezone.now()
    payment = Payment.objects.get(pk=payment_id)
    if not payment.is_paid or payment.refund_requested_at is None:
        return "nothing to refund"
    remaining = payment.amount - payment.refunded_amount
    if remaining <= 0:
        return "refunded before"
    if payment.demo:
        refund_id = f"re_demo_{payment.pk}"
    else:
        if not payment.payment_intent_id:
            logger.error("Payment %s has no PaymentIntent to refund", payment.pk)
            return "no PaymentIntent"
        answer = stripe_gateway.create_refund(
            payment_intent=payment.payment_intent_id,
            amount_cents=to_cents(remaining),
            metadata=payment.stripe_metadata(),
            # Per amount already refunded: a retry of this refund is the same request.
            idempotency_key=f"{payment.idempotency_key}-refund-{to_cents(payment.refunded_amount)}",
        )
        refund_id = str(answer.get("id") or "")
        if answer.get("status") in ("failed", "canceled"):
            logger.error("Refund %s of payment %s: %s", refund_id, payment.pk, answer["status"])
            return f"refund {answer['status']}"
    return record_refund(payment, payment.refunded_amount + remaining, refund_id, now)


def record_refund(payment: Payment, total: Decimal, refund_id: str, now: dt.datetime) -> str:
    """Record that `total` of a payment has been refunded so far; only the growth is new income
    to subtract, so Stripe's answer and its `charge.refunded` event count once together."""
    with transaction.atomic():
        payment, registration, activity = lock_payment(payment)
        if not payment.is_paid:
            return "ignored: not paid"
        total = min(total, payment.amount)
        growth = total - payment.refunded_amount
        if growth <= 0:
            return "unchanged: refund known"
        payment.record_refund(total, refund_id, now)
        payment.save()
        ticket_income_refunded.send(
            sender=Payment,
            activity=activity,
            amount=growth,
            source=f"refund:{payment.pk}:{to_cents(total)}",
            date=timezone.localdate(now),
            description=f"{activity.title}: terugbetaling (aanmelding {registration.pk})",
        )
    return f"refunded {growth}"
