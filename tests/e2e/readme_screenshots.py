"""Regenerate the README's pictures from the demo data: `make screenshots`.

Not a test module (its name does not start with test_, so the suite never collects it); run it
on its own and it writes docs/screenshots/*.png. Each step still checks that the page shows what
the picture is meant to show, so a broken page never becomes a README picture.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from demo.centenary import PROGRAMME_SLUG
from events.models import Activity, Programme, ProgrammeRole
from registrations.checkin import devices
from registrations.models import Registration

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "screenshots-2023-soest"


def shoot(page: Page, name: str, *, full_page: bool = False) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=DOCS / f"{name}.png", full_page=full_page)


def log_in(page: Page, next_url: str) -> None:
    user = get_user_model().objects.create_user(
        username="anne", password=PASSWORD, is_staff=True, first_name="Anne"
    )
    for programme in Programme.objects.all():
        ProgrammeRole.objects.create(
            user=user, programme=programme, role=ProgrammeRole.Role.ORGANISER
        )
    page.goto(f"/inloggen/?next={next_url}")
    page.get_by_label("Gebruikersnaam").fill("anne")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{next_url}")


def test_public_pages_ticket_and_scanner(new_page):
    call_command("load_demo", stdout=io.StringIO())
    programme = Programme.objects.get(slug=PROGRAMME_SLUG)

    page: Page = new_page()
    page.goto("/")  # the programmes on offer
    expect(page.get_by_role("link", name=programme.name).first).to_be_visible()
    shoot(page, "home")

    page.goto(programme.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    shoot(page, "programme")

    phone: Page = new_page("phone")
    activity = Activity.objects.get(programme=programme, slug="kinderbrandweermiddag")
    phone.goto(activity.get_absolute_url())
    expect(phone.get_by_role("heading", level=1)).to_have_text(activity.title)
    shoot(phone, "activity-phone")

    registration = Registration.objects.filter(
        activity=activity, status=Registration.Status.CONFIRMED
    ).first()
    phone.goto(f"/aanmelding/{registration.manage_token}/")
    expect(phone.get_by_role("img", name="QR-code van je toegangsbewijs")).to_be_visible()
    shoot(phone, "ticket-phone")

    # The door: a phone paired for an activity that opens within the hour, one ticket typed in
    # as a hardware scanner would.
    door = activity
    Activity.objects.filter(pk=door.pk).update(
        starts_at=timezone.now() + dt.timedelta(minutes=30),
        ends_at=timezone.now() + dt.timedelta(hours=3),
    )
    device = devices.create_device(programme, [door.pk], name="Ingang kazerne", with_token=True)
    scanner: Page = new_page("phone")
    scanner.goto("/scan/")
    scanner.evaluate(
        "([k, v]) => localStorage.setItem(k, v)", ["jubileum.scanner.token", device.token]
    )
    scanner.reload()
    scanner.locator("#code-input").fill(f"JUB1:{registration.ticket_code}")
    scanner.locator("#code-input").press("Enter")
    expect(scanner.locator("#result")).to_have_attribute("data-result", "ok", timeout=15_000)
    scanner.locator("#code-input").blur()
    scanner.evaluate("window.scrollTo(0, 0)")
    shoot(scanner, "scanner-result")


def test_organiser_pages_on_the_programme_as_held(new_page):
    call_command("load_demo", as_held=True, stdout=io.StringIO())
    programme = Programme.objects.get(slug=PROGRAMME_SLUG)
    page: Page = new_page()
    log_in(page, f"/beheer/{programme.slug}/budget/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Budget")
    shoot(page, "budget-dashboard")

    page.goto(f"/beheer/{programme.slug}/verantwoording/")
    expect(page.get_by_role("img").first).to_be_visible()
    shoot(page, "report")


def test_organiser_authoring_on_the_programme_to_come(new_page):
    call_command("load_demo", stdout=io.StringIO())
    programme = Programme.objects.get(slug=PROGRAMME_SLUG)
    activity = programme.activities.exclude(title_en="").order_by("starts_at").first()
    page: Page = new_page()
    log_in(page, f"/beheer/{programme.slug}/")
    expect(page.get_by_role("link", name="Nieuwe activiteit")).to_be_visible()
    shoot(page, "organiser-programme")

    page.goto(f"/beheer/{programme.slug}/activiteit/{activity.slug}/bewerken/")
    expect(page.get_by_label("Titel (Engels, optioneel)")).to_have_value(activity.title_en)
    shoot(page, "organiser-activity-editor")
