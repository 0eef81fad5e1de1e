"""The home page with more than one programme: running and coming ones, earlier ones below."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from events.models import Programme

TODAY = dt.date(2027, 10, 6)


@pytest.fixture(autouse=True)
def today(time_machine):
    time_machine.move_to(dt.datetime(2027, 10, 6, 12, 0), tick=False)


@pytest.fixture
def running(make_programme) -> Programme:
    return make_programme(
        name="Brandveiligheidsweek 2027",
        slug="brandveiligheidsweek-2027",
        starts_on=dt.date(2027, 10, 4),
        ends_on=dt.date(2027, 10, 10),
        theme_colour="#1F4E79",
        description="Een week vol brandveiligheid: rookmelders, vluchtplannen en blusdekens. " * 10,
        logo="programmes/logos/week.png",
        logo_alt="Vlam in een huisje",
    )


@pytest.fixture
def coming(make_programme) -> Programme:
    return make_programme(
        name="Veiligheidsmarkt",
        slug="veiligheidsmarkt",
        starts_on=dt.date(2028, 3, 4),
        ends_on=dt.date(2028, 3, 4),
        theme_colour="#0B6E4F",
    )


@pytest.fixture
def centenary(programme) -> Programme:
    programme.starts_on = dt.date(2023, 9, 1)
    programme.ends_on = dt.date(2023, 10, 14)
    programme.save()
    return programme


def html_of(response) -> str:
    return response.content.decode()


def test_running_and_coming_programmes_are_listed_with_earlier_ones_below(
    client, running, coming, centenary, make_programme
):
    make_programme(name="Geheim concept", slug="geheim", is_public=False)

    response = client.get("/")

    assert response.status_code == 200
    assert response.templates[0].name == "jubileum/programmes.html"
    html = html_of(response)
    assert "<h1>Programma's</h1>" in html
    # Running first, then what is coming; each links to its page.
    assert html.index(running.name) < html.index(coming.name)
    assert f'<a href="/programma/{running.slug}/">{running.name}</a>' in html
    assert f'<a href="/programma/{coming.slug}/">{coming.name}</a>' in html
    assert "Nu bezig" in html and "Binnenkort" in html
    assert "4 oktober 2027" in html and "10 oktober 2027" in html
    assert '<time datetime="2028-03-04">' in html
    # Each card carries its own theme colour; the status is in words, not only in colour.
    assert 'fill="#1F4E79"' in html and 'fill="#0B6E4F"' in html
    assert 'alt="Vlam in een huisje"' in html
    # A short description: the first 40 words.
    assert "Een week vol brandveiligheid" in html
    assert html.count("rookmelders") < 10
    # Earlier programmes in their own, smaller list.
    earlier = html[html.index('id="earlier-heading"') :]
    assert ">Eerder</h2>" in earlier
    assert f'<a href="/programma/{centenary.slug}/">{escape(centenary.name)}</a>' in earlier
    assert running.name not in earlier
    assert "Geheim concept" not in html
    # The header names the organiser of them all, not one of the programmes.
    assert f'<a class="site-name" href="/">{running.organiser_name}</a>' in html


def test_only_earlier_programmes_show_an_empty_notice_and_the_earlier_list(
    client, centenary, make_programme
):
    older = make_programme(
        name="Open dag 2019",
        slug="open-dag-2019",
        starts_on=dt.date(2019, 5, 4),
        ends_on=dt.date(2019, 5, 4),
    )

    html = html_of(client.get("/"))

    assert "geen programma klaar" in html
    assert "Nu bezig" not in html
    # The latest first.
    assert html.index(escape(centenary.name)) < html.index(older.name)


def test_a_single_public_programme_is_shown_on_the_home_page_itself(
    client, running, make_programme
):
    make_programme(name="Geheim concept", slug="geheim", is_public=False)

    response = client.get("/")

    assert response.templates[0].name == "events/programme.html"
    assert f'<a class="site-name" href="/">{running.name}</a>' in html_of(response)


def test_a_single_earlier_programme_is_shown_as_before(client, centenary):
    response = client.get("/")

    assert response.templates[0].name == "events/programme.html"


def test_a_colour_saved_around_validation_falls_back_to_the_default(client, running, coming):
    Programme.objects.filter(pk=coming.pk).update(theme_colour="red;x")

    html = html_of(client.get("/"))

    assert 'fill="red;x"' not in html
    assert 'fill="#B41E1E"' in html


def test_english_list_links_to_english_pages(client, running, coming):
    html = html_of(client.get("/en/"))

    assert f'href="/en/programma/{running.slug}/"' in html


def test_queries_do_not_grow_with_the_number_of_programmes(client, make_programme):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/").status_code == 200
        return len(queries)

    for n in range(2):
        make_programme(starts_on=dt.date(2027, 11, 1 + n), ends_on=dt.date(2027, 11, 2 + n))
    few = count()
    for n in range(20):
        make_programme(starts_on=dt.date(2020, 1, 1 + n), ends_on=dt.date(2020, 1, 2 + n))
        make_programme(starts_on=dt.date(2028, 1, 1 + n), ends_on=dt.date(2028, 1, 2 + n))
    many = count()

    assert many == few <= 4
    assert len(re.findall(r'class="programme-card"', html_of(client.get("/")))) == 22
