"""The whole door check-in in a real browser: Chromium with a fake camera that plays a video of a
real ticket QR. The page decodes it and shows green, the second scan shows orange "al binnen";
offline a second ticket is still checked locally against the manifest and queued, and the queue
reaches the server once the browser is online again.

The video is written frame by frame in Y4M from the ticket's QR PNG (tests/e2e/camera.py).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from registrations.checkin import devices
from registrations.checkin.services import checked_in_of
from tests.e2e.camera import ticket_image, write_y4m

pytestmark = pytest.mark.browser

TOKEN_KEY = "jubileum.scanner.token"


def test_scan_green_then_orange_then_offline_and_sync(
    camera_browser, live_server, programme, make_activity, make_registration
):
    cache.clear()  # rate limits live in the cache
    activity = make_activity(
        title="Open dag", slug="open-dag", starts_at=timezone.now() + dt.timedelta(minutes=30)
    )
    first = make_registration(activity=activity, contact_name="Familie Jansen", party_size=4)
    second = make_registration(activity=activity, contact_name="Familie Bakker", party_size=2)
    device = devices.create_device(programme, [activity.pk], name="Ingang Noord", with_token=True)
    video, launch = camera_browser
    write_y4m(video, ticket_image(first.ticket_code))

    browser = launch()
    origin = urlsplit(live_server.url)
    foreign: list[str] = []

    def guard(route) -> None:
        url = urlsplit(route.request.url)
        if url.scheme in ("data", "blob") or url.netloc == origin.netloc:
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    try:
        context = browser.new_context(
            base_url=live_server.url,
            locale="nl-NL",
            timezone_id="Europe/Amsterdam",
            viewport={"width": 390, "height": 844},
            service_workers="allow",
        )
        context.route("**/*", guard)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

        # A paired phone: the token in storage (pairing itself is the back end's test).
        page.goto("/scan/")
        page.evaluate("([k, v]) => localStorage.setItem(k, v)", [TOKEN_KEY, device.token])
        page.reload()
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=10_000)

        result = page.locator("#result")
        expect(page.locator("#net-state")).to_have_text("Online")
        expect(result).to_have_attribute("data-result", "ok", timeout=15_000)
        expect(result).to_contain_text("Welkom — 4 personen")
        expect(result).to_contain_text("Fam")
        expect(page.locator("#announcer")).to_contain_text("Welkom — 4 personen")
        # The verdict came from the manifest; the server agreed in the background.
        expect(result).to_have_attribute("data-confirmed", "server")
        expect(result).not_to_contain_text("Server zegt")
        # Decoded in a Worker, not on the page's own thread.
        expect(page.locator("html")).to_have_attribute("data-decoder", "worker")
        assert checked_in_of(first.pk) == 4

        # The same ticket typed in again: orange, from the manifest as the server keeps it.
        code = page.get_by_label("Code (handscanner of typen)")
        code.fill(f"JUB1:{first.ticket_code}")
        code.press("Enter")
        expect(result).to_have_attribute("data-result", "already_checked_in")
        expect(result).to_have_class("result result--warn")
        expect(result).to_have_attribute("data-confirmed", "server")
        expect(result).to_contain_text("al binnen om")
        expect(result).to_contain_text("Ingang Noord")
        expect(page.locator("#counts")).to_contain_text("4 ingecheckt / 6 verwacht")
        assert checked_in_of(first.pk) == 4

        # Offline: the camera now shows the second ticket; the page itself comes from the
        # service worker, the ticket is checked against the manifest in IndexedDB and queued.
        # (The camera is off while the video is rewritten: the page would read it half-way.)
        context.set_offline(True)
        page.goto("about:blank")
        write_y4m(video, ticket_image(second.ticket_code))
        page.goto("/scan/")
        expect(page.locator("#net-state")).to_have_text("Offline")
        expect(result).to_have_attribute("data-result", "ok", timeout=15_000)
        expect(result).to_contain_text("Welkom — 2 personen")
        expect(result).to_contain_text("Offline gecontroleerd")
        expect(result).to_have_attribute("data-confirmed", "queued")
        expect(page.locator("#queue-state")).to_have_text("1 scan wacht op verzenden")
        assert checked_in_of(second.pk) == 0

        # Online again: the queue is sent.
        context.set_offline(False)
        expect(page.locator("#queue-state")).to_have_text("Alle scans verstuurd", timeout=10_000)
        assert checked_in_of(second.pk) == 2
        # A hardware scanner types any other QR text: red, and nothing is sent to the server.
        redeemed: list[str] = []
        page.on("request", lambda r: redeemed.append(r.url) if "redeem" in r.url else None)
        page.get_by_label("Code (handscanner of typen)").fill("https://example.org/<b>x</b>")
        page.get_by_label("Code (handscanner of typen)").press("Enter")
        expect(result).to_have_attribute("data-result", "not_ours")
        expect(result).to_contain_text("Dit is geen toegangsbewijs van deze site")
        assert redeemed == []

        # A walk-in is registered and admitted in one step.
        page.get_by_label("Naam", exact=True).fill("Buurman <script>")
        page.get_by_label("Aantal personen").fill("1")
        page.get_by_role("button", name="Aanmelden en binnenlaten").click()
        expect(result).to_contain_text("Welkom — 1 persoon")
        assert activity.registrations.count() == 3

        # Name search shows the match only, with its party size.
        page.get_by_label("Naam (minstens 3 letters)").fill("Bakker")
        page.get_by_role("button", name="Zoeken", exact=True).click()
        hits = page.locator("#search-results li")
        expect(hits).to_have_count(1)
        expect(hits).to_contain_text("2 pers.")
        assert foreign == []
        assert not [e for e in errors if "Failed to fetch" not in e and "ERR_INTERNET" not in e]
    finally:
        browser.close()
