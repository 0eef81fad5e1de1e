"""The organiser API for activities (events.backoffice.api): create, change, publish, unpublish
with a personal API token, by the editor form's rules."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from events.models import Activity
from jubileum.lib.apitokens import create_token

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
CREATE = "/api/v1/programmes/brandweer-100/activities"
MINIMAL = {
    "title": "Open dag kazerne Soest",
    "summary": "Kijken, klimmen en blussen.",
    "starts_at": "2027-06-12T10:00:00+02:00",
    "ends_at": "2027-06-12T16:00",
    "location_name": "Kazerne Soest",
}


def bearer(user) -> dict[str, str]:
    _row, token = create_token(user, "agenda")
    return {"Authorization": f"Bearer {token}"}


def send(method: str, path: str, body: dict | None = None, **headers):
    return Client().generic(
        method,
        path,
        json.dumps(body) if body is not None else "",
        content_type="application/json",
        headers=headers,
    )


@pytest.fixture
def as_organiser(organiser) -> dict[str, str]:
    return bearer(organiser)


@pytest.fixture
def draft(make_activity) -> Activity:
    return make_activity(
        title="Kinderbrandweermiddag",
        slug="kinderbrandweermiddag",
        status=Activity.Status.DRAFT,
        starts_at=dt.datetime(2027, 4, 10, 14, tzinfo=AMSTERDAM),
        capacity=40,
        price=Decimal("7.50"),
    )


def problems_at(response) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for problem in response.json()["details"]:
        found.setdefault(problem["loc"][-1], []).append(problem["msg"])
    return found


# --- Create ------------------------------------------------------------------------------------


def test_creating_a_minimal_activity_makes_a_draft_with_defaults(
    programme, organiser, as_organiser
):
    response = send("POST", CREATE, MINIMAL | {"title_en": "Open day"}, **as_organiser)

    assert response.status_code == 201, response.content
    body = response.json()
    activity = Activity.objects.get()
    assert body["id"] == activity.pk
    assert (body["slug"], body["status"]) == ("open-dag-kazerne-soest", "draft")
    assert (body["title"], body["title_en"], body["summary_en"]) == (
        "Open dag kazerne Soest",
        "Open day",
        "",
    )
    # Without an offset a moment is Dutch time.
    assert body["ends_at"] == "2027-06-12T16:00:00+02:00"
    assert activity.ends_at == dt.datetime(2027, 6, 12, 16, tzinfo=AMSTERDAM)
    assert (body["price"], body["capacity"], body["max_party_size"]) == ("0.00", None, 6)
    assert (body["registration_required"], body["waitlist_enabled"]) == (True, True)
    assert body["approval_required"] is False
    assert activity.programme == programme


def test_a_price_travels_as_a_string(organiser, as_organiser):
    response = send("POST", CREATE, MINIMAL | {"price": "7.50", "capacity": 40}, **as_organiser)

    assert response.status_code == 201, response.content
    assert Activity.objects.get().price == Decimal("7.50")
    assert response.json()["price"] == "7.50"


def test_mistakes_are_said_in_dutch_at_their_fields_and_nothing_is_saved(organiser, as_organiser):
    body = MINIMAL | {
        "title": "",
        "ends_at": "2027-06-12T09:00:00+02:00",
        "price": "7.505",
        "capacity": 4,
        "max_party_size": 6,
    }

    response = send("POST", CREATE, body, **as_organiser)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    at = problems_at(response)
    assert at["title"] == ["Geef de activiteit een titel."]
    assert at["ends_at"] == ["De activiteit moet eindigen na het begin."]
    assert "hoogstens twee cijfers" in at["price"][0]
    assert "niet meer personen" in at["max_party_size"][0]
    problem = response.json()["details"][0]
    assert problem["loc"][:2] == ["body", "payload"]
    assert not Activity.objects.exists()


def test_mistakes_are_said_in_english_when_asked(organiser, as_organiser):
    response = send(
        "POST", CREATE, MINIMAL | {"title": ""}, **as_organiser, **{"Accept-Language": "en"}
    )

    assert response.status_code == 422
    assert problems_at(response)["title"] == ["Give the activity a title."]
    assert not Activity.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"price": 7.5}, "price", "Moet tekst zijn."),
        ({"starts_at": 1800000000}, "starts_at", "Moet een tijdstip zijn in ISO 8601"),
        ({"starts_at": "0001-01-01T00:00:00+01:00"}, "starts_at", "tussen het jaar 1900"),
        ({"image": "kazerne.png"}, "image", "Dit veld kennen we hier niet."),
        ({"status": "published"}, "status", "Dit veld kennen we hier niet."),
    ],
)
def test_what_the_api_does_not_take_is_refused(organiser, as_organiser, fields, field, message):
    response = send("POST", CREATE, MINIMAL | fields, **as_organiser)

    assert response.status_code == 422, response.content
    assert message in " ".join(problems_at(response)[field])
    assert not Activity.objects.exists()


def test_a_required_field_left_out_is_refused(organiser, as_organiser):
    body = {key: value for key, value in MINIMAL.items() if key != "location_name"}

    response = send("POST", CREATE, body, **as_organiser)

    assert response.status_code == 422
    assert problems_at(response)["location_name"] == ["Dit veld is verplicht."]


# --- Change ------------------------------------------------------------------------------------


def test_patching_one_field_leaves_the_others(draft, as_organiser):
    before = Activity.objects.get(pk=draft.pk)

    response = send(
        "PATCH", f"/api/v1/activities/{draft.pk}", {"location_name": "Kazerne"}, **as_organiser
    )

    assert response.status_code == 200, response.content
    draft.refresh_from_db()
    assert draft.location_name == "Kazerne"
    for name in ("title", "summary", "starts_at", "ends_at", "capacity", "price", "slug"):
        assert getattr(draft, name) == getattr(before, name), name
    assert response.json()["price"] == "7.50"


def test_a_moment_with_seconds_survives_a_change_of_another_field(draft, as_organiser):
    starts_at = dt.datetime(2027, 4, 10, 14, 0, 30, tzinfo=AMSTERDAM)
    Activity.objects.filter(pk=draft.pk).update(starts_at=starts_at)

    response = send("PATCH", f"/api/v1/activities/{draft.pk}", {"title": "Anders"}, **as_organiser)

    assert response.status_code == 200, response.content
    draft.refresh_from_db()
    assert draft.starts_at == starts_at


def test_a_change_that_makes_the_whole_invalid_is_refused(draft, as_organiser):
    response = send(
        "PATCH",
        f"/api/v1/activities/{draft.pk}",
        {"ends_at": "2027-04-10T13:00:00+02:00"},
        **as_organiser,
    )

    assert response.status_code == 422
    assert problems_at(response)["ends_at"] == ["De activiteit moet eindigen na het begin."]
    draft.refresh_from_db()
    assert draft.ends_at == dt.datetime(2027, 4, 10, 16, tzinfo=AMSTERDAM)


def test_null_empties_an_optional_field(draft, as_organiser):
    response = send("PATCH", f"/api/v1/activities/{draft.pk}", {"capacity": None}, **as_organiser)

    assert response.status_code == 200, response.content
    draft.refresh_from_db()
    assert draft.capacity is None


def test_a_cancelled_activity_cannot_be_changed(make_activity, as_organiser):
    cancelled = make_activity(status=Activity.Status.CANCELLED, title="Afgelast")
    path = f"/api/v1/activities/{cancelled.pk}"

    for method, url, body, code in [
        ("PATCH", path, {"title": "Toch"}, "activity_cancelled"),
        ("POST", f"{path}/publish", None, "invalid_state"),
        ("POST", f"{path}/unpublish", None, "invalid_state"),
    ]:
        response = send(method, url, body, **as_organiser)
        assert (response.status_code, response.json()["code"]) == (409, code), url
        assert set(response.json()) == {"code", "message", "details"}
    cancelled.refresh_from_db()
    assert (cancelled.title, cancelled.status) == ("Afgelast", Activity.Status.CANCELLED)


# --- Publish and unpublish ---------------------------------------------------------------------


def test_publishing_shows_the_activity_in_the_public_list(draft, as_organiser):
    listed = "/api/v1/programmes/brandweer-100/activities"
    assert draft.pk not in {row["id"] for row in Client().get(listed).json()["items"]}

    response = send("POST", f"/api/v1/activities/{draft.pk}/publish", **as_organiser)

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "published"
    assert draft.pk in {row["id"] for row in Client().get(listed).json()["items"]}


def test_publishing_twice_is_a_conflict(draft, as_organiser):
    send("POST", f"/api/v1/activities/{draft.pk}/publish", **as_organiser)

    response = send("POST", f"/api/v1/activities/{draft.pk}/publish", **as_organiser)

    assert response.status_code == 409
    assert response.json() == {
        "code": "invalid_state",
        "message": "Dit botst met de huidige stand van zaken.",
        "details": {"model": "activity", "from": "published", "to": "published"},
    }


def test_unpublishing_hides_the_activity_again(activity, as_organiser):
    response = send("POST", f"/api/v1/activities/{activity.pk}/unpublish", **as_organiser)

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "draft"
    assert Client().get(f"/api/v1/activities/{activity.pk}").status_code == 404
    again = send("POST", f"/api/v1/activities/{activity.pk}/unpublish", **as_organiser)
    assert (again.status_code, again.json()["code"]) == (409, "invalid_state")


# --- Who may --------------------------------------------------------------------------------


def _each_operation(activity: Activity, slug: str = "brandweer-100"):
    yield "POST", f"/api/v1/programmes/{slug}/activities", MINIMAL
    yield "PATCH", f"/api/v1/activities/{activity.pk}", {"title": "Overgenomen"}
    yield "POST", f"/api/v1/activities/{activity.pk}/publish", None
    yield "POST", f"/api/v1/activities/{activity.pk}/unpublish", None


def _unchanged(activity: Activity) -> bool:
    fresh = Activity.objects.get(pk=activity.pk)
    return Activity.objects.count() == 1 and (fresh.title, fresh.status) == (
        activity.title,
        activity.status,
    )


def test_a_viewer_may_change_nothing(draft, viewer):
    headers = bearer(viewer)
    for method, path, body in _each_operation(draft):
        response = send(method, path, body, **headers)
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied"), path
    assert _unchanged(draft)


def test_another_programmes_organiser_finds_nothing(draft, make_user, make_programme):
    other = make_programme()
    stranger = make_user("buurman", "organiser", other)
    headers = bearer(stranger)
    for method, path, body in _each_operation(draft):
        response = send(method, path, body, **headers)
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), path
    assert _unchanged(draft)


def test_without_a_token_the_answer_is_401(draft):
    for method, path, body in _each_operation(draft):
        response = send(method, path, body)
        assert response.status_code == 401, path
        assert response.json()["code"] == "not_authenticated"
    assert _unchanged(draft)


# --- History -----------------------------------------------------------------------------------


def test_the_history_names_the_tokens_user(organiser, as_organiser):
    created = send("POST", CREATE, MINIMAL, **as_organiser).json()
    send("PATCH", f"/api/v1/activities/{created['id']}", {"title": "Anders"}, **as_organiser)
    send("POST", f"/api/v1/activities/{created['id']}/publish", **as_organiser)

    records = Activity.objects.get(pk=created["id"]).history.order_by("history_date")
    assert [(r.history_type, r.title, r.status) for r in records] == [
        ("+", "Open dag kazerne Soest", "draft"),
        ("~", "Anders", "draft"),
        ("~", "Anders", "published"),
    ]
    assert {r.history_user for r in records} == {organiser}


def test_the_organiser_session_works_with_its_csrf_token(organiser, draft):
    client = Client(enforce_csrf_checks=True)
    client.force_login(organiser)
    path = f"/api/v1/activities/{draft.pk}/publish"

    refused = client.post(path, content_type="application/json")
    client.get("/beheer/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    published = client.post(path, content_type="application/json", headers={"X-CSRFToken": token})

    assert (refused.status_code, published.status_code) == (403, 200)
    draft.refresh_from_db()
    assert draft.status == Activity.Status.PUBLISHED
