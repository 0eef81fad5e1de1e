"""The personal page in a real browser, phone and desktop: a refused change is told where the eye
is."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from registrations.models import Registration
from tests.e2e.journey import screenshot

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_refused_party_size_change_shows_the_error_in_view(
    new_page, make_activity, make_registration, viewport, console_errors
):
    small = make_activity(title="Rondleiding kazerne", slug="rondleiding", capacity=4)
    registration = make_registration(activity=small, party_size=2, contact_name="Familie Bakker")
    make_registration(activity=small, party_size=2)
    page: Page = new_page(viewport)
    page.goto(f"/aanmelding/{registration.manage_token}/")

    form = page.locator("form", has=page.get_by_role("button", name="Aantal wijzigen"))
    form.get_by_label("Aantal personen").fill("3")
    form.get_by_role("button", name="Aantal wijzigen").click()

    # The page opens where the reason is, not at the field ~1,400 px further down.
    expect(page.get_by_text(re.compile("niet genoeg plaatsen vrij")).first).to_be_in_viewport()
    summary = page.locator("#size-errors")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    link = summary.get_by_role("link", name=re.compile("niet genoeg plaatsen vrij"))
    expect(link).to_have_attribute("href", "#id_party_size")
    expect(summary).to_contain_text("Er is niets opgeslagen.")
    screenshot(page, f"personal-page-refused-change-{viewport}")

    # The link leads to the field, which says the same and keeps what was typed.
    link.click()
    field = page.get_by_label("Aantal personen")
    expect(field).to_be_in_viewport()
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_value("3")
    assert Registration.objects.get(pk=registration.pk).party_size == 2
    assert console_errors == []
