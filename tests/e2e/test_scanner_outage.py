"""A door scanner through a burst of 503s (the server's database gone for a moment): it stays
paired, checks tickets against the list it holds and queues them, and sends them as soon as the
server answers again. Only a 401 sends a phone back to pairing (test_scanner_pairing.py).

During the burst Playwright answers every API call with the server's own 503 (status,
Retry-After and body): this is the page's side of it. That the server answers 503, not 401,
when its database is really locked or unreachable is tests/faults/test_auth_database_locked.py.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import Page, Route, expect

from jubileum.lib.errors import HTTP_ERRORS, error_body
from jubileum.middleware import RETRY_AFTER_DATABASE_GONE
from registrations.checkin import devices
from registrations.checkin.services import checked_in_of
from registrations.models import ScanLog
from tests.e2e.camera import ticket_image, write_y4m
from tests.e2e.test_scanner import TOKEN_KEY

pytestmark = pytest.mark.browser

API = re.compile(r"/api/v1/")


def film(phone: Page, video, image) -> None:
    """Put the image in front of the phone's camera and open /scan/ again (Chromium reads the
    video file as it plays, so the camera is off while it is rewritten)."""
    phone.goto("about:blank")
    write_y4m(video, image)
    phone.goto("/scan/")


def test_a_burst_of_503s_leaves_the_phone_paired_and_its_scans_are_sent_afterwards(
    camera_browser, live_server, programme, make_activity, make_registration
):
    cache.clear()  # rate limits live in the cache
    activity = make_activity(
        title="Open dag", slug="open-dag", starts_at=timezone.now() + dt.timedelta(minutes=30)
    )
    jansen = make_registration(activity=activity, contact_name="Familie Jansen", party_size=4)
    bakker = make_registration(activity=activity, contact_name="Familie Bakker", party_size=2)
    device = devices.create_device(programme, [activity.pk], name="Ingang Noord", with_token=True)
    video, launch = camera_browser
    write_y4m(video, None)  # nothing in front of the camera yet

    code, message = HTTP_ERRORS[503]
    refused: list[str] = []

    def unavailable(route: Route) -> None:
        refused.append(route.request.url)
        route.fulfill(
            status=503,
            headers={"Retry-After": str(RETRY_AFTER_DATABASE_GONE)},
            content_type="application/json",
            body=json.dumps(error_body(code, message)),
        )

    browser = launch()
    try:
        context = browser.new_context(
            base_url=live_server.url,
            locale="nl-NL",
            timezone_id="Europe/Amsterdam",
            viewport={"width": 390, "height": 844},
            service_workers="allow",
        )
        phone = context.new_page()
        errors: list[str] = []
        phone.on("pageerror", lambda error: errors.append(str(error)))

        # A paired phone, its ticket list downloaded (before the counts are shown).
        phone.goto("/scan/")
        phone.evaluate("([k, v]) => localStorage.setItem(k, v)", [TOKEN_KEY, device.token])
        phone.reload()
        expect(phone.locator("#counts")).to_contain_text("0 ingecheckt / 6 verwacht")
        expect(phone.locator("#net-state")).to_have_text("Online")

        # The burst begins. A ticket typed in (a hardware scanner): the redeem meets a 503, so
        # the phone checks it against its list and queues it, and stays paired.
        context.route(API, unavailable)
        code_input = phone.get_by_label("Code (handscanner of typen)")
        code_input.fill(f"JUB1:{jansen.ticket_code}")
        code_input.press("Enter")
        result = phone.locator("#result")
        expect(result).to_have_attribute("data-result", "ok")
        expect(result).to_contain_text("Welkom — 4 personen")
        expect(result).to_contain_text("Offline gecontroleerd")
        expect(phone.locator("#net-state")).to_have_text("Offline")
        expect(phone.locator("#queue-state")).to_have_text("1 scan wacht op verzenden")
        assert any("/checkin/redeem" in url for url in refused)

        # Still in the burst, the page is opened again and the camera films the other ticket:
        # the phone starts paired, on the same activity, and admits from its list.
        film(phone, video, ticket_image(bakker.ticket_code))
        expect(result).to_have_attribute("data-result", "ok", timeout=15_000)
        expect(result).to_contain_text("Welkom — 2 personen")
        expect(result).to_contain_text("Offline gecontroleerd")
        expect(phone.locator("#queue-state")).to_have_text("2 scans wachten op verzenden")
        # Nothing more in front of the camera (another start in the burst). Its polls go on
        # meeting 503s, and the phone stays paired.
        film(phone, video, None)
        expect(phone.locator("#scan")).to_be_visible()
        with phone.expect_response(
            lambda response: "/checkin/counts" in response.url and response.status == 503,
            timeout=10_000,
        ):
            pass
        expect(phone.locator("#pair")).to_be_hidden()
        assert phone.evaluate("(k) => localStorage.getItem(k)", TOKEN_KEY) == device.token
        expect(phone.locator("#queue-state")).to_have_text("2 scans wachten op verzenden")
        assert checked_in_of(jansen.pk) == 0 and checked_in_of(bakker.pk) == 0

        # The server answers again: the next poll notices, and the queue is sent.
        context.unroute(API, unavailable)
        expect(phone.locator("#queue-state")).to_have_text("Alle scans verstuurd", timeout=15_000)
        expect(phone.locator("#net-state")).to_have_text("Online")
        assert checked_in_of(jansen.pk) == 4
        assert checked_in_of(bakker.pk) == 2
        logged = ScanLog.objects.filter(device=device.device).values_list("result", "offline")
        assert sorted(logged) == [("ok", True), ("ok", True)]
        expect(phone.locator("#counts")).to_contain_text("6 ingecheckt / 6 verwacht")
        assert errors == []
    finally:
        browser.close()
