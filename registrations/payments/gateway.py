"""The one module that talks to Stripe. Everything else passes and gets plain dicts.

Every call builds a `StripeClient` from the settings, so a test can answer Stripe locally by
setting `HTTP_CLIENT` to an SDK HTTP client of its own (or by patching a function here), or
point `STRIPE_API_BASE` at another Stripe-compatible server (tests/contract: localstripe). Calls
that create something carry an idempotency key in the request options: a retried request (the
SDK's own retries, our task retries, a second click) gets the first answer back instead of a
second session or a second refund.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import stripe
from django.conf import settings

# Tests set this to a `stripe.HTTPClient` that answers locally; None is the SDK's default.
HTTP_CLIENT: stripe.HTTPClient | None = None

# The SDK retries connection errors and 409/5xx answers itself, with the same idempotency key.
NETWORK_RETRIES = 2

# What a failed call raises: anything from the SDK (connection, API, rate limit, auth errors).
StripeError = stripe.StripeError
SignatureError = stripe.SignatureVerificationError
# Stripe answered and refused the request (4xx): our request or our keys are wrong, and asking
# again will not help. Everything else (no connection, a 5xx, the rate limit) is an outage.
REFUSALS: tuple[type[stripe.StripeError], ...] = (
    stripe.InvalidRequestError,
    stripe.CardError,
    stripe.AuthenticationError,
    stripe.PermissionError,
    stripe.IdempotencyError,
)

# iDEAL is how Dutch residents pay; card for everyone else. A filter on what Stripe offers, not
# a fixed list (16.x has no `payment_method_types` on create any more).
PAYMENT_METHODS = ["card", "ideal"]


def is_refusal(error: StripeError) -> bool:
    return isinstance(error, REFUSALS)


def live_mode() -> bool:
    """Whether the configured key moves real money: what every event we handle must say in
    its `livemode` (a test key's events, or the demo's, say false)."""
    key = settings.STRIPE_SECRET_KEY or ""
    return not settings.PAYMENTS_DEMO_MODE and key.startswith(("sk_live_", "rk_live_"))


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str


def object_id(value: Any) -> str:
    """An id from a field Stripe may send as an id or as an expanded object."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


def _client() -> stripe.StripeClient:
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        # Pinned, so the objects we get (and the events, for an endpoint set to the same
        # version) keep the shape this code reads whatever the account's default version is.
        stripe_version=settings.STRIPE_API_VERSION,
        base_addresses={"api": settings.STRIPE_API_BASE or stripe.DEFAULT_API_BASE},
        http_client=HTTP_CLIENT,
        max_network_retries=NETWORK_RETRIES,
    )


def _plain(obj: Any) -> dict[str, Any]:
    return obj.to_dict(recursive=True) if hasattr(obj, "to_dict") else dict(obj)


def create_checkout_session(
    *,
    title: str,
    unit_amount_cents: int,
    quantity: int,
    locale: str,
    client_reference_id: str,
    metadata: dict[str, str],
    customer_email: str,
    success_url: str,
    cancel_url: str,
    expires_at: int,
    idempotency_key: str,
) -> CheckoutSession:
    """A hosted Checkout page for one payment in EUR, by iDEAL or card."""
    session = _client().v1.checkout.sessions.create(
        {
            "mode": "payment",
            "allowed_payment_method_types": PAYMENT_METHODS,
            "line_items": [
                {
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": unit_amount_cents,
                        "product_data": {"name": title},
                    },
                    "quantity": quantity,
                }
            ],
            "locale": locale,
            "client_reference_id": client_reference_id,
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
            "customer_email": customer_email,
            "success_url": success_url,
            "cancel_url": cancel_url,
            "expires_at": expires_at,
        },
        options={"idempotency_key": idempotency_key},
    )
    return CheckoutSession(id=session.id, url=session.url or "")


def retrieve_checkout_session(session_id: str) -> dict[str, Any]:
    return _plain(_client().v1.checkout.sessions.retrieve(session_id))


def expire_checkout_session(session_id: str) -> dict[str, Any]:
    """Close an open session so it can no longer be paid."""
    return _plain(_client().v1.checkout.sessions.expire(session_id))


def create_refund(
    *, payment_intent: str, amount_cents: int, metadata: dict[str, str], idempotency_key: str
) -> dict[str, Any]:
    refund = _client().v1.refunds.create(
        {"payment_intent": payment_intent, "amount": amount_cents, "metadata": metadata},
        options={"idempotency_key": idempotency_key},
    )
    return _plain(refund)


def list_refunds(payment_intent: str) -> list[dict[str, Any]]:
    """Every refund of a PaymentIntent, whatever its status, oldest first."""
    page = _client().v1.refunds.list({"payment_intent": payment_intent, "limit": 100})
    return sorted(
        (_plain(refund) for refund in page.auto_paging_iter()),
        key=lambda refund: (refund.get("created") or 0, str(refund.get("id"))),
    )


def verify_event(payload: bytes, signature_header: str | None) -> Any:
    """The decoded JSON of a webhook body, once its `Stripe-Signature` proves it came from
    Stripe; whether it has an event's shape is the caller's to check.

    Raises `SignatureError` (bad, missing or stale signature) or ValueError (not UTF-8 or not
    JSON). Only the signature is checked here: stripe's `construct_event` would also build an
    Event, and fail with an AttributeError on signed JSON that is not an object."""
    text = payload.decode()
    stripe.WebhookSignature.verify_header(
        text, signature_header, settings.STRIPE_WEBHOOK_SECRET, stripe.Webhook.DEFAULT_TOLERANCE
    )
    return json.loads(text)
