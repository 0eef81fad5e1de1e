"""Two journeys that start from an e-mail, in a real browser: a family opens "Claim je plaats"
from the waitlist offer and claims on the page it leads to; a member the organiser approved
for a paid dinner opens the e-mail hours later and pays from its link."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import cache
from playwright.sync_api import Page, expect

from events.models import Activity, ProgrammeRole
from registrations import services
from registrations.models import Registration

pytestmark = pytest.mark.browser

PASSWORD = "een-lang-wachtwoord-2023"
Status = Registration.Status


@pytest.fixture
def mail_at_once(settings):
    """Mail tasks run when enqueued, so the test reads each e-mail from the outbox."""
    cache.clear()  # the sign-up rate limit counts live in the cache
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.PAYMENTS_DEMO_MODE = True
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""


def link_in(subject_start: str, to: str, label: str) -> str:
    """The path of the link after `label` in the plain-text e-mail to `to`."""
    message = next(
        m for m in reversed(mail.outbox) if m.subject.startswith(subject_start) and m.to == [to]
    )
    found = re.search(rf"{re.escape(label)}[^\n]*:\n(\S+)", message.body)
    assert found, message.body
    url = urlsplit(found.group(1))
    return url.path + (f"#{url.fragment}" if url.fragment else "")


def test_family_claims_the_offered_place_from_the_email_link(
    new_page, make_activity, make_registration, mail_at_once, console_errors
):
    activity = make_activity(title="Open dag kazerne", slug="open-dag-claim", capacity=4)
    leaving = make_registration(activity=activity, party_size=4)
    family = services.register(
        activity.pk,
        services.SignUp(contact_name="Familie De Vries", email="devries@example.net", party_size=3),
    ).registration
    assert family.status == Status.WAITLISTED
    services.cancel(leaving.pk)

    claim_path = link_in("Er is plaats voor je vrij", "devries@example.net", "Claim je plaats")
    assert claim_path.endswith("/plaats-claimen/")
    page: Page = new_page()
    page.goto(claim_path)

    # The link only shows the offer and asks; nothing is claimed yet.
    main = page.get_by_role("main")
    expect(page.get_by_role("heading", level=1)).to_have_text("Plaats claimen")
    expect(main).to_contain_text("Er is plaats vrijgekomen voor je groep bij Open dag kazerne.")
    expect(main).to_contain_text("Claimen kan tot")
    family.refresh_from_db()
    assert family.status == Status.OFFERED
    main.get_by_role("button", name="Ja, claim mijn plaats").click()

    expect(page).to_have_url(re.compile(r"/aanmelding/[A-Za-z0-9_-]{20}/$"))
    expect(main).to_contain_text("Je bent aangemeld.")
    expect(page.get_by_role("img", name="QR-code van je toegangsbewijs")).to_be_visible()
    family.refresh_from_db()
    assert family.status == Status.CONFIRMED

    # The same link afterwards says it is done, kindly, with the way to the personal page.
    page.goto(claim_path)
    expect(main).to_contain_text("Je hebt deze plaats al geclaimd.")
    main.get_by_role("link", name="Naar je aanmelding").click()
    expect(page).to_have_url(re.compile(r"/aanmelding/[A-Za-z0-9_-]{20}/$"))
    assert console_errors == []


def test_approved_member_pays_from_the_email_hours_after_the_approval(
    new_page, make_activity, programme, mail_at_once, time_machine, console_errors
):
    dinner = make_activity(
        title="Reüniediner",
        slug="reuniediner-leden",
        audience=Activity.Audience.MEMBERS,
        price=Decimal("25.00"),
        capacity=40,
        max_party_size=2,
    )
    member = services.register(
        dinner.pk,
        services.SignUp(contact_name="Gerrit Bakker", email="g.bakker@example.net", party_size=2),
    ).registration
    assert member.status == Status.PENDING_APPROVAL
    user = get_user_model().objects.create_user(username="carla", password=PASSWORD)
    ProgrammeRole.objects.create(user=user, programme=programme, role=ProgrammeRole.Role.ORGANISER)

    # The organiser approves on the activity's page.
    organiser: Page = new_page()
    organiser.goto("/beheer/")
    organiser.get_by_label("Gebruikersnaam").fill("carla")
    organiser.get_by_label("Wachtwoord").fill(PASSWORD)
    organiser.get_by_role("button", name="Inloggen").click()
    organiser.get_by_role("main").get_by_role("link", name=programme.name).click()
    organiser.get_by_role("link", name=dinner.title).click()
    organiser.get_by_role("button", name="Goedkeuren Gerrit Bakker").click()
    expect(organiser.get_by_role("main")).to_contain_text("is goedgekeurd")

    # The e-mail says until when, in words, and links to the pay button.
    pay_path = link_in("Je aanmelding is goedgekeurd", "g.bakker@example.net", "Betalen")
    assert pay_path.endswith("/#betalen")
    approved = Registration.objects.get(pk=member.pk)
    assert approved.hold_expires_at - approved.approved_at == dt.timedelta(
        hours=programme.offer_valid_hours
    )

    # Read at the end of the working day: the places are still held.
    time_machine.move_to(approved.approved_at + dt.timedelta(hours=5), tick=False)
    page: Page = new_page()
    page.goto(pay_path)
    main = page.get_by_role("main")
    expect(main).to_contain_text("Wacht op betaling")
    expect(main).to_contain_text("Je aanmelding is goedgekeurd.")
    expect(main).not_to_contain_text("Verlopen")
    main.get_by_role("button", name="Betalen (€ 50,00)").click()

    expect(page).to_have_url(re.compile(r"/betalen/demo/cs_demo_[\w-]+/$"))
    page.get_by_role("button", name="Betaling gelukt (demo)").click()

    expect(main).to_contain_text("Betaald")
    expect(page.get_by_role("img", name="QR-code van je toegangsbewijs")).to_be_visible()
    approved.refresh_from_db()
    assert approved.status == Status.CONFIRMED
    assert console_errors == []
