"""The claim link from the offer e-mail: a GET shows the offer and asks, only the page's form
claims; a lapsed or claimed offer is explained with the way on."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from registrations.models import Registration

Status = Registration.Status


@pytest.fixture
def offered(make_activity, make_registration, now):
    activity = make_activity(title="Open dag kazerne", capacity=4, price=Decimal("7.50"))
    make_registration(activity=activity, party_size=1)
    return make_registration(
        activity=activity,
        party_size=3,
        status=Status.OFFERED,
        waitlisted_at=now - dt.timedelta(days=1),
        hold_expires_at=now + dt.timedelta(hours=48),
    )


def claim_url(registration: Registration) -> str:
    return reverse("registrations:claim", kwargs={"token": registration.manage_token})


def test_claim_link_shows_the_offer_and_asks_without_claiming(offered, client):
    response = client.get(claim_url(offered))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Open dag kazerne" in page
    assert "Er is plaats vrijgekomen voor je groep" in page
    assert "<dd>3</dd>" in page  # the party
    assert "€ 22,50" in page  # 3 persons at € 7,50
    assert "Claimen kan tot" in page
    assert f'action="{claim_url(offered)}"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    main = page[page.index("<main") : page.index("</main>")]
    assert main.count("<button") == 1
    assert "Ja, claim mijn plaats" in page
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    offered.refresh_from_db()
    assert offered.status == Status.OFFERED


def test_claim_page_in_english(offered, client):
    page = client.get("/en" + claim_url(offered)).content.decode()

    assert "A place has come free for your party" in page
    assert "Yes, claim my place" in page


def test_posting_the_claim_page_claims(offered, client):
    response = client.post(claim_url(offered))

    assert response.status_code == 303
    offered.refresh_from_db()
    assert offered.status == Status.PENDING_PAYMENT


def test_lapsed_offer_says_so_and_points_to_the_activity(offered, now, time_machine, client):
    time_machine.move_to(now + dt.timedelta(hours=49), tick=False)

    response = client.get(claim_url(offered))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Je aanmelding is verlopen" in page
    assert "meld je opnieuw aan" in page
    assert offered.activity.get_absolute_url() in page
    assert "Ja, claim mijn plaats" not in page


def test_claimed_offer_says_so_and_leads_to_the_personal_page(offered, client):
    client.post(claim_url(offered))

    page = client.get(claim_url(offered)).content.decode()

    assert "Je hebt deze plaats al geclaimd." in page
    assert "Betaal vóór die tijd" in page
    assert reverse("registrations:manage", kwargs={"token": offered.manage_token}) in page
    assert "Ja, claim mijn plaats" not in page


def test_unknown_token_is_not_found(db, client):
    assert client.get("/aanmelding/" + "x" * 22 + "/plaats-claimen/").status_code == 404
