"""An organiser's day in a real browser: log in on the site's own page (no staff account), open
an activity, find an attendee, export the door list as CSV and message everyone confirmed."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from playwright.sync_api import Page, expect

from events.models import ProgrammeRole
from registrations.models import Message, MessageRecipient
from tests.e2e.journey import screenshot

pytestmark = pytest.mark.browser

PASSWORD = "een-lang-wachtwoord-2023"


@pytest.fixture
def reunion(programme, make_activity, make_registration):
    activity = make_activity(title="Reünie oud-leden", slug="reunie", capacity=80)
    for name in ["Gerrit Bakker", "Ans de Wit", "Henk Jansen"]:
        make_registration(activity=activity, contact_name=name, party_size=2)
    user = get_user_model().objects.create_user(username="carla", password=PASSWORD)
    ProgrammeRole.objects.create(user=user, programme=programme, role=ProgrammeRole.Role.ORGANISER)
    return activity


def test_organiser_finds_an_attendee_exports_and_messages_everyone(
    new_page, reunion, programme, settings, console_errors
):
    # Mail leaves through the task worker; here tasks run at once so the page can show it sent.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    page: Page = new_page()
    page.goto("/beheer/")
    expect(page).to_have_url(re.compile(r"/inloggen/\?next=/beheer/$"))
    page.get_by_label("Gebruikersnaam").fill("carla")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()

    page.get_by_role("main").get_by_role("link", name=programme.name).click()
    page.get_by_role("link", name=reunion.title).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(reunion.title)
    # htmx wires the search box up once the page has loaded; typing earlier is a plain form
    # (it would need Enter), which is not what this step tests.
    page.wait_for_load_state("load")

    # Search: the list narrows without a reload.
    page.get_by_label("Zoek op naam of e-mailadres").fill("de Wit")
    attendees = page.locator("#attendees")
    expect(attendees).to_contain_text("Ans de Wit")
    expect(attendees).not_to_contain_text("Gerrit Bakker")
    screenshot(page, "organiser-attendee-search")

    # The export follows the filter and holds no e-mail addresses.
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    rows = list(
        csv.reader(io.StringIO(download.value.path().read_text("utf-8-sig")), delimiter=";")
    )
    assert [row[0] for row in rows[1:]] == ["Ans de Wit"]
    assert not any("@" in cell for row in rows for cell in row)

    # A message to everyone confirmed, with a look at how many get it first.
    page.get_by_role("link", name="Bericht sturen aan deelnemers").click()
    page.get_by_label(re.compile("Iedereen die is aangemeld")).check()
    page.get_by_label("Onderwerp").fill("Parkeren bij de kazerne")
    page.get_by_role("textbox", name="Bericht").fill(
        "Parkeer op het plein achter de kazerne; de straat is afgezet."
    )
    page.get_by_role("button", name="Controleren").click()
    expect(page.get_by_role("main")).to_contain_text(
        "Dit bericht gaat per e-mail naar 3 ontvangers"
    )
    assert Message.objects.count() == 0
    page.get_by_role("button", name="Ja, versturen").click()

    expect(page.get_by_role("main")).to_contain_text("Parkeren bij de kazerne")
    screenshot(page, "organiser-message-sent")
    message = Message.objects.get()
    assert (
        sorted(message.recipients.values_list("status", flat=True))
        == [MessageRecipient.Status.SENT] * 3
    )
    assert sorted(m.to[0] for m in mail.outbox if m.subject == "Parkeren bij de kazerne") == sorted(
        reunion.registrations.values_list("email", flat=True)
    )
    assert console_errors == []
