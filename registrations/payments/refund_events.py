"""Stripe's events about refunds, ours or made in Stripe's Dashboard, recorded per refund by
`refunds.record_refund` (registered in `stripe_events._HANDLERS`).

- `refund.created`, `refund.updated`, `refund.failed`, `charge.refund.updated`: one refund
  object, recorded by its id whatever order the events come in.
- `charge.refunded`: the charge; its refunds are recorded from the list it carries or, as the
  API versions since 2022-11-15 leave that list out, asked of Stripe when the charge names more
  refunded than is recorded here.

The payment is found by its PaymentIntent, which we learn when the money comes in. An event
about a payment of ours that is not paid here yet (its `checkout.session.completed` is still
on its way) must not be acknowledged: `EventTooEarly` makes the webhook answer 409 without
storing the event, so Stripe delivers it again later. "Ours" is what the metadata says:
the PaymentIntent's metadata (`Payment.stripe_metadata()`) is copied onto its charge, our own
refunds carry it too; a refund made in the Dashboard carries none and is found by its
PaymentIntent only.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings

from jubileum.lib.money import to_cents
from registrations.models import Payment
from registrations.payments import gateway as stripe_gateway
from registrations.payments import refunds

logger = logging.getLogger(__name__)


class EventTooEarly(Exception):
    """The event is about a payment of ours whose money has not been recorded here yet."""


def payment_for(obj: dict[str, Any]) -> Payment | None:
    """Our paid payment for a charge or refund; None: not ours. Raises `EventTooEarly` for one
    of ours that is not paid here yet."""
    intent = stripe_gateway.object_id(obj.get("payment_intent"))
    if intent:
        payment = Payment.objects.filter(payment_intent_id=intent).first()
        if payment is not None:
            return payment
    metadata = obj.get("metadata") or {}
    if metadata.get("installation_id") != settings.INSTALLATION_ID:
        return None
    payment_id = str(metadata.get("payment_id") or "")
    registration_id = str(metadata.get("registration_id") or "")
    if not (payment_id.isdigit() and registration_id.isdigit()):
        return None
    found = Payment.objects.filter(pk=int(payment_id), registration_id=int(registration_id)).first()
    if found is None:
        return None
    if not found.is_paid:
        raise EventTooEarly(
            f"{obj.get('object')} {obj.get('id')} of payment {found.pk}, not paid here yet"
        )
    return found


def refund_reported(refund: dict[str, Any], now: dt.datetime) -> str:
    payment = payment_for(refund)
    if payment is None:
        return _unknown(refund)
    return refunds.record_refund(payment, refund, now)


def charge_refunded(charge: dict[str, Any], now: dt.datetime) -> str:
    payment = payment_for(charge)
    if payment is None:
        return _unknown(charge)
    listed = (charge.get("refunds") or {}).get("data") or []
    if not listed:
        if int(charge.get("amount_refunded") or 0) == to_cents(payment.refunded_amount):
            return "unchanged: refunds known"
        # The charge no longer lists its refunds: ask Stripe which they are.
        listed = stripe_gateway.list_refunds(payment.payment_intent_id)
    outcomes = [refunds.record_refund(payment, refund, now) for refund in listed]
    return "; ".join(outcomes) or "unchanged: no refunds"


def _unknown(obj: dict[str, Any]) -> str:
    logger.info("Stripe %s %s is not one of ours; ignored", obj.get("object"), obj.get("id"))
    return "ignored: unknown object"


HANDLERS = {
    "charge.refunded": charge_refunded,
    "charge.refund.updated": refund_reported,
    "refund.created": refund_reported,
    "refund.updated": refund_reported,
    "refund.failed": refund_reported,
}
