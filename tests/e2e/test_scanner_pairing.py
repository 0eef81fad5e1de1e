"""Pairing a phone with a scanner, and losing it again, in real browsers.

An organiser (one browser) makes a scanner on the scanners page of the organiser area; the
volunteer's phone (another browser, with a fake camera) opens /scan/ and pairs by typing the
short code. The organiser revokes it: the phone's next scan is refused with a clear message and
the phone is back at pairing. A second scanner is paired by filming the pairing QR as the
organiser's page shows it (a screenshot of the page's QR, turned into the camera's video), and
revoking that one stops its very next camera scan.

The pairing QR is a link (…/scan/#pair=<code>): decoded by an independent decoder and opened in
the phone's browser, as the phone's own camera app would, it gives a paired scanner; the code
leaves the address bar and never reaches the server in an address. QRs of the old form
(JUBSCAN:<code>) still pair when filmed inside the scanner.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
import qrcode
import zxingcpp
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Page, expect

from events.models import ProgrammeRole
from registrations.checkin import devices
from registrations.checkin.services import checked_in_of
from registrations.models import ScanLog, ScannerDevice
from tests.e2e.camera import ticket_image, write_y4m
from tests.e2e.test_scanner import TOKEN_KEY

pytestmark = pytest.mark.browser

PASSWORD = "een-lang-wachtwoord-2023"
REVOKED = "Dit apparaat is niet meer gekoppeld. Koppel het opnieuw."
PAIR_FAILED = "Deze koppelcode werkt niet (meer). Vraag de organisator om een nieuwe."


def pairing_image(code: str) -> Image.Image:
    """A pairing QR of the old form, as printed before pairing QRs became links."""
    png = io.BytesIO()
    qrcode.make(f"{devices.PAIRING_QR_PREFIX}{code}", box_size=8, border=4).save(png)
    return Image.open(io.BytesIO(png.getvalue()))


@pytest.fixture
def organiser(programme):
    user = get_user_model().objects.create_user(
        username="anne", password=PASSWORD, is_staff=True, first_name="Anne"
    )
    ProgrammeRole.objects.create(user=user, programme=programme, role=ProgrammeRole.Role.ORGANISER)
    return user


def log_in(page: Page, next_url: str) -> None:
    page.goto(f"/admin/login/?next={next_url}")
    page.get_by_label("Gebruikersnaam").fill("anne")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("^[^?]*" + re.escape(next_url) + "$"))


def create_scanner(page: Page, scanners_url: str, name: str, activity_title: str) -> str:
    """Make a scanner on the organiser's page; the pairing code the next page shows."""
    page.goto(scanners_url)
    page.get_by_label("Naam van de scanner").fill(name)
    page.get_by_label(activity_title).check()
    page.get_by_role("button", name="Scanner aanmaken").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Scanner {name} koppelen")
    code = page.locator(".pairing-code").inner_text().strip()
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{8}", code)
    return code


def revoke(page: Page, scanners_url: str, name: str) -> None:
    page.goto(scanners_url)
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name))
    row.get_by_role("link", name="Intrekken").click()
    page.get_by_role("button", name="Intrekken").click()
    expect(page.get_by_text(f"Scanner {name} is ingetrokken; hij werkt niet meer.")).to_be_visible()


def film(phone: Page, video: Path, image: Image.Image) -> None:
    """Put the image in front of the phone's camera and open /scan/ again. The camera is off
    while the video is rewritten: Chromium reads the file as it plays."""
    phone.goto("about:blank")
    write_y4m(video, image)
    phone.goto("/scan/")


def expect_pairing_screen(phone: Page, message: str) -> None:
    expect(phone.get_by_role("heading", name="Scanner koppelen")).to_be_visible(timeout=15_000)
    expect(phone.locator("#pair-message")).to_contain_text(message)
    expect(phone.locator("#scan")).to_be_hidden()
    assert phone.evaluate("(k) => localStorage.getItem(k)", TOKEN_KEY) is None


