"""Two journeys in a real browser: a family on the waiting list gets a place when someone
cancels and claims it; a brigade member signs up with the code from an invitation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from events.models import Activity
from registrations.models import Invitation, Registration
from tests.e2e.journey import open_the_link_from_the_email, screenshot

pytestmark = pytest.mark.browser


def sign_up(page: Page, *, name: str, email: str, persons: int) -> None:
    form = page.locator("form.signup")
    form.get_by_label("Naam").fill(name)
    form.get_by_label("E-mailadres").fill(email)
    form.get_by_label("Met hoeveel personen kom je?").fill(str(persons))
    form.get_by_label(re.compile("Ik geef toestemming")).check()


def test_family_on_the_waiting_list_claims_a_freed_place(
    new_page, make_activity, make_registration
):
    activity = make_activity(title="Open dag kazerne", slug="open-dag", capacity=4)
    leaving = make_registration(activity=activity, party_size=4, contact_name="Familie Jansen")
    page: Page = new_page()

    # The activity is full: the form offers the waiting list instead.
    page.goto(activity.get_absolute_url())
    expect(page.get_by_role("main")).to_contain_text("vol")
    sign_up(page, name="Familie De Vries", email="devries@example.net", persons=3)
    page.get_by_role("button", name="Zet me op de wachtlijst").click()

    open_the_link_from_the_email(page, "devries@example.net")
    expect(page).to_have_url(re.compile(r"/aanmelding/[A-Za-z0-9_-]{20}/$"))
    main = page.get_by_role("main")
    expect(main).to_contain_text("wachtlijst")
    expect(main.get_by_role("button", name="Plaats claimen")).to_have_count(0)
    family = Registration.objects.get(email="devries@example.net")
    assert family.status == Registration.Status.WAITLISTED
    family_page = page.url
    screenshot(page, "waitlist-personal-page")

    # The Jansens cancel through their own personal link ...
    other = new_page()
    other.goto(f"/aanmelding/{leaving.manage_token}/")
    other.get_by_role("link", name="Aanmelding annuleren").click()
    other.get_by_role("button", name="Ja, annuleer mijn aanmelding").click()
    expect(other.get_by_role("main")).to_contain_text("Je aanmelding is geannuleerd.")

    # ... which offers the freed places to the family, who claim them on their page.
    family.refresh_from_db()
    assert family.status == Registration.Status.OFFERED
    page.goto(family_page)
    expect(main).to_contain_text("plaats")
    screenshot(page, "waitlist-offer")
    main.get_by_role("button", name="Plaats claimen").click()

    expect(main).to_contain_text("Je bent aangemeld.")
    expect(page.get_by_role("img", name="QR-code van je toegangsbewijs")).to_be_visible()
    family.refresh_from_db()
    assert family.status == Registration.Status.CONFIRMED
    assert family.party_size == 3
    screenshot(page, "waitlist-claimed")


def test_member_signs_up_with_the_code_from_the_invitation(new_page, make_activity):
    reunion = make_activity(
        title="Reünie oud-leden",
        slug="reunie",
        audience=Activity.Audience.INVITATION,
        capacity=80,
    )
    invitation = Invitation.objects.create(
        activity=reunion, name="Gerrit Bakker", email="g.bakker@example.net"
    )
    page: Page = new_page()

    # The link from the invitation e-mail fills in the code.
    page.goto(f"{reunion.get_absolute_url()}?code={invitation.code}")
    form = page.locator("form.signup")
    expect(form.get_by_label(re.compile("Uitnodigingscode"))).to_have_value(invitation.code)
    sign_up(page, name="Gerrit Bakker", email="g.bakker@example.net", persons=2)
    form.get_by_label("Oud-lid").check()
    form.get_by_label("Korps").select_option(label="Soesterberg")
    form.get_by_label("Dienstjaren").fill("31")
    screenshot(page, "invitation-form")
    form.get_by_role("button", name="Aanmelden").click()

    open_the_link_from_the_email(page, "g.bakker@example.net")
    expect(page.get_by_role("main")).to_contain_text("Je bent aangemeld.")
    registration = Registration.objects.get(activity=reunion, email="g.bakker@example.net")
    assert registration.status == Registration.Status.CONFIRMED  # the code admits them at once
    assert (registration.party_size, registration.brigade, registration.years_of_service) == (
        2,
        "soesterberg",
        31,
    )
    screenshot(page, "invitation-confirmed")

    # The code admits one party: a second sign-up with it waits for an organiser.
    second: Page = new_page()
    second.goto(f"{reunion.get_absolute_url()}?code={invitation.code}")
    sign_up(second, name="Iemand Anders", email="anders@example.net", persons=1)
    second.locator("form.signup").get_by_role("button", name="Aanmelden").click()
    expect(second.get_by_role("main")).to_contain_text(re.compile("uitnodigingscode", re.I))
    assert not Registration.objects.filter(
        activity=reunion, email="anders@example.net", status=Registration.Status.CONFIRMED
    ).exists()
