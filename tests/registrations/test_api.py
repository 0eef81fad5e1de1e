"""Registration API: sign up, and read, change, cancel or claim through the manage token."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from events.models import Activity, Question
from registrations.models import Invitation, Registration
from registrations.tokens import new_manage_token

API = "/api/v1"
Status = Registration.Status


pytestmark = pytest.mark.usefixtures("tasks")


def signup_url(activity: Activity) -> str:
    return f"{API}/activities/{activity.pk}/registrations"


def registration_url(token: str) -> str:
    return f"{API}/registrations/{token}"


def claim_url(token: str) -> str:
    return f"{API}/waitlist-offers/{token}/claim"


def payload(**fields) -> dict:
    values = {
        "contact_name": "Anna de Vries",
        "email": "anna@example.org",
        "party_size": 2,
        "consent": True,
    }
    values.update(fields)
    return values


def post(client, url: str, body: dict | None = None, **headers):
    return client.post(url, body or {}, content_type="application/json", headers=headers)


@pytest.fixture
def mailing(settings, django_capture_on_commit_callbacks):
    """`post`, with the e-mails the request enqueues sent at once when it commits (read them
    in `mailoutbox`)."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

    def post_mailing(client, url: str, body: dict):
        with django_capture_on_commit_callbacks(execute=True):
            return post(client, url, body)

    return post_mailing


def patch(client, url: str, body: dict):
    return client.patch(url, body, content_type="application/json")


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert body["message"]
    return body


# --- POST /activities/{id}/registrations -------------------------------------------------


SIGNED_UP = {
    "message": "Kijk in je e-mail. We sturen je een bericht over je aanmelding, met je "
    "persoonlijke link om die te bekijken, te wijzigen of te annuleren.",
}


def test_sign_up_answers_202_and_the_rest_goes_by_email(client, activity, mailing, mailoutbox):
    response = mailing(client, signup_url(activity), payload(phone="06 12345678"))

    assert response.status_code == 202
    assert response.json() == {"activity_id": activity.pk, **SIGNED_UP}
    registration = Registration.objects.get()
    assert registration.status == Status.CONFIRMED
    assert registration.phone == "06 12345678"
    assert registration.consent_at is not None
    # The personal link is in the e-mail, not in the answer.
    assert registration.manage_token not in response.content.decode()
    [mail] = mailoutbox
    assert mail.to == ["anna@example.org"]
    assert f"/aanmelding/{registration.manage_token}/" in mail.body


def test_sign_up_for_paid_activity_holds_the_places(client, make_activity, time_machine):
    time_machine.move_to(timezone.now().replace(microsecond=0), tick=False)
    paid = make_activity(price=Decimal("12.50"))

    response = post(client, signup_url(paid), payload())

    assert response.status_code == 202
    registration = Registration.objects.get()
    assert registration.status == Status.PENDING_PAYMENT
    assert registration.hold_expires_at == timezone.now() + dt.timedelta(minutes=30)


def test_sign_up_for_full_activity_waitlists(client, make_activity, make_registration):
    full = make_activity(capacity=2, max_party_size=2)
    make_registration(activity=full, party_size=2)

    response = post(client, signup_url(full), payload())

    assert response.status_code == 202
    assert Registration.objects.get(email="anna@example.org").status == Status.WAITLISTED


def test_sign_up_for_members_activity_off_the_roster_awaits_approval(client, make_activity):
    members = make_activity(audience=Activity.Audience.MEMBERS)

    response = post(
        client,
        signup_url(members),
        payload(kind="former_member", brigade="soesterberg", years_of_service=25),
    )

    assert response.status_code == 202
    registration = Registration.objects.get()
    assert registration.status == Status.PENDING_APPROVAL
    assert (registration.kind, registration.brigade, registration.years_of_service) == (
        "former_member",
        "soesterberg",
        25,
    )


def test_sign_up_with_invitation_code_confirms(client, make_activity):
    invited = make_activity(audience=Activity.Audience.INVITATION)
    invitation = Invitation.objects.create(activity=invited, name="Anna", email="anna@example.org")

    response = post(client, signup_url(invited), payload(invitation_code=invitation.code))

    assert response.status_code == 202
    assert Registration.objects.get().status == Status.CONFIRMED


# --- Knowing an address reveals nothing ------------------------------------------------------


