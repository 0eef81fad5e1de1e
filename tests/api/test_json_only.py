"""The API reads only JSON bodies: a form a page elsewhere makes its visitors' browsers send
(text/plain, multipart/form-data, urlencoded: no CORS preflight) is refused with 415 before
anything runs or changes."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from registrations.checkin import devices
from registrations.models import CheckIn, Registration

API = "/api/v1"
BODY = {"contact_name": "Anna de Vries", "email": "anna@example.org", "party_size": 2}
FORMS = [
    # A form with enctype="text/plain" whose one field spells JSON: the body ninja used to read.
    ("text/plain", json.dumps({**BODY, "consent": True})),
    ("text/plain;charset=UTF-8", json.dumps({**BODY, "consent": True})),
    ("application/x-www-form-urlencoded", "contact_name=Anna&email=anna%40example.org"),
    ("multipart/form-data; boundary=grens", '--grens\r\nContent-Disposition: form-data; name="a"'),
    ("application/json; charset=latin-1", json.dumps({**BODY, "consent": True})),
]

pytestmark = pytest.mark.usefixtures("tasks")


def signup_url(activity) -> str:
    return f"{API}/activities/{activity.pk}/registrations"


@pytest.mark.parametrize(("content_type", "body"), FORMS, ids=[c for c, _b in FORMS])
def test_a_sign_up_sent_as_a_form_is_refused_with_415_and_changes_nothing(
    client, activity, content_type, body
):
    response = client.generic("POST", signup_url(activity), body, content_type=content_type)

    assert response.status_code == 415
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == {
        "code": "unsupported_media_type",
        "message": "Stuur de gegevens als JSON, met Content-Type: application/json.",
        "details": {
            "content_type": content_type.split(";")[0].lower(),
            "accepted": ["application/json"],
        },
    }
    assert not Registration.objects.exists()


def test_the_refusal_follows_accept_language(client, activity):
    response = client.generic(
        "POST",
        signup_url(activity),
        json.dumps({**BODY, "consent": True}),
        content_type="text/plain",
        headers={"Accept-Language": "en"},
    )

    assert response.status_code == 415
    assert response.json()["message"] == (
        "Send the data as JSON, with Content-Type: application/json."
    )


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"]
)
def test_json_with_or_without_charset_signs_up(client, activity, content_type):
    response = client.generic(
        "POST", signup_url(activity), json.dumps({**BODY, "consent": True}), content_type
    )

    assert response.status_code == 202, response.content
    assert Registration.objects.get().contact_name == "Anna de Vries"


def test_a_change_through_the_manage_token_sent_as_a_form_changes_nothing(
    client, make_registration
):
    registration = make_registration(party_size=2)

    response = client.generic(
        "PATCH",
        f"{API}/registrations/{registration.manage_token}",
        json.dumps({"party_size": 1}),
        content_type="text/plain",
    )

    assert response.status_code == 415
    registration.refresh_from_db()
    assert registration.party_size == 2


def test_a_scan_sent_as_a_form_is_refused_before_the_device_token_is_used(client, make_activity):
    activity = make_activity(starts_at=timezone.now())
    new = devices.create_device(activity.programme, [activity.pk], name="Noord")
    token = client.post(
        f"{API}/scanner/pair", {"code": new.pairing_code}, content_type="application/json"
    ).json()["token"]

    response = client.generic(
        "POST",
        f"{API}/checkin/redeem",
        json.dumps({"code": "ABC", "activity": activity.pk, "nonce": "n-1"}),
        content_type="text/plain",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 415
    assert not CheckIn.objects.exists()


def test_a_request_without_a_body_needs_no_content_type(client, db):
    response = client.generic("POST", f"{API}/waitlist-offers/onbekend/claim", "", "")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_document_names_415_for_every_operation_with_a_body(client, db):
    document = client.get(f"{API}/openapi.json").json()

    with_body = [
        (path, method, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if "requestBody" in operation
    ]

    assert with_body
    assert [
        f"{method} {path}"
        for path, method, operation in with_body
        if "415" not in operation["responses"]
    ] == []
