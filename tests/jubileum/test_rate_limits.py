"""Per-address rate limits shared through the cache: sign-ups (form and API together),
personal-link guesses, waitlist claims and organiser logins each answer 429 with a clear
message once over the limit, and change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from registrations.models import Registration

API = "/api/v1"
Status = Registration.Status


@pytest.fixture
def limits(settings):
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "signup": (2, 600),
        "lookup_miss": (3, 600),
        "claim": (1, 600),
        "login": (2, 600),
    }


def _sign_up_json(n: int) -> dict:
    return {
        "contact_name": f"Familie {n}",
        "email": f"limiet{n}@example.net",
        "party_size": 1,
        "kind": "resident",
        "consent": True,
    }


def test_api_sign_ups_are_limited_per_address(client, limits, activity):
    url = f"{API}/activities/{activity.pk}/registrations"
    for n in range(2):
        response = client.post(url, _sign_up_json(n), content_type="application/json")
        assert response.status_code == 202, response.json()

    refused = client.post(url, _sign_up_json(9), content_type="application/json")

    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert refused.json()["message"] == "Te veel verzoeken; probeer het straks opnieuw."
    assert 0 < int(refused.headers["Retry-After"]) <= 600
    assert not Registration.objects.filter(email="limiet9@example.net").exists()
    # Another address is not affected.
    other = client.post(
        url, _sign_up_json(10), content_type="application/json", REMOTE_ADDR="192.0.2.99"
    )
    assert other.status_code == 202


def test_the_form_and_the_api_share_the_sign_up_count(client, limits, activity):
    url = f"{API}/activities/{activity.pk}/registrations"
    client.post(url, _sign_up_json(1), content_type="application/json")
    client.post(url, _sign_up_json(2), content_type="application/json")

    page = client.post(
        reverse(
            "registrations:signup",
            kwargs={"programme_slug": activity.programme.slug, "slug": activity.slug},
        ),
        {"contact_name": "X"},
    )

    assert page.status_code == 429
    assert "Retry-After" in page.headers


def test_guessing_personal_links_is_stopped_but_own_links_never_count(
    client, limits, make_registration
):
    registration = make_registration()
    own = f"/aanmelding/{registration.manage_token}/"
    for _ in range(10):
        assert client.get(own).status_code == 200  # hits never count

    for n in range(2):
        assert client.get(f"/aanmelding/{'A' * 19}{n}/").status_code == 404
    assert client.get(f"{API}/registrations/{'B' * 20}").status_code == 404
    # The fourth guess is refused outright.
    assert client.get(f"/aanmelding/{'C' * 20}/").status_code == 429

    # Over the limit: even a real link from this address waits, page and API alike.
    page = client.get(own)
    assert page.status_code == 429
    assert "Retry-After" in page.headers
    assert client.get(f"{API}/registrations/{registration.manage_token}").status_code == 429
    assert client.get(own, REMOTE_ADDR="192.0.2.99").status_code == 200


def test_claims_are_limited(client, limits, activity, make_registration):
    offered = make_registration(
        status=Status.OFFERED,
        waitlisted_at=timezone.now(),
        hold_expires_at=timezone.now() + dt.timedelta(hours=48),
    )
    url = f"{API}/waitlist-offers/{offered.manage_token}/claim"
    assert client.post(url, content_type="application/json").status_code == 200

    refused = client.post(url, content_type="application/json")
    page = client.post(f"/aanmelding/{offered.manage_token}/plaats-claimen/")

    assert refused.status_code == 429 and refused.json()["code"] == "throttled"
    assert page.status_code == 429


def test_logins_from_one_address_are_limited_whatever_the_username(
    client, limits, django_user_model
):
    django_user_model.objects.create_user("anne", password="een-lang-wachtwoord-1923")
    for name in ["piet", "klaas"]:
        assert client.post("/inloggen/", {"username": name, "password": "x"}).status_code == 200

    refused = client.post(
        "/inloggen/", {"username": "anne", "password": "een-lang-wachtwoord-1923"}
    )

    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session
