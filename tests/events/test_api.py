from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo
from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders

from events.models import Activity, Programme

AMSTERDAM = zoneinfo.ZoneInfo("Europe/Amsterdam")
API = "/api/v1"


def activities_url(programme: Programme) -> str:
    return f"{API}/programmes/{programme.slug}/activities"


def make_programme(slug: str, **fields) -> Programme:
    values = {
        "name": f"Programma {slug}",
        "slug": slug,
        "starts_on": dt.date(2027, 10, 1),
        "ends_on": dt.date(2027, 10, 8),
        "organiser_name": "Gemeente Soest",
        "organiser_email": "veiligheid@example.org",
        "is_public": True,
    }
    values.update(fields)
    return Programme.objects.create(**values)


@pytest.fixture(autouse=True)
def _before_the_programme(time_machine):
    # Activities below are dated from December 2026; look at them from before they happen.
    time_machine.move_to(dt.datetime(2026, 11, 1, 12, tzinfo=AMSTERDAM))


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert body["message"]
    return body


@pytest.fixture
def dinner(make_activity) -> Activity:
    return make_activity(
        title="Reünie-diner",
        slug="reunie-diner",
        summary="Diner voor leden en oud-leden.",
        starts_at=dt.datetime(2026, 12, 12, 18, 30, tzinfo=AMSTERDAM),
        audience=Activity.Audience.MEMBERS,
        capacity=80,
        price=Decimal("12.5"),
    )


# GET /programmes


def test_programmes_lists_public_programmes_with_links(client, programme):
    make_programme("verborgen", is_public=False)

    response = client.get(f"{API}/programmes")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["items"] == [
        {
            "slug": "brandweer-100",
            "name": "Brandweer Soest & Soesterberg 100 jaar",
            "description": "Honderd jaar brandweer in Soest en Soesterberg.",
            "translations": {
                "nl": {
                    "name": "Brandweer Soest & Soesterberg 100 jaar",
                    "description": "Honderd jaar brandweer in Soest en Soesterberg.",
                },
                "en": {"name": None, "description": None},
            },
            "starts_on": "2026-12-01",
            "ends_on": "2027-03-31",
            "organiser_name": "Gemeente Soest",
            "organiser_email": "jubileum@example.org",
            "organiser_phone": "",
            "theme_colour": "#B41E1E",
            "logo_url": None,
            "logo_alt": "",
            "url": "http://testserver/programma/brandweer-100/",
            "activities_url": "http://testserver/api/v1/programmes/brandweer-100/activities",
            "ics_url": "http://testserver/programma/brandweer-100/agenda.ics",
        }
    ]


def test_programmes_are_paginated(client, programme):
    for n in range(3):
        make_programme(f"week-{n}", starts_on=dt.date(2028, 1, 1 + n))

    first = client.get(f"{API}/programmes", {"page_size": 2}).json()
    second = client.get(f"{API}/programmes", {"page_size": 2, "page": 2}).json()

    assert first["count"] == second["count"] == 4
    assert [p["slug"] for p in first["items"]] == ["week-2", "week-1"]
    assert [p["slug"] for p in second["items"]] == ["week-0", "brandweer-100"]


@pytest.mark.parametrize(
    "params", [{"page_size": 201}, {"page_size": 0}, {"page": 0}, {"page": 10_001}, {"page": "x"}]
)
def test_page_bounds_are_enforced(client, programme, params):
    body = assert_error(client.get(f"{API}/programmes", params), 422, "validation_error")

    assert body["details"][0]["loc"][0] == "query"


@pytest.mark.parametrize("count", [5, 50])
def test_programmes_query_count_does_not_grow(client, db, django_assert_max_num_queries, count):
    Programme.objects.bulk_create(
        Programme(
            name=f"Programma {n}",
            slug=f"programma-{n}",
            starts_on=dt.date(2027, 1, 1),
            ends_on=dt.date(2027, 2, 1),
            organiser_name="Gemeente Soest",
            organiser_email="veiligheid@example.org",
            is_public=True,
        )
        for n in range(count)
    )

    with django_assert_max_num_queries(2):
        body = client.get(f"{API}/programmes", {"page_size": 200}).json()

    assert body["count"] == count
    assert len(body["items"]) == min(count, 200)


# GET /programmes/{slug}/activities


