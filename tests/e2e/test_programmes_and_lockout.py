"""In the browser: the home page's list of programmes and the login lockout page, audited with
axe at phone and desktop widths."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.e2e.axe import audit, inject_axe, report
from tests.e2e.journey import screenshot

pytestmark = pytest.mark.browser

PASSWORD = "brandweer-1923-soest"


def test_programme_list_reads_well_on_a_phone_and_a_desktop(new_page, foreign_requests):
    call_command("load_demo", stdout=io.StringIO())
    violations = []
    for viewport in ("phone", "desktop"):
        page = new_page(viewport)
        inject_axe(page.context)
        page.goto("/")

        expect(page.get_by_role("heading", level=1)).to_have_text("Programma's")
        cards = page.locator("main .programme-card")
        expect(cards).to_have_count(2)
        expect(cards.first.get_by_role("heading", level=2)).to_have_text(
            "Brandweer Soest & Soesterberg 100 jaar"
        )
        expect(cards.nth(1)).to_contain_text("Veilig Soest")
        violations += audit(page, f"{viewport} /")
        if viewport == "phone":
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, f"programmes-{viewport}")

        # The keyboard reaches each programme's link, and it opens the programme.
        link = cards.nth(1).get_by_role("link", name="Veilig Soest")
        link.focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Veilig Soest")

    assert not violations, report(violations)
    assert foreign_requests == []


def test_lockout_page_after_five_wrong_passwords(new_page, django_user_model, foreign_requests):
    django_user_model.objects.create_user("anne", password=PASSWORD, is_staff=True)
    page = new_page("phone")
    inject_axe(page.context)

    for attempt in range(5):
        page.goto("/admin/login/?next=/beheer/")
        page.get_by_label("Gebruikersnaam").fill("anne")
        page.get_by_label("Wachtwoord").fill(f"verkeerd-{attempt}")
        with page.expect_navigation():
            page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggen is tijdelijk geblokkeerd")
    expect(page.get_by_role("main")).to_contain_text("over 15 minuten opnieuw")
    violations = audit(page, "phone lockout")
    screenshot(page, "login-lockout")

    # The right password does not get through either.
    page.goto("/admin/login/?next=/beheer/")
    page.get_by_label("Gebruikersnaam").fill("anne")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggen is tijdelijk geblokkeerd")

    assert not violations, report(violations)
    assert foreign_requests == []
