"""Demo mode in a real browser: sign up for a paid dinner, pay on the demo page, see "Betaald"
and the ticket. No Stripe keys, nothing charged, nothing loaded from another host."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from events.models import Activity
from registrations.models import Payment, Registration
from tests.e2e.journey import open_the_link_from_the_email

pytestmark = pytest.mark.browser

QR_NAME = "QR-code van je toegangsbewijs"


@pytest.fixture
def dinner(make_activity, settings) -> Activity:
    cache.clear()  # the sign-up rate limit counts live in the cache
    settings.PAYMENTS_DEMO_MODE = True
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    return make_activity(
        title="Reüniediner",
        slug="reuniediner",
        price=Decimal("27.50"),
        capacity=120,
        max_party_size=2,
    )


def test_resident_pays_in_demo_mode_and_gets_the_ticket(
    page: Page, dinner: Activity, foreign_requests
):
    page.goto(dinner.get_absolute_url())
    form = page.locator("form.signup")
    form.get_by_label("Naam").fill("Familie de Groot")
    form.get_by_label("E-mailadres").fill("degroot@example.org")
    form.get_by_label("Met hoeveel personen kom je?").fill("2")
    form.get_by_label(re.compile("Ik geef toestemming")).check()
    form.get_by_role("button", name="Aanmelden").click()

    # The personal page, by the link in the e-mail: held for payment, the total, the button.
    open_the_link_from_the_email(page, "degroot@example.org")
    expect(page.get_by_role("heading", level=1)).to_have_text("Je aanmelding")
    main = page.get_by_role("main")
    expect(main).to_contain_text("Wacht op betaling")
    expect(main).to_contain_text("€ 55,00")
    expect(main).to_contain_text("Demo-modus: er wordt niets afgeschreven.")
    expect(page.get_by_role("img", name=QR_NAME)).to_have_count(0)
    main.get_by_role("button", name="Betalen (€ 55,00)").click()

    # The demo payment page, clearly labelled.
    expect(page).to_have_url(re.compile(r"/betalen/demo/cs_demo_[\w-]+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Demo-betaling — er wordt niets afgeschreven"
    )
    expect(page.get_by_role("main")).to_contain_text("€ 55,00")
    page.get_by_role("button", name="Betaling gelukt (demo)").click()

    # Back on the personal page: paid, confirmed, with the ticket.
    expect(page).to_have_url(re.compile(r"/aanmelding/[A-Za-z0-9_-]{20}/$"))
    main = page.get_by_role("main")
    expect(main).to_contain_text("Demo-betaling gelukt. Er is niets afgeschreven.")
    expect(main).to_contain_text("Betaald")
    expect(main).to_contain_text("€ 55,00 ontvangen op")
    expect(page.get_by_role("img", name=QR_NAME)).to_be_visible()
    expect(main.get_by_role("button", name=re.compile("Betalen"))).to_have_count(0)

    registration = Registration.objects.get(email="degroot@example.org")
    assert registration.status == Registration.Status.CONFIRMED
    payment = registration.payments.get()
    assert (payment.status, payment.amount, payment.demo) == (
        Payment.Status.PAID,
        Decimal("55.00"),
        True,
    )
    assert foreign_requests == []


def test_giving_up_in_demo_mode_keeps_the_places_and_allows_another_try(new_page, dinner: Activity):
    page = new_page("phone", javascript=False)
    page.goto(dinner.get_absolute_url())
    form = page.locator("form.signup")
    form.get_by_label("Naam").fill("Piet Jansen")
    form.get_by_label("E-mailadres").fill("piet@example.org")
    form.get_by_label(re.compile("Ik geef toestemming")).check()
    form.get_by_role("button", name="Aanmelden").click()

    open_the_link_from_the_email(page, "piet@example.org")
    page.get_by_role("button", name="Betalen (€ 27,50)").click()
    page.get_by_role("button", name="Afbreken, niet betalen (demo)").click()

    main = page.get_by_role("main")
    expect(main).to_contain_text("Demo-betaling afgebroken.")
    expect(main).to_contain_text("Wacht op betaling")
    page.get_by_role("button", name="Betalen (€ 27,50)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Demo-betaling — er wordt niets afgeschreven"
    )
    registration = Registration.objects.get(email="piet@example.org")
    assert [p.status for p in registration.payments.all()] == [
        Payment.Status.EXPIRED,
        Payment.Status.OPEN,
    ]
