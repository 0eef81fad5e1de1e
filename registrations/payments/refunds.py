"""Carrying out the refunds that were asked for (`services.request_refund`) and recording every
refund as Stripe reports it.

A refund is asked for inside the transaction that decides it (`Payment.refund_requested_amount`)
and carried out after the commit by `tasks.refund_payment` (Stripe is slow and may be down; the
task retries), or by `reconcile_payments`. Never more is asked of Stripe than what our rules
asked for minus what is already on its way back or back (`Payment.refund_outstanding`).

Each refund is one `Refund` row, found again by Stripe's id: Stripe's answer, its events
(`refund.*`, `charge.refund.updated`, `charge.refunded`) and reconciling all record through
`record_refund`, in any order and any number of times. A refund made in Stripe's Dashboard is
recorded as it is, partial or whole, without anyone here having asked for it. The budget hears
the net: a refund that starts to count (pending or succeeded) is subtracted once
("refund:<id>"), one that stops counting (failed, canceled) is added back once
("refund-failed:<id>"), and the organisers are mailed about the failure.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from events.models import Activity
from jubileum.lib.money import from_cents, to_cents
from registrations.errors import InvalidTransition
from registrations.locking import lock_payment
from registrations.models import Payment, Refund, Registration
from registrations.payments import gateway as stripe_gateway
from registrations.signals import refund_failed, ticket_income_received, ticket_income_refunded

logger = logging.getLogger(__name__)


def idempotency_key(payment: Payment) -> str:
    """The key of the next refund request of a payment: the same while nothing changed (a retry
    of a request whose answer got lost gets the same refund back), a new one once a refund
    counts more or one has failed (the failed refund must not come back as the answer)."""
    key = f"{payment.idempotency_key}-refund-{to_cents(payment.refunded_amount)}"
    failed = payment.refunds.exclude(status__in=Refund.COUNTING_STATUSES).count()
    return f"{key}-retry-{failed}" if failed else key


def execute_refund(payment_id: int, *, now: dt.datetime | None = None) -> str:
    """Ask Stripe for what is still to be refunded of a payment; returns what was done."""
    now = now or timezone.now()
    payment = Payment.objects.get(pk=payment_id)
    remaining = payment.refund_outstanding
    if not payment.is_paid or remaining <= 0:
        return "nothing to refund"
    key = idempotency_key(payment)
    if payment.demo:
        answer: dict[str, Any] = {
            "id": f"re_demo_{payment.pk}_{to_cents(payment.refunded_amount)}",
            "amount": to_cents(remaining),
            "status": Refund.Status.SUCCEEDED,
        }
    else:
        if not payment.payment_intent_id:
            logger.error("Payment %s has no PaymentIntent to refund", payment.pk)
            return "no PaymentIntent"
        answer = stripe_gateway.create_refund(
            payment_intent=payment.payment_intent_id,
            amount_cents=to_cents(remaining),
            metadata={**payment.stripe_metadata(), "reason": payment.refund_reason},
            idempotency_key=key,
        )
    if answer.get("status") in (Refund.Status.FAILED, Refund.Status.CANCELED):
        logger.error("Refund %s of payment %s: %s", answer.get("id"), payment.pk, answer["status"])
    return record_refund(payment, answer, now, reason=payment.refund_reason, idempotency_key=key)


def record_refund(
    payment: Payment,
    refund: dict[str, Any],
    now: dt.datetime,
    *,
    reason: str = "",
    idempotency_key: str | None = None,
) -> str:
    """Record one refund of a paid payment as Stripe reports it (a refund object); returns what
    was done. `reason` and `idempotency_key` are ours, when we asked for it."""
    refund_id = str(refund.get("id") or "")
    status = str(refund.get("status") or "")
    if not refund_id or status not in Refund.Status.values:
        logger.warning(
            "Refund %r of payment %s in status %r ignored", refund_id, payment.pk, status
        )
        return f"ignored: refund {refund_id} in status {status!r}"
    failure = str(refund.get("failure_reason") or "")
    if not reason:
        # Our requests carry the reason in their metadata; a Dashboard refund has none.
        reason = str((refund.get("metadata") or {}).get("reason") or "")
    if reason not in Payment.RefundReason.values:
        reason = ""
    with transaction.atomic():
        payment, registration, activity = lock_payment(payment)
        if not payment.is_paid:
            return "ignored: not paid"
        amount = from_cents(int(refund.get("amount") or 0))
        row = Refund.objects.select_for_update().filter(stripe_refund_id=refund_id).first()
        if row is None:
            row = _adopt_unnamed(payment, refund_id, amount)
        if row is None:
            row = Refund(
                payment=payment,
                stripe_refund_id=refund_id,
                amount=amount,
                status=status,
                reason=reason,
                failure_reason=""
                if status in Refund.COUNTING_STATUSES
                else (failure or status)[:200],
                idempotency_key=idempotency_key,
            )
            row.save()
            was_counting, outcome = False, f"refund {refund_id} recorded: {status}"
        elif row.payment_id != payment.pk:
            logger.error(
                "Refund %s is of payment %s, not %s", refund_id, row.payment_id, payment.pk
            )
            return "ignored: refund of another payment"
        else:
            was_counting, before = row.counts, row.status
            try:
                fields = row.follow(status, failure)
            except InvalidTransition:
                # An older report than the one recorded (events come in any order).
                return f"unchanged: refund {refund_id} is {row.status}"
            if not fields:
                return "unchanged: refund known"
            row.save(update_fields=[*fields, "updated_at"])
            outcome = f"refund {refund_id}: {before} -> {status}"
        refunds = list(payment.refunds.all())
        payment.save(update_fields=[*payment.settle_refunds(refunds, now), "updated_at"])
        _tell_budget(row, was_counting, registration, activity, now)
        if not row.counts:
            # Failed or canceled just now (or first heard of that way): the organisers hear it.
            refund_failed.send(sender=Refund, refund_id=row.pk)
    return outcome


def _adopt_unnamed(payment: Payment, refund_id: str, amount: Decimal) -> Refund | None:
    """A refund recorded before refunds were kept per refund (migration 0010) may lack Stripe's
    id: the first report of the same amount names it, so it is not counted twice."""
    row = (
        payment.refunds.select_for_update()
        .filter(stripe_refund_id__isnull=True, amount=amount)
        .order_by("pk")
        .first()
    )
    if row is not None:
        row.stripe_refund_id = refund_id
        row.save(update_fields=["stripe_refund_id", "updated_at"])
    return row


def _tell_budget(
    row: Refund,
    was_counting: bool,
    registration: Registration,
    activity: Activity,
    now: dt.datetime,
) -> None:
    """The net ticket income: a refund that starts counting is subtracted, one that stops is
    added back; each once, by its source."""
    if row.counts == was_counting:
        return
    signal, source, what = (
        (ticket_income_refunded, f"refund:{row.stripe_refund_id}", "terugbetaling")
        if row.counts
        else (
            ticket_income_received,
            f"refund-failed:{row.stripe_refund_id}",
            "terugbetaling mislukt",
        )
    )
    signal.send(
        sender=Payment,
        activity=activity,
        amount=row.amount,
        source=source,
        date=timezone.localdate(now),
        description=f"{activity.title}: {what} (aanmelding {registration.pk})",
    )


def sync_refunds(payment: Payment, *, now: dt.datetime | None = None) -> tuple[int, list[str]]:
    """Record every refund Stripe knows of a payment's PaymentIntent; returns how many Stripe
    knows and what changed here."""
    now = now or timezone.now()
    reported = stripe_gateway.list_refunds(payment.payment_intent_id)
    outcomes = [record_refund(payment, refund, now) for refund in reported]
    return len(reported), [o for o in outcomes if not o.startswith(("unchanged", "ignored"))]
