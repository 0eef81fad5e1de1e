"""What the browser journeys share: screenshots kept as CI artefacts, console errors, and the
way from a sign-up to the personal page."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from registrations.models import Registration

# CI keeps this folder (the README names it): one PNG per step worth seeing.
ARTIFACTS = Path(__file__).parent / "artifacts"


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def collect_console_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    return errors


def tab_to(page: Page, locator) -> None:
    page.keyboard.press("Tab")
    expect(locator).to_be_focused()


def open_the_link_from_the_email(page: Page, email: str) -> Registration:
    """After a sign-up: the page every sign-up gets ("look in your e-mail"), then the personal
    link the e-mail carries (the newest registration of `email`)."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Bedankt")
    expect(page.get_by_role("main")).to_contain_text("Kijk in je e-mail.")
    registration = Registration.objects.filter(email=email).latest("created_at")
    page.goto(f"/aanmelding/{registration.manage_token}/")
    return registration
