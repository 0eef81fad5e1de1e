"""The organiser's programme page says which activities have no English text yet."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse


@pytest.fixture
def organiser_client(client, organiser):
    client.force_login(organiser)
    return client


def _overview(client, programme):
    return client.get(reverse("organiser:programme", kwargs={"programme_slug": programme.slug}))


def _row(html: str, title: str) -> str:
    match = re.search(rf"<tr>\s*<th scope=\"row\"><a [^>]*>{title}</a>.*?</tr>", html, re.S)
    assert match, title
    return match.group(0)


def test_activities_without_english_are_badged_and_counted(
    organiser_client, programme, make_activity
):
    programme.name_en = "Fire Brigade 100"
    programme.description_en = "A hundred years of fire brigade."
    programme.privacy_statement_en = "We keep only what is needed."
    programme.accessibility_statement_en = "Tested with keyboard and screen reader."
    programme.save()
    english = {
        "title_en": "Open day",
        "summary_en": "A look inside.",
        "location_name_en": "Soest fire station",
    }
    make_activity(title="Open dag", **english)
    make_activity(title="Kinderbrandweermiddag")
    make_activity(title="Lezing", **{**english, "summary_en": ""})

    response = _overview(organiser_client, programme)

    html = response.content.decode()
    assert "2 activiteiten zonder Engelse tekst" in html
    assert "Het programma zelf" not in html
    assert "Engels ontbreekt" not in _row(html, "Open dag")
    assert "Engels ontbreekt" in _row(html, "Kinderbrandweermiddag")
    lecture = _row(html, "Lezing")
    assert "Engels ontbreekt" in lecture
    assert "(korte omschrijving)" in lecture


def test_one_activity_without_english_and_the_programme_itself(
    organiser_client, programme, make_activity
):
    make_activity(title="Open dag")

    html = _overview(organiser_client, programme).content.decode()

    assert "1 activiteit zonder Engelse tekst" in html
    assert "Het programma zelf heeft nog geen Engelse tekst voor: naam, beschrijving" in html


def test_no_count_when_everything_has_english(organiser_client, programme):
    programme.name_en = "Fire Brigade 100"
    programme.description_en = "A hundred years."
    programme.privacy_statement_en = "Only what is needed."
    programme.accessibility_statement_en = "Tested."
    programme.save()

    html = _overview(organiser_client, programme).content.decode()

    assert "zonder Engelse tekst" not in html
    assert "Engels ontbreekt" not in html
