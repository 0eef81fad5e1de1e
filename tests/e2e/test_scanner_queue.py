"""The door at its busiest, in a real browser: a brisk queue read without a miss, a verdict that
never waits for the network, and the server still the judge.

- A queue in front of a 720p camera (a ticket in view for 1.2 s every 1.5 s): every ticket is
  read once, in the one pass of the video the test watches; the camera keeps decoding while a
  result shows, a new code replaces the panel at once, a code held in view is read once.
- The network stalls (the API never answers): the verdict from the manifest shows at once, the
  scan is queued after the redeem call's timeout, and sent when the network is back.
- The server knows better (the party cancelled after the manifest was loaded): its verdict
  replaces the scanner's, clearly, and the manifest learns it.
- Decoding is cheap: two small frames a second with nothing in view, and where a browser has
  no Worker, the page decodes on its own thread.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import time

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, Route, expect

from registrations.checkin import devices
from registrations.checkin.services import checked_in_of
from registrations.models import ScanLog
from tests.e2e.camera import ticket_image, write_queue_y4m, write_y4m
from tests.e2e.test_scanner_phone import assert_result_in_view, open_phone

pytestmark = pytest.mark.browser

QUEUE = 12  # tickets; bench/scanner_field.py runs the full 42
API = re.compile(r"/api/v1/")
PHONE = (390, 844)


def type_code(page: Page, code: str) -> None:
    field = page.get_by_label("Code (handscanner of typen)")
    field.fill(f"JUB1:{code}")
    field.press("Enter")


def record_panel(page: Page) -> None:
    """Keep every (result, confirmed) the panel shows in window.panelSeen."""
    page.evaluate(
        """() => {
            window.panelSeen = [];
            const panel = document.getElementById("result");
            new MutationObserver(() => window.panelSeen.push(
                [panel.dataset.result, panel.dataset.confirmed]
            )).observe(panel, {attributes: true, attributeFilter: ["data-confirmed"]});
        }"""
    )


def test_a_brisk_queue_is_read_without_a_miss(
    camera_browser, live_server, programme, make_activity, make_registration
):
    activity = make_activity(
        title="Open dag", slug="open-dag", starts_at=timezone.now() + dt.timedelta(minutes=30)
    )
    parties = [
        make_registration(activity=activity, contact_name=f"Familie {n}", party_size=1 + n % 3)
        for n in range(QUEUE)
    ]
    cache.clear()  # rate limits live in the cache
    device = devices.create_device(programme, [activity.pk], name="Ingang", with_token=True)
    assert device.token is not None
    browser, _context, page, video = open_phone(camera_browser, live_server, device.token, PHONE)
    try:
        redeemed: list[str] = []
        page.on(
            "request",
            lambda r: (
                redeemed.append(json.loads(r.post_data or "{}").get("code", ""))
                if r.url.endswith("/checkin/redeem")
                else None
            ),
        )
        page.goto("about:blank")
        last_out = write_queue_y4m(video, [ticket_image(p.ticket_code) for p in parties])
        page.goto("/scan/")
        # Chromium plays the video at its own pace (not quite real time) and loops it: one pass
        # ends when the first ticket comes round again. A ticket missed in the first pass would
        # only be read after that.
        first = parties[0].ticket_code
        deadline = time.monotonic() + last_out * 1.5 + 20
        while redeemed.count(first) < 2 and time.monotonic() < deadline:
            page.wait_for_timeout(250)
        assert redeemed.count(first) == 2, redeemed
        one_pass = redeemed[: redeemed.index(first, 1)]
        # Every ticket once, in the order of the queue.
        assert one_pass == [p.ticket_code for p in parties]
        expect(page.locator("#result")).to_have_attribute("data-confirmed", "server")
        for party in parties:
            assert checked_in_of(party.pk) == party.party_size, party
        assert ScanLog.objects.filter(device=device.device, result="ok").count() == QUEUE
    finally:
        browser.close()


def test_a_stalled_network_gets_the_local_verdict_at_once_and_the_scan_queued(
    camera_browser, live_server, door
):
    _activity, parties, token = door
    browser, context, page, _video = open_phone(camera_browser, live_server, token, PHONE)
    held: list[Route] = []
    try:
        record_panel(page)
        context.route(API, lambda route: held.append(route))  # stalled: no answer, no error
        typed = time.monotonic()
        type_code(page, parties["Jansen"].ticket_code)
        result = page.locator("#result")
        expect(result).to_have_attribute("data-result", "ok", timeout=1500)
        expect(result).to_contain_text("Welkom — 4 personen")
        assert time.monotonic() - typed < 1.5
        # The redeem call gives up after its timeout: the admission is queued by its nonce.
        expect(result).to_have_attribute("data-confirmed", "queued", timeout=3000)
        expect(result).to_contain_text("Offline gecontroleerd")
        expect(page.locator("#queue-state")).to_have_text("1 scan wacht op verzenden")
        expect(page.locator("#net-state")).to_have_text("Offline")
        assert_result_in_view(page, "Welkom — 4 personen")
        assert checked_in_of(parties["Jansen"].pk) == 0

        # The same ticket again while stalled: the manifest already counts the party in.
        type_code(page, parties["Jansen"].ticket_code)
        expect(result).to_have_attribute("data-result", "already_checked_in")

        # The network is back: the stalled calls die first (unrouted, Playwright would send
        # them on), then the next poll gets through and sends the queue.
        for route in held:
            with contextlib.suppress(PlaywrightError):  # the page gave up on it already
                route.abort()
        context.unroute(API)
        expect(page.locator("#queue-state")).to_have_text("Alle scans verstuurd", timeout=15_000)
        assert checked_in_of(parties["Jansen"].pk) == 4
        assert list(ScanLog.objects.filter(result="ok").values_list("offline", flat=True)) == [True]
        seen = page.evaluate("window.panelSeen")
        assert seen[:2] == [["ok", "local"], ["ok", "queued"]], seen
    finally:
        browser.close()


def test_a_server_verdict_that_differs_replaces_the_panel(camera_browser, live_server, door):
    _activity, parties, token = door
    browser, _context, page, _video = open_phone(camera_browser, live_server, token, PHONE)
    try:
        # Cancelled after the phone loaded its manifest: the phone still holds it as valid.
        bakker = parties["Bakker"]
        bakker.save(update_fields=bakker.cancel(timezone.now()))
        record_panel(page)
        type_code(page, bakker.ticket_code)
        result = page.locator("#result")
        expect(result).to_have_attribute("data-confirmed", "server")
        expect(result).to_have_attribute("data-result", "cancelled")
        expect(result).to_have_class("result result--bad")
        expect(page.locator("#result-note")).to_have_text(
            "Server zegt: Deze aanmelding is geannuleerd"
        )
        assert_result_in_view(page, "Server zegt: Deze aanmelding is geannuleerd")
        assert page.evaluate("window.panelSeen") == [["ok", "local"], ["cancelled", "server"]]
        assert checked_in_of(bakker.pk) == 0

        # The manifest learnt it: the scanner itself now says cancelled, and the server agrees.
        page.evaluate("window.panelSeen = []")
        type_code(page, bakker.ticket_code)
        page.wait_for_function("() => window.panelSeen.length >= 2")
        seen = page.evaluate("window.panelSeen")
        assert seen == [["cancelled", "local"], ["cancelled", "server"]], seen
        expect(page.locator("#result-note")).to_be_hidden()
    finally:
        browser.close()


# Counts the frames the page sends its decoding Worker, and their width, before each is sent.
COUNT_DECODES = """
    window.decodes = [];
    const post = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function (message, transfer) {
        if (message && message.type === "decode") {
            window.decodes.push([performance.now(), message.bitmap.width]);
        }
        return post.call(this, message, transfer);
    };
