"""One per-address login limit for every login form: the organisers' page (/inloggen/) and the
Django admin's (/admin/login/) count together, so an address refused at one is refused at the
other."""

from __future__ import annotations

import pytest

PASSWORD = "een-lang-wachtwoord-1923"
ADMIN_LOGIN = "/admin/login/"
LOGIN = "/inloggen/"


@pytest.fixture
def limits(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": (2, 600)}


@pytest.fixture
def chief(django_user_model):
    return django_user_model.objects.create_superuser("chief", password=PASSWORD)


def attempt(client, url: str, username: str, password: str = "verkeerd"):
    return client.post(url, {"username": username, "password": password})


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_admin_login_answers_only_the_limit_of_usernames_from_one_address(client, db, settings):
    allowed, _window = settings.RATE_LIMITS["login"]

    statuses = [attempt(client, ADMIN_LOGIN, f"naam{n}").status_code for n in range(allowed + 10)]

    assert statuses == [200] * allowed + [429] * 10


def test_the_refusal_at_the_admin_is_the_429_page_with_retry_after(client, limits, db):
    attempt(client, ADMIN_LOGIN, "piet")
    attempt(client, ADMIN_LOGIN, "klaas")

    refused = attempt(client, ADMIN_LOGIN, "jan")

    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    assert "429.html" in [template.name for template in refused.templates]


def test_an_address_over_the_limit_on_the_login_page_cannot_log_in_through_the_admin(
    client, limits, chief
):
    for name in ["piet", "klaas", "jan"]:
        attempt(client, LOGIN, name)

    response = attempt(client, ADMIN_LOGIN, "chief", PASSWORD)

    assert response.status_code == 429
    assert not logged_in(client)


def test_attempts_at_the_admin_count_at_the_login_page_too(client, limits, chief):
    attempt(client, ADMIN_LOGIN, "piet")
    attempt(client, ADMIN_LOGIN, "klaas")

    response = attempt(client, LOGIN, "chief", PASSWORD)

    assert response.status_code == 429
    assert not logged_in(client)


def test_another_address_still_logs_in_through_the_admin(client, limits, chief):
    for name in ["piet", "klaas", "jan"]:
        attempt(client, LOGIN, name)

    response = client.post(
        ADMIN_LOGIN, {"username": "chief", "password": PASSWORD}, REMOTE_ADDR="198.51.100.7"
    )

    assert response.status_code == 302
    assert logged_in(client)
