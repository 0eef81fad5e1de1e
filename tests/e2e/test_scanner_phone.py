"""The door on a volunteer's phone: wherever on the page the volunteer is when an answer comes, the
big result is in view (below the sticky status bar) and read out by the live region.

On a phone the page scrolls down to the field being typed in (its keyboard open), or the
volunteer scrolls down to the name search or the walk-in form; the result shows at the top of the
page. Each path is checked on a 390x844 phone and on a short one (390x664): a typed code, a party
admitted from the name search, a walk-in, and a camera scan while the page is scrolled down.

Also here: the web app manifest as Chromium reads it, and the service worker's scope beside it.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Route, expect

from registrations.checkin.services import checked_in_of
from tests.e2e.camera import ticket_image, write_y4m
from tests.e2e.test_scanner import TOKEN_KEY

pytestmark = pytest.mark.browser

PHONES = [pytest.param((390, 844), id="390x844"), pytest.param((390, 664), id="390x664")]


def open_phone(camera_browser, live_server, token: str, size: tuple[int, int]):
    """A paired phone of this size whose camera sees nothing yet; (browser, context, page, video).
    The page's requests for the QR decoder's WebAssembly can be held (`hold_decoder`)."""
    video, launch = camera_browser
    write_y4m(video, None)
    browser = launch()
    context = browser.new_context(
        base_url=live_server.url,
        locale="nl-NL",
        timezone_id="Europe/Amsterdam",
        viewport={"width": size[0], "height": size[1]},
        service_workers="block",  # the routes below see every request
    )
    page = context.new_page()
    page.goto("/scan/")
    page.evaluate("([k, v]) => localStorage.setItem(k, v)", [TOKEN_KEY, token])
    page.reload()
    expect(page.locator("#scan")).to_be_visible()
    expect(page.locator("#counts")).not_to_be_empty()
    return browser, context, page, video


def scroll_to(page: Page, selector: str) -> None:
    """Where a phone puts the field being typed in: at the top of what it shows."""
    page.locator(selector).evaluate("(el) => el.scrollIntoView({block: 'start'})")
    assert page.evaluate("window.scrollY") > 0


def assert_result_in_view(page: Page, announced: str) -> None:
    result = page.locator("#result")
    expect(result).to_be_visible()
    box = result.bounding_box()
    bar = page.locator(".scanner-bar").bounding_box()
    height = page.viewport_size["height"]
    assert box is not None and bar is not None
    # Whole, and not behind the status bar that sticks to the top.
    assert box["y"] >= bar["y"] + bar["height"] - 1, (box, bar)
    assert box["y"] + box["height"] <= height + 1, (box, height)
    expect(page.locator("#announcer")).to_contain_text(announced)


@pytest.mark.parametrize("size", PHONES)
def test_typed_code_result_in_view_and_announced(camera_browser, live_server, door, size):
    _activity, parties, token = door
    browser, _context, page, _video = open_phone(camera_browser, live_server, token, size)
    try:
        scroll_to(page, "#code-form")
        code = page.get_by_label("Code (handscanner of typen)")
        code.fill(f"JUB1:{parties['Jansen'].ticket_code}")
        code.press("Enter")
        expect(page.locator("#result")).to_contain_text("Welkom — 4 personen")
        assert_result_in_view(page, "Welkom — 4 personen")
        expect(page.locator("#result")).to_have_attribute("data-confirmed", "server")
        # The field keeps its focus: a hand scanner types the next code straight in.
        expect(code).to_be_focused()
        assert checked_in_of(parties["Jansen"].pk) == 4
    finally:
        browser.close()


@pytest.mark.parametrize("size", PHONES)
def test_name_search_admit_result_in_view_and_announced(camera_browser, live_server, door, size):
    _activity, parties, token = door
    browser, _context, page, _video = open_phone(camera_browser, live_server, token, size)
    try:
        scroll_to(page, "#search-form")
        page.get_by_label("Naam (minstens 3 letters)").fill("Bakker")
        page.get_by_role("button", name="Zoeken", exact=True).click()
        page.locator("#search-results").get_by_role("button", name="Binnenlaten").click()
        expect(page.locator("#result")).to_contain_text("Welkom — 2 personen")
        assert_result_in_view(page, "Welkom — 2 personen")
        assert checked_in_of(parties["Bakker"].pk) == 2
    finally:
        browser.close()


@pytest.mark.parametrize("size", PHONES)
def test_walk_in_result_in_view_and_announced(camera_browser, live_server, door, size):
    activity, _parties, token = door
    browser, _context, page, _video = open_phone(camera_browser, live_server, token, size)
    try:
        scroll_to(page, "#walkin-form")
        page.get_by_label("Naam", exact=True).fill("Buurvrouw")
        page.get_by_label("Aantal personen").fill("3")
        page.get_by_role("button", name="Aanmelden en binnenlaten").click()
        expect(page.locator("#result")).to_contain_text("Welkom — 3 personen")
        assert_result_in_view(page, "Welkom — 3 personen")
        assert activity.registrations.count() == 4
    finally:
        browser.close()


@pytest.mark.parametrize("size", PHONES)
def test_camera_scan_while_scrolled_down_result_in_view_and_announced(
    camera_browser, live_server, door, size
):
    _activity, parties, token = door
    browser, context, page, video = open_phone(camera_browser, live_server, token, size)
    held: list[Route] = []
    context.route("**/zxing_reader.wasm", lambda route: held.append(route))
    try:
        # The camera films a ticket, but the decoder waits until the volunteer has scrolled down
        # (to switch the sound on, say): the answer comes while the camera is off-screen.
        page.goto("about:blank")
        write_y4m(video, ticket_image(parties["Smit"].ticket_code))
        page.goto("/scan/")
        expect(page.locator("#scan")).to_be_visible()
        page.wait_for_function(
            "() => document.getElementById('scan-video').readyState >= 2", timeout=10_000
        )
        while not held:
            page.wait_for_timeout(50)
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        expect(page.locator("#scan-video")).not_to_be_in_viewport()
        held[0].continue_()
        expect(page.locator("#result")).to_contain_text("Welkom — 1 persoon", timeout=15_000)
        assert_result_in_view(page, "Welkom — 1 persoon")
        expect(page.locator("#result")).to_have_attribute("data-confirmed", "server")
        assert checked_in_of(parties["Smit"].pk) == 1
    finally:
        browser.close()


def test_chromium_reads_the_manifest_and_the_worker_controls_its_scope(camera_browser, live_server):
    """The manifest as the browser parses it (no errors, the fields an installed app needs), and
    the service worker still registered for the same scope."""
    _video, launch = camera_browser
    browser = launch()
    try:
        context = browser.new_context(base_url=live_server.url, service_workers="allow")
        page = context.new_page()
        page.goto("/scan/")
        scope = page.evaluate("async () => (await navigator.serviceWorker.ready).scope")
        assert scope == f"{live_server.url}/scan/"
        page.reload()
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")

        cdp = context.new_cdp_session(page)
        read = cdp.send("Page.getAppManifest")
        assert read["url"] == f"{live_server.url}/scan/manifest.webmanifest"
        assert read["errors"] == []
        manifest = read["manifest"]
        assert manifest["scope"] == manifest["startUrl"] == f"{live_server.url}/scan/"
        # Chromium 156 names its enum value ("kStandalone").
        assert manifest["display"].removeprefix("k") == "Standalone"
        assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
        for icon in manifest["icons"]:
            response = page.request.get(icon["url"])
            assert response.ok and response.headers["content-type"] == "image/png"
        # Installable but for the test's private browser context (no icon, scope or display error).
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        assert [error["errorId"] for error in errors] == ["in-incognito"]
    finally:
        browser.close()