def test_a_repeated_sign_up_answers_exactly_like_a_new_one(client, activity, mailing, mailoutbox):
    """Issue 16: the answer to a repeat was 200 with the registration's id, status and
    `created: false`, telling anyone who knew an address that it was signed up."""
    new = mailing(client, signup_url(activity), payload())
    registration = Registration.objects.get()

    repeat = mailing(client, signup_url(activity), payload(email="ANNA@example.org", party_size=5))
    other_new = mailing(client, signup_url(activity), payload(email="bert@example.org"))

    assert new.status_code == repeat.status_code == other_new.status_code == 202
    assert new.json() == repeat.json() == other_new.json()
    assert Registration.objects.filter(email__iexact="anna@example.org").count() == 1
    registration.refresh_from_db()
    assert registration.party_size == 2  # nothing changed
    # The owner of the address is told, with their link; nobody else learns anything.
    repeat_mails = [mail for mail in mailoutbox if mail.subject.startswith("Je was al aangemeld")]
    [mail] = repeat_mails
    assert mail.to == ["anna@example.org"]
    assert f"/aanmelding/{registration.manage_token}/" in mail.body


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({}, 422, "invalid_answer"),
        ({"invitation_code": "NOPE"}, 422, "unknown_invitation"),
        ({"party_size": 9}, 422, "party_too_large"),
    ],
)
def test_a_repeat_is_checked_like_a_new_sign_up_first(
    client, make_activity, make_registration, mailing, mailoutbox, fields, status, code
):
    """The radicalisation training of the demo: invitation-only, with required questions. Only
    an address was needed to be told `pending_approval, created: false`."""
    training = make_activity(audience=Activity.Audience.INVITATION, max_party_size=4)
    Question.objects.create(
        activity=training, label="Organisatie", kind=Question.Kind.TEXT, required=True
    )
    make_registration(activity=training, email="anna@example.org", status=Status.PENDING_APPROVAL)

    repeat = mailing(client, signup_url(training), payload(**fields))
    stranger = mailing(client, signup_url(training), payload(email="bert@example.org", **fields))

    assert_error(repeat, status, code)
    assert repeat.json() == stranger.json()
    assert Registration.objects.count() == 1
    assert mailoutbox == []


def test_a_repeat_on_a_full_activity_without_waitlist_answers_as_a_new_one(
    client, make_activity, make_registration
):
    full = make_activity(capacity=2, waitlist_enabled=False)
    make_registration(activity=full, email="anna@example.org", party_size=2)

    repeat = post(client, signup_url(full), payload())
    stranger = post(client, signup_url(full), payload(email="bert@example.org"))

    assert_error(repeat, 409, "activity_full")
    assert repeat.json() == stranger.json()