def test_activity_shape_and_values(client, dinner, make_registration):
    make_registration(activity=dinner, party_size=3)

    items = client.get(activities_url(dinner.programme)).json()["items"]

    # make_registration brings its own activity along; look at the dinner.
    assert [item for item in items if item["id"] == dinner.pk] == [
        {
            "id": dinner.pk,
            "programme": "brandweer-100",
            "slug": "reunie-diner",
            "title": "Reünie-diner",
            "summary": "Diner voor leden en oud-leden.",
            "description": "",
            "translations": {
                "nl": {
                    "title": "Reünie-diner",
                    "summary": "Diner voor leden en oud-leden.",
                    "description": "",
                    "location_name": "Kazerne Soest",
                },
                "en": {"title": None, "summary": None, "description": None, "location_name": None},
            },
            "starts_at": "2026-12-12T18:30:00+01:00",
            "ends_at": "2026-12-12T20:30:00+01:00",
            "location": {"name": "Kazerne Soest", "address": "Birkstraat 1, 3768 HD Soest"},
            "audience": "members",
            "status": "published",
            "registration_required": True,
            "registration_open": True,
            "registration_opens_at": None,
            "registration_closes_at": None,
            "capacity": 80,
            "places_left": 77,
            "max_party_size": 6,
            "waitlist_enabled": True,
            "price": "12.50",
            "currency": "EUR",
            "url": "http://testserver/programma/brandweer-100/activiteit/reunie-diner/",
            "ics_url": "http://testserver/programma/brandweer-100/activiteit/reunie-diner/agenda.ics",
        }
    ]


def test_summer_time_offset_and_unlimited_places(client, make_activity):
    make_activity(starts_at=dt.datetime(2026, 4, 2, 10, tzinfo=AMSTERDAM), capacity=None)

    [item] = client.get(activities_url(make_activity().programme), {"month": "2026-04"}).json()[
        "items"
    ]

    assert item["starts_at"] == "2026-04-02T10:00:00+02:00"
    assert item["places_left"] is None
    assert item["price"] == "0.00"


def test_activities_exclude_drafts_and_include_cancelled(client, programme, make_activity):
    published = make_activity()
    cancelled = make_activity(status=Activity.Status.CANCELLED)
    make_activity(status=Activity.Status.DRAFT)

    items = client.get(activities_url(programme)).json()["items"]

    assert {(i["id"], i["status"]) for i in items} == {
        (published.pk, "published"),
        (cancelled.pk, "cancelled"),
    }


def test_activities_filter_by_audience_month_and_availability(
    client, programme, make_activity, make_registration
):
    december = dt.datetime(2026, 12, 5, 14, tzinfo=AMSTERDAM)
    january = dt.datetime(2027, 1, 9, 14, tzinfo=AMSTERDAM)
    open_day = make_activity(starts_at=december, capacity=None)
    reunion = make_activity(starts_at=january, audience=Activity.Audience.MEMBERS, capacity=2)
    make_registration(activity=reunion, party_size=2)
    talk = make_activity(starts_at=january, capacity=50)

    def ids(**params) -> set[int]:
        response = client.get(activities_url(programme), params)
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["items"]}

    assert ids() == {open_day.pk, reunion.pk, talk.pk}
    assert ids(audience="members") == {reunion.pk}
    assert ids(month="2027-01") == {reunion.pk, talk.pk}
    assert ids(month="2026-12") == {open_day.pk}
    assert ids(available="true") == {open_day.pk, talk.pk}
    assert ids(available="true", month="2027-01", audience="public") == {talk.pk}
    # The page's form sends empty values for "all".
    assert ids(audience="", month="", available="false") == {open_day.pk, reunion.pk, talk.pk}


def test_activities_are_paginated_in_start_order(client, programme, make_activity):
    start = dt.datetime(2026, 12, 1, 10, tzinfo=AMSTERDAM)
    made = [make_activity(starts_at=start + dt.timedelta(days=n)) for n in range(5)]

    body = client.get(activities_url(programme), {"page": 2, "page_size": 2}).json()

    assert body["count"] == 5
    assert [item["id"] for item in body["items"]] == [made[2].pk, made[3].pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"month": "2026-13"}, "month"),
        ({"month": "2026-1"}, "month"),
        ({"month": "december"}, "month"),
        ({"month": "1899-12"}, "month"),
        ({"audience": "everyone"}, "audience"),
        ({"available": "maybe"}, "available"),
        ({"audiense": "members"}, "audiense"),
    ],
)
def test_bad_filters_are_422_with_details(client, programme, params, field):
    response = client.get(activities_url(programme), params)

    body = assert_error(response, 422, "validation_error")
    assert body["message"] == "De invoer klopt niet; zie de details."
    [problem] = body["details"]
    assert problem["loc"] == ["query", field]
    assert problem["msg"]
    assert problem["type"]


def test_unknown_or_hidden_programme_is_404_json(client, programme):
    hidden = make_programme("verborgen", is_public=False)

    for slug in ("onbekend", hidden.slug):
        body = assert_error(client.get(f"{API}/programmes/{slug}/activities"), 404, "not_found")
        assert body["details"] == {}


