"""The public API's programme and activity texts in the language the client asks for."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from events.models import Activity, Programme

AMSTERDAM = zoneinfo.ZoneInfo("Europe/Amsterdam")
API = "/api/v1"


@pytest.fixture(autouse=True)
def _before_the_programme(time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 1, 12, tzinfo=AMSTERDAM))


@pytest.fixture
def open_day(programme: Programme, make_activity) -> Activity:
    programme.name_en = "Fire Brigade Soest & Soesterberg 100 years"
    programme.save()
    # English title and summary, but the description and the place only in Dutch.
    return make_activity(
        title="Open dag",
        title_en="Open day",
        summary="Kijken in de kazerne.",
        summary_en="A look inside the fire station.",
        description="Koffie en een rondleiding.",
        location_name="Kazerne Soest",
        starts_at=dt.datetime(2026, 12, 12, 14, tzinfo=AMSTERDAM),
    )


def _item(client, activity: Activity, **headers) -> tuple[dict, object]:
    response = client.get(f"{API}/programmes/{activity.programme.slug}/activities", **headers)
    assert response.status_code == 200
    return response.json()["items"][0], response


def test_english_client_gets_english_where_written_and_dutch_otherwise(client, open_day):
    item, response = _item(client, open_day, headers={"Accept-Language": "en-GB,en;q=0.9"})

    assert response["Content-Language"] == "en"
    assert "Accept-Language" in response["Vary"]
    assert item["title"] == "Open day"
    assert item["summary"] == "A look inside the fire station."
    assert item["description"] == "Koffie en een rondleiding."
    assert item["location"]["name"] == "Kazerne Soest"


def test_dutch_client_gets_dutch_even_where_english_exists(client, open_day):
    item, response = _item(client, open_day, headers={"Accept-Language": "nl"})

    assert response["Content-Language"] == "nl"
    assert (item["title"], item["summary"]) == ("Open dag", "Kijken in de kazerne.")


def test_translations_carry_both_languages_with_null_for_missing_english(client, open_day):
    for language in ("nl", "en"):
        item, _response = _item(client, open_day, headers={"Accept-Language": language})
        assert item["translations"] == {
            "nl": {
                "title": "Open dag",
                "summary": "Kijken in de kazerne.",
                "description": "Koffie en een rondleiding.",
                "location_name": "Kazerne Soest",
            },
            "en": {
                "title": "Open day",
                "summary": "A look inside the fire station.",
                "description": None,
                "location_name": None,
            },
        }


def test_blank_english_counts_as_missing(client, open_day):
    open_day.title_en = "   "
    open_day.save()

    item, _response = _item(client, open_day, headers={"Accept-Language": "en"})

    assert item["title"] == "Open dag"
    assert item["translations"]["en"]["title"] is None


def test_activity_detail_follows_accept_language(client, open_day):
    url = f"{API}/activities/{open_day.pk}"

    english = client.get(url, headers={"Accept-Language": "en"}).json()
    dutch = client.get(url).json()

    assert (english["title"], dutch["title"]) == ("Open day", "Open dag")
    assert english["translations"] == dutch["translations"]


def test_programme_name_follows_accept_language(client, open_day):
    english = client.get(f"{API}/programmes", headers={"Accept-Language": "en"}).json()
    programme = english["items"][0]

    assert programme["name"] == "Fire Brigade Soest & Soesterberg 100 years"
    assert programme["description"] == "Honderd jaar brandweer in Soest en Soesterberg."
    assert programme["translations"]["en"] == {
        "name": "Fire Brigade Soest & Soesterberg 100 years",
        "description": None,
    }


def test_openapi_documents_the_translations(client):
    schemas = client.get(f"{API}/openapi.json").json()["components"]["schemas"]

    english = schemas["ActivityEnglishTextsOut"]["properties"]
    assert {"title", "summary", "description", "location_name"} == set(english)
    assert "translations" in schemas["ActivityOut"]["properties"]
    assert "translations" in schemas["ProgrammeOut"]["properties"]
    assert "Accept-Language" in schemas["ActivityOut"]["properties"]["title"]["description"]