def test_pair_by_code_and_by_qr_then_revocation_sends_the_phone_back(
    camera_browser,
    page,
    live_server,
    programme,
    organiser,
    make_activity,
    make_registration,
):
    cache.clear()  # rate limits live in the cache
    activity = make_activity(
        title="Open dag", slug="open-dag", starts_at=timezone.now() + dt.timedelta(minutes=30)
    )
    make_activity(title="Oefenavond", slug="oefenavond")  # not for these scanners
    jansen = make_registration(activity=activity, contact_name="Familie Jansen", party_size=4)
    bakker = make_registration(activity=activity, contact_name="Familie Bakker", party_size=2)
    scanners_url = f"/beheer/{programme.slug}/scanners/"
    video, launch = camera_browser
    write_y4m(video, None)  # the phone's camera sees nothing to read yet

    log_in(page, scanners_url)
    code = create_scanner(page, scanners_url, "Ingang Noord", "Open dag")

    browser = launch()
    try:
        context = browser.new_context(
            base_url=live_server.url,
            locale="nl-NL",
            timezone_id="Europe/Amsterdam",
            viewport={"width": 390, "height": 844},
        )
        # A fake clock (running like the real one) lets the revocation below wait for the
        # typed scan, not for the counts the page polls every few seconds.
        context.clock.install()
        phone = context.new_page()
        errors: list[str] = []
        phone.on("pageerror", lambda error: errors.append(str(error)))

        # Pair by typing the short code: straight to the scanner for the one activity.
        phone.goto("/scan/")
        expect(phone.get_by_role("heading", name="Scanner koppelen")).to_be_visible()
        phone.get_by_label("Of typ de koppelcode (8 tekens)").fill(code.lower())
        phone.get_by_role("button", name="Koppelen").click()
        expect(phone.locator("#scan")).to_be_visible()
        expect(phone.locator("#activity-name")).to_have_text("— Open dag")
        expect(phone.locator("#counts")).to_contain_text("0 ingecheckt / 6 verwacht")
        noord = ScannerDevice.objects.get(name="Ingang Noord")
        assert noord.paired_at is not None and noord.pairing_code is None

        code_input = phone.get_by_label("Code (handscanner of typen)")
        code_input.fill(f"JUB1:{jansen.ticket_code}")
        code_input.press("Enter")
        expect(phone.locator("#result")).to_have_attribute("data-result", "ok")
        expect(phone.locator("#result")).to_have_attribute("data-confirmed", "server")
        assert checked_in_of(jansen.pk) == 4

        # The organiser revokes it: the next scan is refused and the phone is back at pairing.
        phone.clock.pause_at(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))
        revoke(page, scanners_url, "Ingang Noord")
        code_input.fill(f"JUB1:{bakker.ticket_code}")
        code_input.press("Enter")
        expect_pairing_screen(phone, REVOKED)
        phone.clock.resume()

        # Filming a spent pairing code: refused once, and not asked again on every frame.
        pairings: list[str] = []
        phone.on("request", lambda r: pairings.append(r.url) if "/scanner/pair" in r.url else None)
        film(phone, video, pairing_image(code))
        expect(phone.locator("#pair-message")).to_have_text(PAIR_FAILED)
        phone.wait_for_timeout(1500)  # a dozen more frames of the same code
        assert len(pairings) == 1
        assert checked_in_of(bakker.pk) == 0
        assert not ScanLog.objects.filter(registration=bakker).exists()

        # A new scanner, paired by filming the QR on the organiser's screen.
        create_scanner(page, scanners_url, "Ingang Zuid", "Open dag")
        shot = page.locator(".pairing-qr svg").screenshot()
        film(phone, video, Image.open(io.BytesIO(shot)))
        expect(phone.locator("#scan")).to_be_visible(timeout=20_000)
        expect(phone.locator("#activity-name")).to_have_text("— Open dag")
        zuid = ScannerDevice.objects.get(name="Ingang Zuid")
        assert zuid.paired_at is not None
        page.reload()
        expect(page.get_by_text("Deze scanner is gekoppeld op")).to_be_visible()

        # The camera now films a ticket: admitted by Ingang Zuid.
        film(phone, video, ticket_image(bakker.ticket_code))
        expect(phone.locator("#result")).to_have_attribute("data-result", "ok", timeout=15_000)
        expect(phone.locator("#result")).to_contain_text("Welkom — 2 personen")
        expect(phone.locator("#result")).to_have_attribute("data-confirmed", "server")
        assert checked_in_of(bakker.pk) == 2
        assert ScanLog.objects.filter(device=zuid, registration=bakker, result="ok").exists()

        # Revoked while the ticket is still in view (read once: it stays debounced): the next
        # call to the server, the counts the page polls, meets the refusal.
        revoke(page, scanners_url, "Ingang Zuid")
        expect_pairing_screen(phone, REVOKED)
        # The camera keeps reading the ticket on the pairing screen: the reason stays in view.
        expect(phone.locator("#pair-message")).to_contain_text("Dit is geen koppelcode")
        expect(phone.locator("#pair-message")).to_contain_text(REVOKED)
        # The manifest (names of the parties) left the phone with the token.
        tickets = phone.evaluate(
            """() => new Promise((resolve) => {
                const open = indexedDB.open("jubileum-scanner", 1);
                open.onsuccess = () => {
                    const count = open.result.transaction("tickets").objectStore("tickets").count();
                    count.onsuccess = () => resolve(count.result);
                };
            })"""
        )
        assert tickets == 0
        assert errors == []
    finally:
        browser.close()