@pytest.mark.parametrize("count", [5, 50])
def test_activities_query_count_does_not_grow(
    client, programme, many_activities, django_assert_max_num_queries, count
):
    many_activities(count)
    listed = Activity.objects.listed().with_places_taken().filter(programme=programme)
    expected_places_left = {a.pk: a.places_left for a in listed}

    with django_assert_max_num_queries(3):
        body = client.get(activities_url(programme), {"page_size": 200}).json()

    assert body["count"] == count
    assert len(body["items"]) == min(count, 200)
    assert {item["id"]: item["places_left"] for item in body["items"]} == {
        item["id"]: expected_places_left[item["id"]] for item in body["items"]
    }
    assert None in expected_places_left.values()
    assert 34 in expected_places_left.values()  # booked: 40 places minus 3 parties of 2


# GET /activities/{id}


def test_activity_detail(client, dinner, make_registration):
    make_registration(activity=dinner, party_size=4)
    make_registration(activity=dinner, party_size=2, status="cancelled")

    response = client.get(f"{API}/activities/{dinner.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == dinner.pk
    assert body["places_left"] == 76
    assert body["price"] == "12.50"
    assert body["currency"] == "EUR"
    assert body["registration_open"] is True
    assert body["ics_url"].endswith("/activiteit/reunie-diner/agenda.ics")


def test_activity_detail_when_registration_closed(client, make_activity):
    past_window = make_activity(
        registration_closes_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        registration_opens_at=dt.datetime(2019, 12, 1, tzinfo=dt.UTC),
    )

    body = client.get(f"{API}/activities/{past_window.pk}").json()

    assert body["registration_open"] is False
    assert body["registration_closes_at"] == "2020-01-01T01:00:00+01:00"


def test_draft_unknown_and_hidden_activities_are_404_json(client, make_activity):
    draft = make_activity(status=Activity.Status.DRAFT)
    hidden = make_activity(programme=make_programme("verborgen", is_public=False))

    for pk in (draft.pk, hidden.pk, 999_999):
        assert_error(client.get(f"{API}/activities/{pk}"), 404, "not_found")


@pytest.mark.parametrize("bad_id", ["0", "abc", str(2**63), "9" * 40])
def test_impossible_activity_ids_are_422(client, programme, bad_id):
    body = assert_error(client.get(f"{API}/activities/{bad_id}"), 422, "validation_error")

    assert body["details"][0]["loc"] == ["path", "id"]


def test_detail_refuses_query_parameters(client, activity):
    body = assert_error(client.get(f"{API}/activities/{activity.pk}?x=1"), 422, "validation_error")

    assert body["details"] == [
        {"type": "extra_forbidden", "loc": ["query", "x"], "msg": "Dit veld kennen we hier niet."}
    ]


# The OpenAPI document and the docs page


def test_openapi_document_lists_the_paths_with_response_schemas(client):
    response = client.get(f"{API}/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["info"] == {
        "title": "Jubileum API",
        "version": "1",
        "description": document["info"]["description"],
    }
    paths = document["paths"]
    expected = {
        "/programmes": ("PagedProgrammeOut", {"200", "422"}),
        "/programmes/{slug}/activities": ("PagedActivityOut", {"200", "404", "422"}),
        "/activities/{id}": ("ActivityDetailOut", {"200", "404", "422"}),
    }
    assert set(expected) <= set(paths)
    for path, (schema, statuses) in expected.items():
        responses = paths[path]["get"]["responses"]
        # Every operation may also answer 503 `unavailable` (the database gone for a moment).
        assert set(responses) == statuses | {"503"}
        ok = responses["200"]["content"]["application/json"]["schema"]["$ref"]
        assert ok == f"#/components/schemas/{schema}"
        for status in statuses - {"200"}:
            error = responses[status]["content"]["application/json"]["schema"]["$ref"]
            assert error == "#/components/schemas/ErrorOut"
    schemas = document["components"]["schemas"]
    assert {"count", "items"} <= set(schemas["PagedActivityOut"]["properties"])
    assert "places_left" in schemas["ActivityOut"]["properties"]
    filters = {p["name"] for p in paths["/programmes/{slug}/activities"]["get"]["parameters"]}
    assert filters == {"slug", "audience", "month", "available", "page", "page_size"}


def test_docs_page_loads_nothing_from_other_hosts(client):
    response = client.get(f"{API}/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui-bundle.js" in html
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", html)
    assert urls
    assert all(url.startswith("/static/") for url in urls), urls
    assert not re.search(r"https?://", html)
    for url in urls:
        assert finders.find(url.removeprefix("/static/")), url
    settings = json.loads(re.search(r'id="swagger-settings">(.*?)</script>', html, re.S)[1])
    assert settings["validatorUrl"] is None  # else Swagger UI asks validator.swagger.io


def test_programme_logo_is_an_absolute_url(client, programme):
    programme.logo = "programmes/logos/brandweer.svg"
    programme.logo_alt = "Wapen van de brandweer"
    programme.save()

    [item] = client.get(f"{API}/programmes").json()["items"]

    assert item["logo_url"] == "http://testserver/media/programmes/logos/brandweer.svg"
    assert item["logo_alt"] == "Wapen van de brandweer"
