"""The organisers' login page: anyone with a role logs in here (no staff flag needed), in the
site's look and language, with Dutch errors and the usual autocomplete hints."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from events.models import ProgrammeRole

pytestmark = pytest.mark.django_db

PASSWORD = "brandweer-1923-soest"


@pytest.fixture
def organiser(django_user_model, programme):
    user = django_user_model.objects.create_user("carla", password=PASSWORD)  # not staff
    ProgrammeRole.objects.create(user=user, programme=programme, role=ProgrammeRole.Role.ORGANISER)
    return user


def test_the_organiser_area_sends_anonymous_visitors_to_the_login_page(client):
    response = client.get("/beheer/")
    assert response.status_code == 302
    assert response.url == "/inloggen/?next=/beheer/"


def test_the_page_has_labelled_fields_with_autocomplete(client):
    page = client.get("/inloggen/").content.decode()
    assert '<label for="id_username">Gebruikersnaam</label>' in page
    assert '<label for="id_password">Wachtwoord</label>' in page
    assert 'autocomplete="username"' in page
    assert 'autocomplete="current-password"' in page
    assert 'name="robots" content="noindex"' in page


def test_an_organiser_without_staff_rights_logs_in_and_sees_the_programme(
    client, organiser, programme
):
    response = client.post(
        "/inloggen/", {"username": "carla", "password": PASSWORD, "next": "/beheer/"}
    )
    assert response.status_code == 302 and response.url == "/beheer/"
    assert escape(programme.name) in client.get("/beheer/").content.decode()
    # Logged in, the header offers the organiser area and a way out.
    home = client.get(programme.get_absolute_url()).content.decode()
    assert 'href="/beheer/"' in home and "Uitloggen" in home


def test_a_wrong_password_gets_a_dutch_error_summary_and_no_session(client, organiser):
    response = client.post("/inloggen/", {"username": "carla", "password": "fout"})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="error-summary"' in page
    assert "Deze combinatie van gebruikersnaam en wachtwoord kennen we niet." in page
    assert "_auth_user_id" not in client.session


def test_empty_fields_are_named(client):
    page = client.post("/inloggen/", {}).content.decode()
    assert 'href="#id_username">Vul je gebruikersnaam in.' in page
    assert 'href="#id_password">Vul je wachtwoord in.' in page


def test_the_page_speaks_english_under_en(client):
    page = client.get("/en/inloggen/").content.decode()
    assert "Log in for organisers" in page


def test_logging_out_is_a_post_and_ends_the_session(client, organiser):
    client.force_login(organiser)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response.url == "/"
    assert "_auth_user_id" not in client.session


def test_somebody_else_s_next_address_is_not_followed(client, organiser):
    response = client.post(
        "/inloggen/",
        {"username": "carla", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and response.url == "/beheer/"
