"""A resident signs up in a real browser, keyboard only, opens the personal page and cancels."""

from __future__ import annotations

import io
import re

import pytest
from django.core.cache import cache
from django.core.management import call_command
from playwright.sync_api import Page, expect

from events.models import Activity, Programme
from registrations.models import Registration
from tests.e2e.journey import open_the_link_from_the_email, screenshot, tab_to

pytestmark = pytest.mark.browser

PROGRAMME = "Brandweer Soest & Soesterberg 100 jaar"
QR_NAME = "QR-code van je toegangsbewijs"


@pytest.fixture
def activity() -> Activity:
    cache.clear()  # the sign-up rate limit counts live in the cache
    call_command("load_demo", stdout=io.StringIO())
    programme = Programme.objects.get(name=PROGRAMME)
    chosen = Activity.objects.get(programme=programme, slug="kinderbrandweermiddag")
    assert chosen.registration_is_open(), "the demo's children's afternoon must be open"
    return chosen


def test_resident_signs_up_sees_the_ticket_and_cancels(
    page: Page, activity: Activity, foreign_requests, console_errors
):
    page.goto(activity.get_absolute_url())
    form = page.locator("form.signup")
    expect(form).to_be_visible()

    # A first try with only a name: the summary says what is missing and links to each field.
    form.get_by_label("Naam").focus()
    page.keyboard.type("Familie Smit")
    page.keyboard.press("Enter")

    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name="Vul je e-mailadres in.")).to_have_attribute(
        "href", "#id_email"
    )
    consent_error = summary.get_by_role("link", name=re.compile("Geef toestemming"))
    expect(consent_error).to_have_attribute("href", "#id_consent")
    expect(form.get_by_label("E-mailadres")).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_label("Naam")).to_have_value("Familie Smit")
    screenshot(page, "signup-errors")
    summary.get_by_role("link", name="Vul je e-mailadres in.").click()
    expect(page).to_have_url(re.compile("#id_email$"))
    assert Registration.objects.filter(activity=activity).count() == 2  # the demo's own

    # Now the whole form, with the keyboard only.
    form.get_by_label("E-mailadres").focus()
    page.keyboard.type("smit@example.org")
    tab_to(page, form.get_by_label("Telefoonnummer (niet verplicht)"))
    page.keyboard.type("06 12345678")
    tab_to(page, form.get_by_label("Met hoeveel personen kom je?"))
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("3")
    tab_to(page, form.get_by_label("Inwoner"))
    expect(form.get_by_label("Inwoner")).to_be_checked()
    tab_to(page, form.get_by_label("Korps"))
    tab_to(page, form.get_by_label("Dienstjaren"))
    # The children's afternoon asks an extra question.
    tab_to(page, form.get_by_label(re.compile("^Leeftijden van de kinderen")))
    page.keyboard.type("6 en 9")
    tab_to(page, form.get_by_label(re.compile("Ik geef toestemming")))
    page.keyboard.press("Space")
    tab_to(page, form.get_by_role("link", name="privacyverklaring"))
    tab_to(page, form.get_by_role("button", name="Aanmelden"))
    page.keyboard.press("Enter")

    # The personal page, by the link in the e-mail, with the ticket.
    open_the_link_from_the_email(page, "smit@example.org")
    expect(page).to_have_url(re.compile(r"/aanmelding/[A-Za-z0-9_-]{20}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Je aanmelding")
    main = page.get_by_role("main")
    expect(main).to_contain_text("Je bent aangemeld.")
    qr = page.get_by_role("img", name=QR_NAME)
    expect(qr).to_be_visible()
    assert qr.evaluate("element => element.tagName.toLowerCase()") == "svg"
    registration = Registration.objects.get(email="smit@example.org")
    assert (registration.party_size, registration.phone) == (3, "06 12345678")
    assert registration.status == Registration.Status.CONFIRMED
    assert [answer.value for answer in registration.answers.all()] == ["6 en 9"]
    expect(main).to_contain_text("6 en 9")
    expect(main).to_contain_text(registration.ticket_code)
    screenshot(page, "personal-page")

    # Cancelling takes a confirm step.
    main.get_by_role("link", name="Aanmelding annuleren").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Aanmelding annuleren")
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED
    page.get_by_role("button", name="Ja, annuleer mijn aanmelding").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Je aanmelding")
    expect(main).to_contain_text("Je aanmelding is geannuleerd.")
    expect(page.get_by_role("img", name=QR_NAME)).to_have_count(0)
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CANCELLED
    screenshot(page, "personal-page-cancelled")

    assert foreign_requests == []
    assert not [e for e in console_errors if "Content Security Policy" in e]


def test_sign_up_works_without_javascript(new_page, activity: Activity, foreign_requests):
    page = new_page("phone", javascript=False)
    page.goto(activity.get_absolute_url())
    form = page.locator("form.signup")

    form.get_by_label("Naam").fill("Jan Jansen")
    form.get_by_label("E-mailadres").fill("jan@example.org")
    form.get_by_label("Oud-lid").check()
    form.get_by_label("Korps").select_option("soesterberg")
    form.get_by_label("Dienstjaren").fill("31")
    form.get_by_label(re.compile("Ik geef toestemming")).check()
    form.get_by_role("button", name="Aanmelden").click()

    open_the_link_from_the_email(page, "jan@example.org")
    expect(page.get_by_role("img", name=QR_NAME)).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the personal page is {width}px wide on a 390px screen"
    screenshot(page, "personal-page-phone")
    registration = Registration.objects.get(email="jan@example.org")
    assert (registration.kind, registration.brigade, registration.years_of_service) == (
        "former_member",
        "soesterberg",
        31,
    )
    assert foreign_requests == []
