"""Where the gateway sends its requests and which API version it pins (STRIPE_API_BASE,
STRIPE_API_VERSION)."""

from __future__ import annotations

import json

import pytest
import stripe

from registrations.payments import gateway
from tests.fixtures.stripe.helpers import checkout_session

pytest_plugins = ["tests.fixtures.stripe.helpers"]


class Recorder(stripe.HTTPClient):
    """Answers every request with a Checkout Session and keeps (method, url, headers)."""

    name = "recorder"

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[str, str, dict[str, str]]] = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        self.requests.append((method.upper(), url, dict(headers or {})))
        return json.dumps(checkout_session(id="cs_test_1")), 200, {}

    def close(self) -> None:
        pass


@pytest.fixture
def recorder(stripe_settings, monkeypatch) -> Recorder:
    client = Recorder()
    monkeypatch.setattr(gateway, "HTTP_CLIENT", client)
    return client


def test_requests_go_to_stripe_and_pin_the_sdks_version_by_default(recorder, settings):
    gateway.retrieve_checkout_session("cs_test_1")

    [(method, url, headers)] = recorder.requests
    assert (method, url) == ("GET", "https://api.stripe.com/v1/checkout/sessions/cs_test_1")
    assert headers["Stripe-Version"] == settings.STRIPE_API_VERSION == stripe.api_version


def test_requests_go_to_the_configured_base_with_the_configured_version(recorder, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:12111"
    settings.STRIPE_API_VERSION = "2026-09-30.clover"

    gateway.expire_checkout_session("cs_test_1")

    [(method, url, headers)] = recorder.requests
    assert (method, url) == ("POST", "http://127.0.0.1:12111/v1/checkout/sessions/cs_test_1/expire")
    assert headers["Stripe-Version"] == "2026-09-30.clover"
