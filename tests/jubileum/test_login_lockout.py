"""Login lockout (django-axes): 5 wrong passwords for a username from one address lock that pair
out for 15 minutes, at the login page the organiser area sends people to."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

PASSWORD = "brandweer-1923-soest"
LOGIN = reverse("login")
START = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


@pytest.fixture
def anne(django_user_model):
    return django_user_model.objects.create_user("anne", password=PASSWORD, is_staff=True)


@pytest.fixture
def bert(django_user_model):
    return django_user_model.objects.create_user("bert", password=PASSWORD, is_staff=True)


def log_in(client, username: str, password: str, address: str = "192.0.2.10"):
    return client.post(
        LOGIN,
        {"username": username, "password": password, "next": "/beheer/"},
        REMOTE_ADDR=address,
    )


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail(client, times: int, username: str = "anne", address: str = "192.0.2.10"):
    return [log_in(client, username, "verkeerd", address).status_code for _ in range(times)]


def test_the_login_page_is_the_one_the_organiser_area_sends_people_to():
    assert reverse(settings.LOGIN_URL) == LOGIN


def test_five_wrong_passwords_lock_out_even_the_right_one(client, clock, anne):
    # Four mistakes: the form again, with its error.
    assert fail(client, 4) == [200] * 4

    fifth = log_in(client, "anne", "verkeerd")

    assert fifth.status_code == 429
    html = fifth.content.decode()
    assert "Inloggen is tijdelijk geblokkeerd" in html
    assert "5 keer een verkeerd wachtwoord" in html
    assert "over 15 minuten opnieuw" in html
    assert "axes_lockout.html" in [template.name for template in fifth.templates]

    right = log_in(client, "anne", PASSWORD)

    assert right.status_code == 429
    assert not logged_in(client)


def test_another_user_and_the_same_user_elsewhere_are_not_affected(client, clock, anne, bert):
    fail(client, 5)

    assert log_in(client, "bert", PASSWORD).status_code == 302
    assert logged_in(client)
    client.logout()
    assert log_in(client, "anne", PASSWORD, address="198.51.100.7").status_code == 302
    assert logged_in(client)


def test_lockout_ends_after_the_cool_off(client, clock, anne):
    fail(client, 5)

    clock.move_to(START + dt.timedelta(minutes=14))
    assert log_in(client, "anne", PASSWORD).status_code == 429

    # The attempt at 14 minutes started the wait again.
    clock.move_to(START + dt.timedelta(minutes=14 + 15, seconds=1))
    response = log_in(client, "anne", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/beheer/"
    assert logged_in(client)


def test_lockout_ends_15_minutes_after_the_last_failure_when_left_alone(client, clock, anne):
    fail(client, 5)

    clock.move_to(START + dt.timedelta(minutes=15, seconds=1))

    assert log_in(client, "anne", PASSWORD).status_code == 302


def test_a_successful_login_clears_earlier_mistakes(client, clock, anne):
    fail(client, 4)
    assert log_in(client, "anne", PASSWORD).status_code == 302
    client.logout()

    assert fail(client, 4) == [200] * 4
    assert log_in(client, "anne", PASSWORD).status_code == 302


def test_unknown_usernames_are_locked_out_too(client, clock, db):
    """Guessing at names gets no further than guessing at passwords."""
    assert fail(client, 5, username="bestaat-niet")[-1] == 429


def test_django_password_validators_stay_on(anne):
    names = {
        validator["NAME"].rsplit(".", 1)[-1] for validator in settings.AUTH_PASSWORD_VALIDATORS
    }
    assert names >= {
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    }
    for weak in ["12345678", "wachtwoord", "anne1"]:
        with pytest.raises(ValidationError):
            validate_password(weak, user=anne)
    validate_password(PASSWORD, user=anne)