def test_the_owner_is_mailed_at_most_once_an_hour_however_many_tries(
    client, activity, make_registration, mailing, mailoutbox, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    registration = make_registration(activity=activity, email="anna@example.org")
    url = signup_url(activity)

    for _ in range(5):
        assert mailing(client, url, payload()).status_code == 202
    time_machine.shift(dt.timedelta(minutes=59))
    # From another IP address, the same: the limit is the registration's.
    elsewhere = Client(REMOTE_ADDR="10.0.0.2")
    assert mailing(elsewhere, url, payload(email="Anna@Example.org")).status_code == 202
    assert len(mailoutbox) == 1
    time_machine.shift(dt.timedelta(minutes=1))
    mailing(client, url, payload())

    assert [mail.to for mail in mailoutbox] == [["anna@example.org"]] * 2
    assert Registration.objects.get() == registration


def test_language_of_the_request_is_the_registrations_language(client, activity):
    post(client, signup_url(activity), payload(), **{"Accept-Language": "en"})
    post(client, signup_url(activity), payload(email="b@example.org", language="nl"))

    assert list(Registration.objects.values_list("language", flat=True)) == ["en", "nl"]


@pytest.mark.parametrize(
    ("fields", "location"),
    [
        ({"consent": False}, "consent"),
        ({"consent": None}, "consent"),
        ({"email": "anna@"}, "email"),
        ({"email": "anna example.org"}, "email"),
        ({"contact_name": "   "}, "contact_name"),
        ({"contact_name": "x" * 201}, "contact_name"),
        ({"party_size": 0}, "party_size"),
        ({"party_size": 51}, "party_size"),
        ({"phone": "0" * 41}, "phone"),
        ({"kind": "burgemeester"}, "kind"),
        ({"brigade": "amersfoort"}, "brigade"),
        ({"years_of_service": 81}, "years_of_service"),
        ({"years_of_service": -1}, "years_of_service"),
        ({"language": "de"}, "language"),
        ({"is_admin": True}, "is_admin"),
    ],
)
def test_bad_input_answers_422_and_changes_nothing(client, activity, fields, location):
    response = post(client, signup_url(activity), payload(**fields))

    body = assert_error(response, 422, "validation_error")
    assert [error["loc"][-1] for error in body["details"]] == [location]
    assert Registration.objects.count() == 0


@pytest.mark.parametrize("missing", ["contact_name", "email", "party_size", "consent"])
def test_missing_field_answers_422(client, activity, missing):
    body = payload()
    del body[missing]

    assert_error(post(client, signup_url(activity), body), 422, "validation_error")
    assert Registration.objects.count() == 0


def test_party_larger_than_the_activity_allows_answers_422(client, activity):
    response = post(
        client, signup_url(activity), payload(party_size=7), **{"Accept-Language": "en"}
    )

    body = assert_error(response, 422, "party_too_large")
    assert body["details"] == {"max_party_size": 6}
    assert "6" in body["message"]
    assert Registration.objects.count() == 0


def test_closed_registration_answers_409(client, make_activity):
    closed = make_activity(registration_closes_at=timezone.now() - dt.timedelta(hours=1))

    assert_error(post(client, signup_url(closed), payload()), 409, "registration_closed")
    assert Registration.objects.count() == 0


def test_full_activity_without_waitlist_answers_409(client, make_activity, make_registration):
    full = make_activity(capacity=2, max_party_size=2, waitlist_enabled=False)
    make_registration(activity=full, party_size=2)

    body = assert_error(post(client, signup_url(full), payload()), 409, "activity_full")
    assert body["details"] == {"places_left": 0}


def test_unknown_invitation_code_answers_422(client, activity):
    response = post(client, signup_url(activity), payload(invitation_code="BESTAATNIET"))

    assert_error(response, 422, "unknown_invitation")
    assert Registration.objects.count() == 0


def test_only_listed_activities_accept_sign_ups(client, make_activity, make_programme):
    draft = make_activity(status=Activity.Status.DRAFT)
    hidden = make_activity(programme=make_programme(is_public=False))

    for activity_id in [draft.pk, hidden.pk, 999_999, 2**63]:
        response = post(client, f"{API}/activities/{activity_id}/registrations", payload())
        assert response.status_code in (404, 422)
        assert response.json()["code"] in ("not_found", "validation_error")
    assert Registration.objects.count() == 0


def test_unknown_query_parameter_is_refused(client, activity):
    response = post(client, f"{signup_url(activity)}?dry_run=1", payload())

    assert_error(response, 422, "validation_error")
    assert Registration.objects.count() == 0


# --- GET /registrations/{token} ----------------------------------------------------------


def test_registration_shows_its_activity_and_ticket_while_confirmed(
    client, activity, make_registration
):
    registration = make_registration(party_size=3, phone="0612345678")

    response = client.get(registration_url(registration.manage_token))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == registration.pk
    assert body["status"] == "confirmed"
    assert body["party_size"] == 3
    assert body["email"] == registration.email
    assert body["ticket_code"] == registration.ticket_code
    assert body["ticket_qr"] == f"JUB1:{registration.ticket_code}"
    assert body["activity"]["id"] == activity.pk
    assert body["activity"]["title"] == "Kinderbrandweermiddag"
    assert body["activity"]["programme"] == "brandweer-100"
    assert body["activity"]["url"].startswith("http://testserver/")
    assert "manage_token" not in body


@pytest.mark.parametrize(
    "status", [Status.WAITLISTED, Status.PENDING_PAYMENT, Status.OFFERED, Status.CANCELLED]
)
def test_registration_that_does_not_admit_shows_no_ticket(client, make_registration, status):
    registration = make_registration(
        status=status, hold_expires_at=timezone.now() + dt.timedelta(hours=1)
    )

    body = client.get(registration_url(registration.manage_token)).json()

    assert body["status"] == status
    assert body["ticket_code"] is None
    assert body["ticket_qr"] is None


@pytest.mark.parametrize("token", ["abc", "x" * 21, "aaaaaaaaaaaaaaaaaaa!", "a" * 500])
def test_malformed_token_answers_404_without_a_query(db, client, token, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(registration_url(token))

    assert_error(response, 404, "not_found")


def test_unknown_token_and_ticket_code_answer_404(client, make_registration):
    registration = make_registration()

    assert_error(client.get(registration_url(new_manage_token())), 404, "not_found")
    # The ticket code (what a QR photo shows) is not a key to the registration.
    assert_error(client.get(registration_url(registration.ticket_code)), 404, "not_found")


# --- PATCH /registrations/{token} --------------------------------------------------------


def test_patch_changes_the_party_size(client, make_registration):
    registration = make_registration(party_size=2)

    response = patch(client, registration_url(registration.manage_token), {"party_size": 4})

    assert response.status_code == 200
    assert response.json()["party_size"] == 4
    registration.refresh_from_db()
    assert registration.party_size == 4


def test_patch_beyond_places_left_answers_409(client, make_activity, make_registration):
    small = make_activity(capacity=4, max_party_size=4)
    registration = make_registration(activity=small, party_size=2)
    make_registration(activity=small, party_size=2)

    response = patch(client, registration_url(registration.manage_token), {"party_size": 3})

    body = assert_error(response, 409, "not_enough_places")
    assert body["details"] == {"places_left": 0}
    registration.refresh_from_db()
    assert registration.party_size == 2


@pytest.mark.parametrize(
    "body", [{"party_size": 0}, {"party_size": 51}, {}, {"party_size": 2, "status": "confirmed"}]
)
def test_patch_with_bad_input_answers_422(client, make_registration, body):
    registration = make_registration(party_size=2)

    assert_error(
        patch(client, registration_url(registration.manage_token), body), 422, "validation_error"
    )
    registration.refresh_from_db()
    assert (registration.party_size, registration.status) == (2, Status.CONFIRMED)


def test_patch_with_malformed_token_answers_404(client):
    assert_error(patch(client, registration_url("nope"), {"party_size": 2}), 404, "not_found")


# --- DELETE /registrations/{token} -------------------------------------------------------


def test_delete_cancels_and_the_ticket_is_gone(client, make_registration):
    registration = make_registration()

    response = client.delete(registration_url(registration.manage_token))

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["cancelled_at"] is not None
    assert body["ticket_code"] is None
    again = client.delete(registration_url(registration.manage_token))
    assert again.status_code == 200


def test_delete_after_the_cancellation_deadline_answers_409(
    client, make_activity, make_registration
):
    strict = make_activity(cancellation_closes_at=timezone.now() - dt.timedelta(minutes=1))
    registration = make_registration(activity=strict)

    response = client.delete(registration_url(registration.manage_token))

    assert_error(response, 409, "cancellation_closed")
    registration.refresh_from_db()
    assert registration.status == Status.CONFIRMED


# --- POST /waitlist-offers/{token}/claim -------------------------------------------------


@pytest.fixture
def offered(make_registration) -> Registration:
    return make_registration(
        status=Status.OFFERED,
        waitlisted_at=timezone.now(),
        hold_expires_at=timezone.now() + dt.timedelta(hours=48),
    )


def test_claim_in_time_confirms_and_a_second_claim_answers_the_same(client, offered):
    first = post(client, claim_url(offered.manage_token))
    second = post(client, claim_url(offered.manage_token))

    assert first.status_code == second.status_code == 200
    assert first.json()["status"] == second.json()["status"] == "confirmed"
    assert first.json()["ticket_code"] == offered.ticket_code


def test_claim_after_expiry_answers_409(client, offered, time_machine):
    time_machine.move_to(offered.hold_expires_at + dt.timedelta(seconds=1), tick=False)

    assert_error(post(client, claim_url(offered.manage_token)), 409, "offer_expired")
    offered.refresh_from_db()
    assert offered.status == Status.EXPIRED


def test_claim_without_an_offer_answers_409(client, make_registration):
    waiting = make_registration(status=Status.WAITLISTED)

    assert_error(post(client, claim_url(waiting.manage_token)), 409, "invalid_state")


def test_claim_with_malformed_or_unknown_token_answers_404(db, client):
    assert_error(post(client, claim_url("tampered")), 404, "not_found")
    assert_error(post(client, claim_url(new_manage_token())), 404, "not_found")


# --- OpenAPI -----------------------------------------------------------------------------


def test_openapi_document_lists_the_registration_paths(client):
    document = client.get(f"{API}/openapi.json").json()

    # Relative to the document's server, SITE_URL + /api/v1.
    paths = document["paths"]
    expected = {
        ("/activities/{id}/registrations", "post"): {
            "202",
            "400",
            "404",
            "409",
            "415",
            "422",
            "429",
        },
        ("/registrations/{token}", "get"): {"200", "404", "422", "429"},
        ("/registrations/{token}", "patch"): {
            "200",
            "400",
            "404",
            "409",
            "415",
            "422",
            "429",
        },
        ("/registrations/{token}", "delete"): {"200", "404", "409", "422", "429"},
        ("/waitlist-offers/{token}/claim", "post"): {"200", "404", "409", "422", "429"},
    }
    for (path, method), statuses in expected.items():
        responses = paths[path][method]["responses"]
        # Every operation may also answer 503 `unavailable` (the database gone for a moment).
        assert set(responses) == statuses | {"503"}, (path, method)
        for status in statuses - {"200", "202"}:
            error = responses[status]["content"]["application/json"]["schema"]["$ref"]
            assert error == "#/components/schemas/ErrorOut"
    schemas = document["components"]["schemas"]
    assert schemas["SignUpIn"]["additionalProperties"] is False
    assert {"contact_name", "email", "party_size", "consent"} == set(
        schemas["SignUpIn"]["required"]
    )
    # The answer to a sign-up tells nothing about the registration: the e-mail does.
    assert set(schemas["SignUpOut"]["properties"]) == {"activity_id", "message"}
    assert "ticket_code" in schemas["RegistrationOut"]["properties"]
