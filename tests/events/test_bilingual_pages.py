"""Programme and activity content in the reader's language: on /en/ the English where the
organiser wrote it, else the Dutch marked `lang="nl"` on its own element (WCAG 3.1.2); on Dutch
pages no extra `lang` at all."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import icalendar
import pytest
from django.urls import reverse
from django.utils import translation

from events.models import Activity, Programme

AMS = zoneinfo.ZoneInfo("Europe/Amsterdam")


@pytest.fixture(autouse=True)
def _before_the_activities(time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 20, 12, tzinfo=AMS), tick=False)


@pytest.fixture
def english_programme(programme: Programme) -> Programme:
    programme.name_en = "Fire Brigade 100 years"
    programme.description_en = "A hundred years of fire brigade."
    programme.save()
    return programme


@pytest.fixture
def open_day(english_programme, make_activity) -> Activity:
    """English title and summary; description and place only in Dutch."""
    return make_activity(
        title="Open dag",
        slug="open-dag",
        title_en="Open day",
        summary="Kijken in de kazerne.",
        summary_en="A look inside the station.",
        description="Koffie en een rondleiding.\n\nMeer op https://example.org/.",
        location_name="Kazerne Soest",
        starts_at=dt.datetime(2026, 12, 12, 14, tzinfo=AMS),
    )


@pytest.fixture
def lecture(english_programme, make_activity) -> Activity:
    """Dutch only."""
    return make_activity(
        title="Lezing over branden",
        slug="lezing",
        summary="Verhalen uit het archief.",
        starts_at=dt.datetime(2026, 12, 13, 19, tzinfo=AMS),
    )


def _get(client, name: str, language: str, **kwargs) -> str:
    with translation.override(language):
        url = reverse(name, kwargs=kwargs)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def _main(html: str) -> str:
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def _lang_attributes(html: str) -> list[str]:
    """The lang attributes below <html>, but for the language switch's own button."""
    body = html.split("<head>", 1)[1]
    return [
        match
        for match in re.findall(r"<[a-z0-9]+[^>]*\slang=\"[^\"]*\"[^>]*>", body)
        if "language-switch" not in match and 'type="submit"' not in match
    ]


def test_english_programme_page_shows_english_and_marks_the_dutch_fallback(
    client, open_day, lecture
):
    html = _get(client, "events:programme", "en", slug=open_day.programme.slug)
    main = _main(html)

    assert "<title>Fire Brigade 100 years</title>" in html
    assert '<meta name="description" content="A hundred years of fire brigade.">' in html
    assert "<h1>Fire Brigade 100 years</h1>" in main
    cards = "/en/programma/brandweer-100/activiteit"
    assert f'<h3 class="card__title"><a href="{cards}/open-dag/">Open day</a></h3>' in main
    assert '<p class="card__summary">A look inside the station.</p>' in main
    assert (
        f'<h3 class="card__title" lang="nl"><a href="{cards}/lezing/">Lezing over branden</a></h3>'
    ) in main
    assert '<p class="card__summary" lang="nl">Verhalen uit het archief.</p>' in main
    assert '<dd lang="nl">Kazerne Soest</dd>' in main
    assert "Open dag" not in main
    assert len(_lang_attributes(html)) == 4  # the lecture's title and summary, both places


def test_dutch_programme_page_has_no_lang_attributes_on_content(client, open_day, lecture):
    html = _get(client, "events:programme", "nl", slug=open_day.programme.slug)

    assert "Open dag" in html and "Lezing over branden" in html
    assert "Open day" not in html
    assert _lang_attributes(html) == []


def test_english_fragment_shows_english_too(client, open_day, lecture):
    with translation.override("en"):
        url = reverse("events:programme", kwargs={"slug": open_day.programme.slug})

    html = client.get(url, {"audience": "public"}, headers={"HX-Request": "true"}).content.decode()

    assert "<html" not in html
    assert ">Open day</a>" in html
    assert '<p class="card__summary" lang="nl">Verhalen uit het archief.</p>' in html


def test_english_activity_page(client, open_day):
    html = _get(
        client,
        "events:activity",
        "en",
        programme_slug=open_day.programme.slug,
        slug=open_day.slug,
    )
    main = _main(html)

    assert "<title>Open day \N{EN DASH} Fire Brigade 100 years</title>" in html
    assert "<h1>Open day</h1>" in main
    assert '<p class="lead">A look inside the station.</p>' in main
    # The Dutch description keeps its paragraphs and is marked as Dutch as a whole.
    assert '<div class="prose" lang="nl"><p>Koffie en een rondleiding.</p>' in main
    assert '<span lang="nl">Kazerne Soest</span>' in main


