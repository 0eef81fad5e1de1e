"""Stripe's webhook: the signed events that tell us a payment came in, failed, lapsed or was
refunded.

Nothing in a body counts until its `Stripe-Signature` checks out against the endpoint secret
(400 otherwise, nothing changed), nor when a signed event does not have the shape the handling
reads (400 too: a retry would not mend it). A verified event is handled once
(`stripe_events.process_event`);
a repeat is acknowledged with 200 and changes nothing. When handling fails (the database is
locked, say) the error propagates to a 500, so Stripe delivers the event again later; its id
is only stored together with what it changed. An event about a payment of ours that is not
paid here yet (a refund before its `checkout.session.completed`) gets a 409, unstored, for the
same reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from jubileum.lib.apitools import nul_paths
from registrations.payments import gateway as stripe_gateway
from registrations.payments import refund_events, stripe_events

logger = logging.getLogger(__name__)


def _optional(*types: type) -> Callable[[Any], bool]:
    # bool is an int to Python, never to Stripe: `"amount_total": true` is no amount.
    return lambda value: value is None or (isinstance(value, types) and not isinstance(value, bool))


def _stripe_id(value: Any) -> bool:
    """An id, or the expanded object with its id."""
    if isinstance(value, dict):
        return _optional(str)(value.get("id"))
    return _optional(str)(value)


def _cents(value: Any) -> bool:
    # At most what Payment's amount columns hold: 8 digits, 2 of them cents.
    return _optional(int)(value) and (value is None or 0 <= value < 10**8)


def _refund_list(value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, dict):
        return False
    listed = value.get("data")
    return listed is None or (isinstance(listed, list) and all(map(_stripe_id, listed)))


# The fields of the event's object that `stripe_events` reads, with what each may hold. An event
# type not listed is acknowledged and ignored, whatever its object holds.
_SESSION = {
    "id": _optional(str),
    "object": _optional(str),
    "payment_status": _optional(str),
    "amount_total": _cents,
    "payment_intent": _stripe_id,
    "metadata": _optional(dict),
}
_OBJECT_FIELDS: dict[str, dict[str, Callable[[Any], bool]]] = {
    "checkout.session.completed": _SESSION,
    "checkout.session.async_payment_succeeded": _SESSION,
    "checkout.session.async_payment_failed": _SESSION,
    "checkout.session.expired": _SESSION,
    "charge.refunded": {
        "id": _optional(str),
        "object": _optional(str),
        "payment_intent": _stripe_id,
        "amount_refunded": _cents,
        "refunds": _refund_list,
    },
}


def malformed(event: Any) -> str | None:
    """Why a verified event cannot be handled as Stripe's events are shaped, or None.

    Stripe signs what it sends, so a malformed event is a bug (ours or theirs) or a leaked
    secret; either way it is refused before anything is stored, not left to fail half-way
    through the handling as a 500 that Stripe would retry for days.
    """
    if not isinstance(event, dict):
        return "not an object"
    if not isinstance(event.get("id"), str) or not event["id"]:
        return "no id"
    if not isinstance(event.get("type"), str):
        return "no type"
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        return "data.object is not an object"
    if next(nul_paths(event), None) is not None:
        return "text with a NUL character"
    obj = data["object"]
    for field, valid in _OBJECT_FIELDS.get(event["type"], {}).items():
        if not valid(obj.get(field)):
            return f"data.object.{field} has the wrong type"
    return None


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    if settings.PAYMENTS_DEMO_MODE or not settings.STRIPE_WEBHOOK_SECRET:
        raise Http404
    try:
        event = stripe_gateway.verify_event(request.body, request.headers.get("Stripe-Signature"))
    except (stripe_gateway.SignatureError, ValueError) as error:
        logger.warning("Stripe webhook refused: %s", error)
        return JsonResponse({"error": "invalid signature or payload"}, status=400)
    problem = malformed(event)
    if problem is not None:
        logger.error("Stripe webhook refused a signed event: %s", problem)
        return JsonResponse({"error": f"malformed event: {problem}"}, status=400)
    try:
        outcome = stripe_events.process_event(event)
    except refund_events.EventTooEarly as error:
        # Not stored: Stripe delivers it again, by then after the payment it is about.
        logger.warning(
            "Stripe event %s (%s) too early: %s", event.get("id"), event.get("type"), error
        )
        return JsonResponse({"error": "too early", "detail": str(error)}, status=409)
    except Exception:
        logger.exception("Stripe event %s (%s) not handled", event.get("id"), event.get("type"))
        raise
    return JsonResponse({"received": True, "outcome": outcome})
