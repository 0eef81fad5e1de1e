"""The contract suite's Stripe: localstripe with our extension (localstripe_ext.py) in a process
of its own on a free loopback port, started once for the suite and killed afterwards; each test
starts from an empty store and points the site at it with test keys.

The tests are marked `stripe_contract`: skipped with the reason where localstripe is not
installed, and on CI (or with JUBILEUM_REQUIRE_LOCALSTRIPE=1) a failure instead
(tests/conftest.py).
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

REPO = Path(__file__).resolve().parents[2]
SECRET_KEY = "sk_test_jubileum_contract"
WEBHOOK_SECRET = "whsec_test_jubileum_contract"
# The events the README tells operators to send to the webhook endpoint.
WEBHOOK_EVENTS = [
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "charge.refunded",
]
STARTUP_TIMEOUT = 20.0


@dataclass
class LocalStripe:
    url: str

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """localstripe's answer (JSON) to a request with our secret key; raises on an error."""
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body or {}).encode() if method != "GET" else None,
            method=method,
            headers={
                "Authorization": f"Bearer {SECRET_KEY}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
        return json.loads(text) if text.strip() else None

    def reset(self, webhook_url: str | None) -> None:
        """An empty store, and the one webhook endpoint at `webhook_url` (None: none at all,
        as when the endpoint was never set up or is unreachable)."""
        self.call("DELETE", "/_config/data")
        self.call(
            "POST",
            "/_config/webhooks/jubileum",
            {
                "url": webhook_url or "http://127.0.0.1:9/unused",
                "secret": WEBHOOK_SECRET,
                "events": WEBHOOK_EVENTS if webhook_url else [],
            },
        )

    def events(self, event_type: str) -> list[dict[str, Any]]:
        """Stripe's event list (https://docs.stripe.com/api/events/list), newest first."""
        listed = self.call("GET", f"/v1/events?type={event_type}&limit=100")["data"]
        return sorted(listed, key=lambda event: event["created"], reverse=True)


def _start(process: subprocess.Popen[str]) -> str:
    """The first line the server prints is its port; then wait until it answers."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], STARTUP_TIMEOUT)
    line = process.stdout.readline().strip() if ready else ""
    if not line.isdigit():
        raise RuntimeError(f"localstripe did not start (exit {process.poll()}): {line!r}")
    url = f"http://127.0.0.1:{line}"
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        try:
            LocalStripe(url).call("DELETE", "/_config/data")
            return url
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"localstripe did not answer at {url}") from None
            time.sleep(0.05)


@pytest.fixture(scope="session")
def localstripe_server() -> Iterator[LocalStripe]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.contract.localstripe_ext", "--host", "127.0.0.1"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        yield LocalStripe(_start(process))
    finally:
        process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture
def localstripe(localstripe_server, live_server, settings, transactional_db) -> LocalStripe:
    """Our site on the live server in real Stripe mode, talking to localstripe, whose webhook
    endpoint is the live server's."""
    settings.STRIPE_API_BASE = localstripe_server.url
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.PAYMENTS_DEMO_MODE = False
    settings.SITE_URL = live_server.url
    localstripe_server.reset(live_server.url + reverse("stripe_webhook"))
    return localstripe_server
