"""localstripe (a Stripe-compatible test server) with what it lacks for our payments, added to
its own aiohttp app: Checkout Sessions, a stand-in for the customer paying one, idempotent
requests, and the `checkout.session.*` and `charge.refunded` events, sent through localstripe's
own webhook mechanism (`webhooks.schedule_webhook`, signed with Stripe's scheme).

Test code only: `python -m tests.contract.localstripe_ext` binds a free loopback port, prints it
on the first line of stdout and serves until killed. Objects follow Stripe's documented shapes;
a Checkout Session starts from Stripe's own fixture (tests/fixtures/stripe/checkout_session.json).

Routes added (Stripe's own, unless marked test-only):
  POST /v1/checkout/sessions                 https://docs.stripe.com/api/checkout/sessions/create
  GET  /v1/checkout/sessions/{id}            https://docs.stripe.com/api/checkout/sessions/retrieve
  POST /v1/checkout/sessions/{id}/expire     https://docs.stripe.com/api/checkout/sessions/expire
  POST /_test/checkout/sessions/{id}/pay     test-only: the customer pays on the hosted page
  GET  /_test/events/{id}/deliveries         test-only: how each delivery of an event went
  POST /_test/events/{id}/resend             test-only: deliver an event again (answers once
                                             it is delivered)
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import stripe
from aiohttp import web
from localstripe import server, webhooks
from localstripe.errors import UserError
from localstripe.resources import (
    Charge,
    Event,
    PaymentIntent,
    PaymentMethod,
    Refund,
    Store,
    StripeObject,
    random_id,
)
from stripe.params.checkout import SessionCreateParams

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stripe"
# The version our requests pin (settings.STRIPE_API_VERSION) and so the webhook endpoint's:
# events carry it, as Stripe's do (https://docs.stripe.com/webhooks/versioning).
API_VERSION = stripe.api_version

# localstripe pickles its whole store to /tmp/localstripe.pickle on every write, a file shared
# by every localstripe on the machine; each test starts from an empty store anyway.
Store.dump_to_disk = lambda self: None

# Parameters the SDK's types know for a session create: Stripe refuses any other with
# "Received unknown parameter" (https://docs.stripe.com/api/errors).
SESSION_PARAMETERS = set(SessionCreateParams.__annotations__)
# https://docs.stripe.com/api/checkout/sessions/create#create_checkout_session-expires_at
MIN_LIFETIME, MAX_LIFETIME = 30 * 60, 24 * 60 * 60


def _error(status: int, message: str, **details: Any) -> UserError:
    return UserError(status, message, dict(details))


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _error(400, f"Invalid integer: {value}", param=name) from None


def _check_metadata(metadata: Any, name: str) -> dict[str, str]:
    """https://docs.stripe.com/api/metadata: at most 50 keys of up to 40 characters, values of
    up to 500."""
    if metadata in (None, ""):
        return {}
    if not isinstance(metadata, dict) or len(metadata) > 50:
        raise _error(400, "Invalid metadata", param=name)
    for key, value in metadata.items():
        if len(key) > 40 or len(str(value)) > 500:
            raise _error(400, f"Invalid metadata key or value: {key}", param=name)
    return {key: str(value) for key, value in metadata.items()}


def _event(event_type: str, obj: StripeObject) -> Event:
    """An event as Stripe sends it (https://docs.stripe.com/api/events/object), queued for
    every registered endpoint that takes its type."""
    event = Event(event_type, obj)
    event.api_version = API_VERSION
    event.pending_webhooks = 1
    event.request = {"id": None, "idempotency_key": None}
    webhooks.schedule_webhook(event)
    return event


class CheckoutSession(StripeObject):
    """https://docs.stripe.com/api/checkout/sessions/object, in `payment` mode."""

    object = "checkout.session"
    _id_prefix = "cs_test_"

    def __init__(self, **params: Any) -> None:
        unknown = sorted(set(params) - SESSION_PARAMETERS)
        if unknown:
            raise _error(400, f"Received unknown parameter: {unknown[0]}", param=unknown[0])
        if params.get("mode") != "payment":
            raise _error(400, "Only mode=payment is served here", param="mode")
        line_items = params.get("line_items")
        if not isinstance(line_items, list) or not line_items:
            raise _error(400, "line_items is required in payment mode", param="line_items")
        currencies, total = set(), 0
        for index, item in enumerate(line_items):
            price_data = item.get("price_data") or {}
            product = price_data.get("product_data") or {}
            if not price_data.get("currency") or not product.get("name"):
                raise _error(
                    400,
                    "price_data needs a currency and a product name",
                    param=f"line_items[{index}][price_data]",
                )
            amount = _int(price_data.get("unit_amount"), "unit_amount")
            quantity = _int(item.get("quantity"), "quantity")
            if amount < 0 or quantity < 1:
                raise _error(400, "Invalid amount or quantity", param=f"line_items[{index}]")
            currencies.add(str(price_data["currency"]).lower())
            total += amount * quantity
        if len(currencies) != 1:
            raise _error(400, "All line items must share one currency", param="line_items")
        now = int(time.time())
        expires_at = _int(params.get("expires_at", now + MAX_LIFETIME), "expires_at")
        if not now + MIN_LIFETIME <= expires_at <= now + MAX_LIFETIME:
            raise _error(
                400,
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from "
                "Checkout Session creation.",
                param="expires_at",
            )
        metadata = _check_metadata(params.get("metadata"), "metadata")
        intent_data = params.get("payment_intent_data") or {}
        self._intent_metadata = _check_metadata(
            intent_data.get("metadata"), "payment_intent_data[metadata]"
        )

        # All exceptions must be raised before this point (localstripe's rule: the object is
        # stored by the constructor below).
        super().__init__(id=self._id_prefix + random_id(58))
        session = json.loads((FIXTURES / "checkout_session.json").read_text())
        session.update(
            id=self.id,
            created=self.created,
            livemode=False,
            amount_subtotal=total,
            amount_total=total,
            currency=currencies.pop(),
            client_reference_id=params.get("client_reference_id"),
            customer=None,
            customer_details=None,
            customer_email=params.get("customer_email"),
            cancel_url=params.get("cancel_url"),
            success_url=params.get("success_url"),
            expires_at=expires_at,
            locale=params.get("locale"),
            metadata=metadata,
            mode="payment",
            # Since API version 2022-08-01 the PaymentIntent exists only once the customer
            # pays (https://docs.stripe.com/upgrades#2022-08-01).
            payment_intent=None,
            payment_method_types=params.get("allowed_payment_method_types") or ["card"],
            payment_status="unpaid",
            status="open",
            url=f"https://checkout.stripe.com/c/pay/{self.id}",
        )
        self._session = session

    def _export(self, expand: Any = None) -> dict[str, Any]:
        return copy.deepcopy(self._session)

    def _lapse_if_due(self) -> None:
        """Stripe expires an open session at `expires_at` and says so in an event."""
        if self._session["status"] == "open" and self._session["expires_at"] <= time.time():
            self._session.update(status="expired", url=None)
            _event("checkout.session.expired", self)

    @classmethod
    def _api_retrieve(cls, id: str) -> CheckoutSession:
        obj = super()._api_retrieve(id)
        assert isinstance(obj, CheckoutSession)
        obj._lapse_if_due()
        return obj

    @classmethod
    def _api_expire(cls, id: str, **params: Any) -> CheckoutSession:
        """https://docs.stripe.com/api/checkout/sessions/expire: only an open session."""
        obj = cls._api_retrieve(id)
        if obj._session["status"] != "open":
            raise _error(
                400,
                f'Only Checkout Sessions with a status in ["open"] can be expired. This '
                f'Checkout Session has a status of "{obj._session["status"]}".',
            )
        obj._session.update(status="expired", url=None)
        _event("checkout.session.expired", obj)
        return obj

    @classmethod
    def _api_pay(cls, id: str, card: str = "4242424242424242", **params: Any) -> CheckoutSession:
        """What Stripe does when the customer pays by card on the hosted page: a PaymentIntent
        confirmed with the card (a charge and its balance transaction, in localstripe's own
        store), the session complete and paid, then `checkout.session.completed`
        (https://docs.stripe.com/checkout/fulfillment)."""
        obj = cls._api_retrieve(id)
        session = obj._session
        if session["status"] != "open":
            raise _error(400, f"This Checkout Session is {session['status']}.")
        method = PaymentMethod(
            type="card",
            card={"number": card, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
            billing_details={"email": session["customer_email"]},
        )
        intent = PaymentIntent(
            amount=session["amount_total"],
            currency=session["currency"],
            payment_method=method.id,
            metadata=dict(obj._intent_metadata),
        )
        intent._confirm(on_failure_now=intent._report_failure)
        session.update(
            status="complete",
            payment_status="paid",
            payment_intent=intent.id,
            customer_details={
                "email": session["customer_email"],
                "name": None,
                "phone": None,
                "address": None,
                "tax_exempt": "none",
                "tax_ids": [],
            },
            url=None,
        )
        _event("checkout.session.completed", obj)
        return obj


def _charge_refunded(refund_id: str) -> None:
    """Stripe sends `charge.refunded` with the charge after every refund on it
    (https://docs.stripe.com/api/events/types#event_types-charge.refunded); localstripe sends
    none."""
    refund = Refund._api_retrieve(refund_id)
    _event("charge.refunded", Charge._api_retrieve(refund.charge))


# What each delivery of an event came to, one line per endpoint and attempt, by event id.
# localstripe's sender only logs it; the log lines are attributed to the event being sent.
_outcomes: dict[str, list[str]] = {}
_delivering: ContextVar[str | None] = ContextVar("delivering", default=None)
_send_webhook = webhooks._send_webhook


class _Outcomes(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        event_id = _delivering.get()
        if event_id is not None:
            _outcomes.setdefault(event_id, []).append(record.getMessage())


async def _send_and_record(event: Event) -> None:
    token = _delivering.set(event.id)
    try:
        await _send_webhook(event)
    finally:
        _delivering.reset(token)


async def _deliveries(request: web.Request) -> web.Response:
    """Test-only: how the deliveries of an event went so far (an empty list: none is done)."""
    event_id = request.match_info["id"]
    Event._api_retrieve(event_id)  # 404 for an unknown event
    return server.json_response({"deliveries": _outcomes.get(event_id, [])})


async def _resend(request: web.Request) -> web.Response:
    """Test-only: deliver an event again, as Stripe does when it retries or an operator clicks
    "Resend"; answers once it is delivered, with every delivery's outcome so far."""
    event = Event._api_retrieve(request.match_info["id"])
    await _send_and_record(event)
    return server.json_response({"deliveries": _outcomes.get(event.id, [])})


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# (method, path, key) -> (the request's body, the answer): Stripe replays the first answer to a
# request with the same Idempotency-Key for 24 hours (https://docs.stripe.com/api/idempotent_requests).
_answered: dict[tuple[str, str, str], tuple[bytes, web.Response]] = {}


@web.middleware
async def idempotency(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method == "DELETE" and request.path == "/_config/data":
        _answered.clear()
        _outcomes.clear()
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key:
        return await handler(request)
    body = await request.read()
    seen = _answered.get((request.method, request.path, key))
    if seen is not None:
        if seen[0] != body:
            raise _error(
                400,
                "Keys for idempotent requests can only be used with the same parameters they "
                "were first used with.",
                type="idempotency_error",
            )
        first = seen[1]
        return web.Response(
            body=first.body,
            status=first.status,
            content_type=first.content_type,
            headers={"Idempotent-Replayed": "true"},
        )
    response = await handler(request)
    if isinstance(response, web.Response) and response.status < 500:
        _answered[(request.method, request.path, key)] = (body, response)
    return response


@web.middleware
async def refund_events(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    if (
        request.method == "POST"
        and request.path == "/v1/refunds"
        and isinstance(response, web.Response)
        and response.status == 200
        and response.body is not None
    ):
        _charge_refunded(json.loads(bytes(response.body))["id"])
    return response


def extend(app: web.Application) -> web.Application:
    # Inside localstripe's own (errors, auth, store), so their answers are localstripe's too.
    app.middlewares.extend([idempotency, refund_events])
    for method, url, func in (
        ("POST", "/v1/checkout/sessions/{id}/expire", CheckoutSession._api_expire),
        ("POST", "/_test/checkout/sessions/{id}/pay", CheckoutSession._api_pay),
    ):
        app.router.add_route(method, url, server.api_extra(func, url))
    url = "/v1/checkout/sessions"
    app.router.add_route("POST", url, server.api_create(CheckoutSession, url))
    app.router.add_route("GET", url + "/{id}", server.api_retrieve(CheckoutSession, url))
    app.router.add_route("GET", "/_test/events/{id}/deliveries", _deliveries)
    app.router.add_route("POST", "/_test/events/{id}/resend", _resend)
    webhooks._send_webhook = _send_and_record
    sender_log = logging.getLogger("aiohttp.access")
    sender_log.setLevel(logging.INFO)
    sender_log.addHandler(_Outcomes())
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    print(sock.getsockname()[1], flush=True)
    # Nothing more on stdout: a pipe that nobody reads any further must never fill up.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    web.run_app(extend(server.app), sock=sock, print=None, access_log=None)


if __name__ == "__main__":
    main()
