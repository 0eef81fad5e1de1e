"""The programme's settings page (/beheer/<programme>/instellingen/): organisers change, viewers
read, errors at the field with nothing saved, and every change in the history shown."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from events.models import Programme


@pytest.fixture
def url(programme) -> str:
    return reverse("organiser:settings", kwargs={"programme_slug": programme.slug})


def form_data(programme: Programme, **changes) -> dict[str, str]:
    values = {
        "name": programme.name,
        "name_en": "",
        "starts_on": programme.starts_on.isoformat(),
        "ends_on": programme.ends_on.isoformat(),
        "description": programme.description,
        "description_en": "",
        "is_public": "on" if programme.is_public else "",
        "organiser_name": programme.organiser_name,
        "organiser_email": programme.organiser_email,
        "organiser_phone": "",
        "theme_colour": programme.theme_colour,
        "logo_alt": "",
        "offer_valid_hours": str(programme.offer_valid_hours),
        "ticket_vat_rate": str(programme.ticket_vat_rate),
        "retention_days": str(programme.retention_days),
        "privacy_statement": programme.privacy_statement,
        "privacy_statement_en": "",
        "accessibility_statement": programme.accessibility_statement,
        "accessibility_statement_en": "",
    }
    values.update(changes)
    return {key: value for key, value in values.items() if value != "" or key != "is_public"}


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
    return SimpleUploadedFile("logo.png", buffer.getvalue(), content_type="image/png")


def test_organiser_changes_settings_and_the_history_names_them(client, organiser, programme, url):
    organiser.first_name = "Anne"
    organiser.save()
    client.force_login(organiser)

    response = client.post(
        url,
        form_data(
            programme,
            name_en="Fire brigade 100 years",
            privacy_statement_en="We keep only what we need.",
            retention_days="90",
            ticket_vat_rate="21",
            is_public="",
        ),
    )

    assert response.status_code == 303
    programme.refresh_from_db()
    assert programme.name_en == "Fire brigade 100 years"
    assert programme.retention_days == 90
    assert programme.ticket_vat_rate == 21
    assert not programme.is_public
    page = client.get(url).content.decode()
    assert "De instellingen zijn opgeslagen." in page
    assert "Geschiedenis" in page
    assert "Anne" in page
    assert "bewaartermijn persoonsgegevens (dagen): van 180 naar 90" in page
    assert "openbaar: van ja naar nee" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"theme_colour": "#FFFF00"}, "theme_colour", "kies een donkerdere kleur"),
        ({"ends_on": "2026-11-01"}, "ends_on", "De einddatum mag niet vóór de begindatum liggen."),
        ({"organiser_email": "geen-adres"}, "organiser_email", "geldig e-mailadres"),
        ({"offer_valid_hours": "0"}, "offer_valid_hours", "minstens 1 uur"),
        ({"name": ""}, "name", "Dit veld is verplicht."),
    ],
)
def test_bad_input_is_refused_at_the_field_and_nothing_is_saved(
    client, organiser, programme, url, changes, field, message
):
    client.force_login(organiser)
    before = programme.history.count()

    response = client.post(url, form_data(programme, retention_days="30", **changes))

    assert response.status_code == 422
    html = response.content.decode()
    assert message in html
    assert f'id="id_{field}_error"' in html
    assert 'class="error-summary"' in html
    assert "Er is niets opgeslagen." in html
    programme.refresh_from_db()
    assert programme.retention_days == 180
    assert programme.history.count() == before


def test_a_logo_needs_its_text_alternative(client, organiser, programme, url, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(organiser)

    refused = client.post(url, {**form_data(programme), "logo": png()})

    assert refused.status_code == 422
    assert "Beschrijf wat het logo laat zien" in refused.content.decode()
    programme.refresh_from_db()
    assert not programme.logo

    accepted = client.post(url, {**form_data(programme, logo_alt="Embleem"), "logo": png()})

    assert accepted.status_code == 303
    programme.refresh_from_db()
    assert programme.logo.name.startswith("programmes/logos/")
    assert programme.logo_alt == "Embleem"
    # Kept logo, alt text taken away: refused too.
    again = client.post(url, form_data(programme, logo_alt=""))
    assert again.status_code == 422


def test_viewer_reads_but_may_not_change(client, viewer, programme, url):
    client.force_login(viewer)

    page = client.get(url)
    refused = client.post(url, form_data(programme, name="Overgenomen"))

    assert page.status_code == 200
    html = page.content.decode()
    assert "Je kijkt mee" in html
    assert "Instellingen opslaan" not in html
    assert 'name="name"' in html and "disabled" in html
    # The privacy contact is the organiser's address.
    assert "Contact voor vragen over privacy: jubileum@example.org" in html
    assert refused.status_code == 403
    programme.refresh_from_db()
    assert programme.name != "Overgenomen"


def test_another_programmes_organiser_gets_404(client, stranger, programme, url):
    client.force_login(stranger)

    assert client.get(url).status_code == 404
    assert client.post(url, form_data(programme, name="X")).status_code == 404


def test_programme_page_links_settings_team_and_copy(client, organiser, viewer, programme):
    page_url = reverse("organiser:programme", kwargs={"programme_slug": programme.slug})
    client.force_login(organiser)
    html = client.get(page_url).content.decode()
    for name in ("settings", "team", "copy"):
        assert reverse(f"organiser:{name}", kwargs={"programme_slug": programme.slug}) in html

    client.force_login(viewer)
    html = client.get(page_url).content.decode()
    assert reverse("organiser:settings", kwargs={"programme_slug": programme.slug}) in html
    assert reverse("organiser:copy", kwargs={"programme_slug": programme.slug}) not in html


def test_settings_page_links_the_budget(client, organiser, programme, url):
    client.force_login(organiser)

    html = client.get(url).content.decode()

    assert reverse("budget:dashboard", kwargs={"programme_slug": programme.slug}) in html
