"""What the browser journeys share: screenshots kept as CI artefacts and console errors."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

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