def test_description_stays_escaped_text(client, open_day):
    open_day.description_en = '<script>alert("x")</script>\nSecond line'
    open_day.save()

    html = _get(
        client,
        "events:activity",
        "en",
        programme_slug=open_day.programme.slug,
        slug=open_day.slug,
    )

    assert "<script>alert" not in html
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
    assert f'<div class="prose"><p>{escaped}<br>Second line</p></div>' in html


def test_activity_image_with_alt_in_the_readers_language(client, open_day):
    open_day.image = "activities/images/kazerne.jpg"
    open_day.image_alt = "Brandweerwagen voor de kazerne"
    open_day.image_alt_en = "Fire engine in front of the station"
    open_day.save()
    kwargs = {"programme_slug": open_day.programme.slug, "slug": open_day.slug}

    english = _get(client, "events:activity", "en", **kwargs)
    dutch = _get(client, "events:activity", "nl", **kwargs)

    assert (
        '<img class="activity__image" src="/media/activities/images/kazerne.jpg" '
        'alt="Fire engine in front of the station">'
    ) in english
    assert 'alt="Brandweerwagen voor de kazerne">' in dutch

    open_day.image_alt_en = ""
    open_day.save()
    fallback = _get(client, "events:activity", "en", **kwargs)
    assert 'alt="Brandweerwagen voor de kazerne" lang="nl">' in fallback


def test_no_image_no_img(client, open_day):
    html = _get(
        client, "events:activity", "en", programme_slug=open_day.programme.slug, slug=open_day.slug
    )

    assert "activity__image" not in html


def test_statements_in_english_where_written_else_marked_dutch(client, english_programme):
    english_programme.privacy_statement_en = "We keep only what is needed."
    english_programme.save()
    slug = english_programme.slug

    privacy = _main(_get(client, "events:privacy", "en", slug=slug))
    accessibility = _main(_get(client, "events:accessibility", "en", slug=slug))
    dutch = _get(client, "events:privacy", "nl", slug=slug)

    assert "<div><p>We keep only what is needed.</p></div>" in privacy
    assert (
        '<div lang="nl"><p>Deze site is getest met toetsenbord en schermlezer.</p></div>'
        in accessibility
    )
    assert "<div><p>Wij bewaren alleen wat nodig is.</p></div>" in dutch
    assert _lang_attributes(dutch) == []


def test_dutch_programme_name_in_an_english_sentence_is_marked(client, programme):
    html = _get(client, "events:privacy", "en", slug=programme.slug)

    assert 'Back to <span lang="nl">Brandweer Soest &amp; Soesterberg 100 jaar</span>' in html
    assert (
        '<a class="site-name" href="/en/"><span lang="nl">Brandweer Soest &amp; Soesterberg 100 '
        "jaar</span></a>"
    ) in html


def test_programme_cards_on_the_home_page(client, english_programme, make_programme, open_day):
    make_programme(slug="veilig", name="Veilig Soest", description="Samen veiliger.")

    html = _main(_get(client, "home", "en"))

    assert ">Fire Brigade 100 years</a></h2>" in html
    assert '<p class="programme-card__summary">A hundred years of fire brigade.</p>' in html
    assert '<h2 class="programme-card__title" lang="nl">' in html
    assert '<p class="programme-card__summary" lang="nl">Samen veiliger.</p>' in html


def test_manage_page_in_english(client, open_day, make_registration):
    registration = make_registration(activity=open_day)

    html = _get(client, "registrations:manage", "en", token=registration.manage_token)

    assert "<title>Your registration \N{EN DASH} Open day</title>" in html
    assert ">Open day</a></p>" in html
    assert '<dd><span lang="nl">Kazerne Soest</span>' in html


def test_calendar_file_in_english_with_the_language_of_each_text(client, open_day):
    with translation.override("en"):
        url = reverse(
            "events:activity_ics",
            kwargs={"programme_slug": open_day.programme.slug, "slug": open_day.slug},
        )

    (event,) = icalendar.Calendar.from_ical(client.get(url).content).walk("VEVENT")

    assert str(event["SUMMARY"]) == "Open day"
    assert event["SUMMARY"].params["LANGUAGE"] == "en"
    assert event["LOCATION"].params["LANGUAGE"] == "nl"
    assert str(event["LOCATION"]).startswith("Kazerne Soest")


def test_programme_feed_is_named_in_english(client, open_day):
    with translation.override("en"):
        url = reverse("events:programme_ics", kwargs={"slug": open_day.programme.slug})

    calendar = icalendar.Calendar.from_ical(client.get(url).content)

    assert str(calendar["X-WR-CALNAME"]) == "Fire Brigade 100 years"