def decode_pairing_qr(page: Page) -> str:
    """The text of the pairing QR on the organiser's screen, read by zxing-cpp (not the page's
    decoder) from a screenshot."""
    shot = page.locator(".pairing-qr svg").screenshot()
    (barcode,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
    return barcode.text


def test_the_pairing_qr_is_a_link_that_opens_a_paired_scanner(
    camera_browser, page, live_server, settings, programme, organiser, make_activity
):
    cache.clear()  # rate limits live in the cache
    settings.SITE_URL = live_server.url
    make_activity(title="Open dag", slug="open-dag")
    scanners_url = f"/beheer/{programme.slug}/scanners/"
    video, launch = camera_browser
    write_y4m(video, None)

    log_in(page, scanners_url)
    code = create_scanner(page, scanners_url, "Ingang Noord", "Open dag")
    # The page names the scanner's full address, for a phone that cannot read the QR.
    expect(page.locator(".scanner-address")).to_have_text(f"{live_server.url}/scan/")
    link = decode_pairing_qr(page)
    assert link == f"{live_server.url}/scan/#pair={code}"

    browser = launch()
    try:
        context = browser.new_context(
            base_url=live_server.url, locale="nl-NL", viewport={"width": 390, "height": 844}
        )
        phone = context.new_page()
        addresses: list[str] = []
        phone.on("request", lambda request: addresses.append(request.url))
        errors: list[str] = []
        phone.on("pageerror", lambda error: errors.append(str(error)))

        # What the phone's camera app does with the QR: open the link in the browser.
        phone.goto(link)
        expect(phone.locator("#scan")).to_be_visible()
        expect(phone.locator("#activity-name")).to_have_text("— Open dag")
        expect(phone).to_have_url(f"{live_server.url}/scan/")  # the code left the address bar
        noord = ScannerDevice.objects.get(name="Ingang Noord")
        assert noord.paired_at is not None and noord.pairing_code is None
        token = phone.evaluate("(k) => localStorage.getItem(k)", TOKEN_KEY)
        assert noord.token_hash == devices.hash_token(token)

        # A second link opened in the same tab changes only the fragment: it pairs too.
        code = create_scanner(page, scanners_url, "Ingang Zuid", "Open dag")
        phone.goto(decode_pairing_qr(page))
        expect(phone).to_have_url(f"{live_server.url}/scan/")
        phone.wait_for_function(
            "([k, old]) => ![null, old].includes(localStorage.getItem(k))", arg=[TOKEN_KEY, token]
        )
        assert ScannerDevice.objects.get(name="Ingang Zuid").paired_at is not None
        expect(phone.locator("#scan")).to_be_visible()
        assert not [url for url in addresses if code in url or "pair=" in url]

        # A printed QR of the old form, filmed inside the scanner, still pairs.
        code = create_scanner(page, scanners_url, "Ingang Oost", "Open dag")
        phone.evaluate("localStorage.clear()")
        film(phone, video, pairing_image(code))
        expect(phone.locator("#scan")).to_be_visible(timeout=20_000)
        assert ScannerDevice.objects.get(name="Ingang Oost").paired_at is not None
        assert errors == []
    finally:
        browser.close()