"""


def test_decoding_slows_down_with_nothing_in_view_and_speeds_up_for_a_ticket(
    camera_browser, live_server, door
):
    _activity, parties, token = door
    browser, context, page, video = open_phone(camera_browser, live_server, token, PHONE)
    try:
        context.add_init_script(COUNT_DECODES)
        page.goto("about:blank")
        # 720p: nothing in view for 7 s, then a ticket.
        write_queue_y4m(video, [ticket_image(parties["Smit"].ticket_code)], lead_s=7.0)
        page.goto("/scan/")
        result = page.locator("#result")
        expect(result).to_have_attribute("data-result", "ok", timeout=20_000)
        page.wait_for_timeout(600)
        decodes = page.evaluate("window.decodes")
        start = decodes[0][0]
        early = [width for at, width in decodes if at - start < 3000]
        idle = [width for at, width in decodes if 4600 <= at - start < 6600]
        # Every frame at full size while something may be in view (the video plays ~3 frames a
        # second); then two small frames a second; full size again once the ticket was read.
        assert len(early) >= 5 and set(early) == {1280}, decodes
        assert 2 <= len(idle) <= 5 and max(idle) <= 640, decodes
        assert decodes[-1][1] == 1280, decodes
    finally:
        browser.close()


def test_without_a_worker_the_page_decodes_itself(camera_browser, live_server, door):
    _activity, parties, token = door
    browser, context, page, video = open_phone(camera_browser, live_server, token, PHONE)
    try:
        context.add_init_script("delete window.Worker")
        page.goto("about:blank")
        write_y4m(video, ticket_image(parties["Bakker"].ticket_code))
        page.goto("/scan/")
        result = page.locator("#result")
        expect(result).to_have_attribute("data-result", "ok", timeout=15_000)
        expect(result).to_have_attribute("data-confirmed", "server")
        expect(page.locator("html")).to_have_attribute("data-decoder", "page")
        assert checked_in_of(parties["Bakker"].pk) == 2
    finally:
        browser.close()
