"""Stripe's webhook: the signed events that tell us a payment came in, failed, lapsed or was
refunded.

Nothing in a body counts until its `Stripe-Signature` checks out against the endpoint secret
(400 otherwise, nothing changed). A verified event is handled once (`stripe_events.process_event`);
a repeat is acknowledged with 200 and changes nothing. When handling fails (the database is
locked, say) the error propagates to a 500, so Stripe delivers the event again later; its id
is only stored together with what it changed. An event about a payment of ours that is not
paid here yet (a refund before its `checkout.session.completed`) gets a 409, unstored, for the
same reason.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from registrations.payments import gateway as stripe_gateway
from registrations.payments import refund_events, stripe_events

logger = logging.getLogger(__name__)


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
