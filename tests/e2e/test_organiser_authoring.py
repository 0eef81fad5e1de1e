"""An organiser runs the programme from /beheer/ alone, in a real browser, without staff rights
or the Django admin: writes a bilingual activity with a question, previews and publishes it,
finds it on / and /en/, signs up an older former member who phoned in, moves the activity an
hour and tells everyone signed up, and copies the programme to next year with every activity
on its weekday."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from events.models import Activity, Programme, ProgrammeRole
from registrations.models import Message, Registration
from tests.e2e.journey import screenshot

pytestmark = pytest.mark.browser

PASSWORD = "een-lang-wachtwoord-2023"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
TITLE, TITLE_EN = "Open dag kazerne Soesterberg", "Open day at the Soesterberg fire station"


@pytest.fixture
def organiser(programme):
    user = get_user_model().objects.create_user(
        username="carla", password=PASSWORD, first_name="Carla", last_name="Hendriks"
    )
    assert not user.is_staff
    ProgrammeRole.objects.create(user=user, programme=programme, role=ProgrammeRole.Role.ORGANISER)
    return user


def log_in(page: Page) -> None:
    page.goto("/beheer/")
    page.get_by_label("Gebruikersnaam").fill("carla")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()


def test_an_organiser_writes_publishes_signs_up_moves_and_copies(
    new_page, organiser, programme, make_registration, settings, console_errors
):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    page: Page = new_page()
    log_in(page)
    page.get_by_role("main").get_by_role("link", name=programme.name).click()

    # A new activity, in Dutch and English, saved as a draft.
    page.get_by_role("link", name="Nieuwe activiteit").click()
    page.get_by_label("Titel", exact=True).fill(TITLE)
    page.get_by_label("Titel (Engels, optioneel)").fill(TITLE_EN)
    page.get_by_label("Korte omschrijving", exact=True).fill("Kijken, klimmen en blussen.")
    page.get_by_label("Korte omschrijving (Engels, optioneel)").fill("Look, climb and put out.")
    page.get_by_label("Begint").fill("2027-02-13T10:00")  # a Saturday
    page.get_by_label("Eindigt").fill("2027-02-13T16:00")
    page.get_by_label("Locatie", exact=True).fill("Kazerne Soesterberg")
    page.get_by_label("Aantal plaatsen").fill("40")
    screenshot(page, "organiser-activity-editor")
    page.get_by_role("button", name="Opslaan als concept").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)
    activity = Activity.objects.get(title=TITLE)
    assert activity.status == Activity.Status.DRAFT and activity.title_en == TITLE_EN

    # A question for everyone who signs up.
    page.get_by_role("link", name="Extra vragen bij het aanmelden").click()
    page.get_by_label("Vraag", exact=True).fill("Komt u met de rolstoel?")
    page.get_by_label("Ja of nee").check()
    page.get_by_role("button", name="Vraag toevoegen").click()
    expect(page.get_by_role("main")).to_contain_text("Komt u met de rolstoel?")
    page.goto(f"/beheer/{programme.slug}/activiteit/{activity.slug}/")

    # The preview is the public page, before anyone can see it.
    page.get_by_role("link", name="Voorbeeld").click()
    expect(page.get_by_role("main")).to_contain_text("Voorbeeld")
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)
    assert page.locator('meta[name="robots"]').get_attribute("content") == "noindex"
    page.go_back()

    # Published: on the home page in Dutch, and in English on /en/.
    page.get_by_role("button", name="Publiceren").click()
    expect(page.get_by_role("button", name="Offline halen")).to_be_visible()
    page.goto("/")
    expect(page.get_by_role("link", name=TITLE)).to_be_visible()
    page.goto("/en/")
    expect(page.get_by_role("link", name=TITLE_EN)).to_be_visible()

    # An older former member phones in; he has no e-mail: his ticket is printed for him.
    resident = make_registration(activity=activity, contact_name="Anna de Vries", party_size=2)
    page.goto(f"/beheer/{programme.slug}/activiteit/{activity.slug}/")
    page.get_by_role("link", name=re.compile("Iemand aanmelden")).click()
    page.get_by_label("Telefonisch").check()
    page.get_by_label("Naam", exact=True).fill("Wim van Dijk")
    page.get_by_label(re.compile("^Telefoonnummer")).fill("035 601 23 45")
    page.get_by_label("Oud-lid").check()
    page.get_by_label("Korps").select_option("soesterberg")
    page.get_by_role("group", name="Komt u met de rolstoel?").get_by_label("Ja").check()
    page.get_by_label(re.compile("geeft toestemming")).check()
    page.get_by_role("button", name="Aanmelden").click()
    expect(page.get_by_role("main")).to_contain_text("Wim van Dijk")
    expect(page.locator("svg").first).to_be_visible()  # the QR code of the printed ticket
    wim = Registration.objects.get(contact_name="Wim van Dijk")
    assert (wim.status, wim.kind, wim.brigade) == ("confirmed", "former_member", "soesterberg")
    assert (wim.consent_via, wim.consent_taken_by) == ("phone", organiser)
    assert wim.answers.get().value == "ja"

    # An hour later: everyone signed up is told, after a look at the message.
    page.goto(f"/beheer/{programme.slug}/activiteit/{activity.slug}/")
    page.get_by_role("link", name="Bewerken").click()
    page.get_by_label("Begint").fill("2027-02-13T11:00")
    page.get_by_label("Eindigt").fill("2027-02-13T17:00")
    page.get_by_role("button", name="Wijzigingen opslaan").click()
    main = page.get_by_role("main")
    expect(main).to_contain_text("Gewijzigd")
    expect(main).to_contain_text("11:00")
    page.get_by_role("button", name=re.compile("versturen", re.IGNORECASE)).first.click()
    expect(page.get_by_role("main")).to_contain_text("Gewijzigd")
    message = Message.objects.get()
    assert message.subject.startswith("Gewijzigd") and TITLE in message.subject
    assert {r.registration_id for r in message.recipients.all()} == {resident.pk}
    activity.refresh_from_db()
    assert activity.starts_at == dt.datetime(2027, 2, 13, 11, tzinfo=AMSTERDAM)
    page.goto(f"/beheer/{programme.slug}/activiteit/{activity.slug}/")
    expect(page.get_by_role("main")).to_contain_text("Carla Hendriks")  # in the history

    # Next year: the open day stays on a Saturday.
    page.goto(f"/beheer/{programme.slug}/")
    page.get_by_role("link", name=re.compile("kopiëren", re.IGNORECASE)).first.click()
    page.get_by_label("Naam van de kopie").fill("Brandweer 101 jaar")
    page.get_by_label("Webadres (slug)").fill("brandweer-101")
    page.get_by_label("Alles een aantal hele weken verschuiven").check()
    page.get_by_label("Aantal weken").fill("52")
    page.get_by_role("button", name="Nieuwe datums bekijken").click()
    expect(page.get_by_role("table")).to_contain_text("zaterdag 12 februari 2028")
    assert not Programme.objects.filter(slug="brandweer-101").exists()
    screenshot(page, "organiser-copy-preview")
    page.get_by_role("button", name="Kopie maken").click()
    copy = Activity.objects.get(programme__slug="brandweer-101", title=TITLE)
    assert copy.starts_at.astimezone(AMSTERDAM).weekday() == 5  # Saturday
    assert copy.starts_at == dt.datetime(2028, 2, 12, 11, tzinfo=AMSTERDAM)
    assert copy.status == Activity.Status.DRAFT and copy.questions.count() == 1
    assert console_errors == []
