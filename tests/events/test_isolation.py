"""Two programmes side by side: whatever the organiser of programme A asks, programme B's pages,
objects and API operations answer as if they did not exist, as `events.access` promises.

The walk covers every URL pattern of the organiser area (the `organiser` and `budget`
namespaces, and anything else under /beheer/) and every operation in the API's OpenAPI document.
Each is filled with B's objects from the tables in `tests.walk` and requested as A's organiser;
a second round mixes A's programme slug with B's objects, as a forged link would. A pattern or
operation with a parameter these tables cannot fill makes the walk FAIL, so a page added later
is covered the moment it lands: add a row to URL_KWARGS, API_IDS, API_PARAMS or API_BODIES.

The rules checked:

- organiser pages: 404 for B's objects, for every method the view accepts (405 for a method it
  does not accept, answered before anything is looked up); B's rows are unchanged afterwards.
  A page without parameters (the index) shows nothing of B.
- organiser API (the session, or A's organiser's personal token): 404 `not_found`, the same
  answer as for a programme that does not exist (budget/api.py).
- scanner API (the token of A's scanner device): 404 for B's activity; offline sync answers
  `wrong_activity` per scan instead, as its rule says (registrations/checkin/services.py).
- public API operations: the same answer for A's organiser as for an anonymous visitor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from jubileum.lib.apitokens import create_token
from registrations.models import CheckIn
from tests.walk import (
    URL_KWARGS,
    Route,
    World,
    all_routes,
    api_operations,
    build_world,
    operations_for,
    read,
    rows_of,
)

pytestmark = pytest.mark.usefixtures("private_media", "tasks")


@pytest.fixture
def a(programme, django_user_model) -> World:
    return build_world(programme, "a", django_user_model)


@pytest.fixture
def b(make_programme, django_user_model) -> World:
    other = make_programme(name="Veiligheidsmarkt Zuid", slug="veiligheidsmarkt-zuid")
    return build_world(other, "b", django_user_model)


@pytest.fixture
def as_a(client, a) -> Client:
    client.force_login(a.organiser)
    return client


# --- The organiser area ------------------------------------------------------------------------

ORGANISER_NAMESPACES = {"organiser", "budget"}


def organiser_routes() -> list[Route]:
    return [
        route
        for route in all_routes()
        if route.route.startswith("beheer/")
        or (route.name or "").split(":")[0] in ORGANISER_NAMESPACES
    ]


def _fillable(route: Route) -> bool:
    return route.name is not None and all(key in URL_KWARGS for key in route.kwargs)


def _status(client: Client, method: str, url: str) -> int:
    response = client.generic(method, url)
    read(response)
    return response.status_code


def test_every_organiser_url_can_be_filled():
    routes = organiser_routes()
    unnamed = [route.route for route in routes if route.name is None]
    unknown = {
        str(route): sorted(set(route.kwargs) - set(URL_KWARGS))
        for route in routes
        if set(route.kwargs) - set(URL_KWARGS)
    }

    assert not unnamed, f"Give these organiser URL patterns a name: {unnamed}"
    assert not unknown, (
        "These organiser URLs have keywords the isolation walk cannot fill; add them to "
        f"URL_KWARGS in tests.walk: {unknown}"
    )
    names = {route.name for route in routes}
    # The walk sees both namespaces and the pages every programme has.
    assert {"organiser:index", "organiser:approve", "budget:dashboard", "budget:download"} <= names


def test_own_objects_are_found(as_a, a, b):
    """The tables fill every page correctly: A's organiser reaches A's pages (else a 404 below
    would prove nothing)."""
    not_found = []
    for route in filter(_fillable, organiser_routes()):
        status = _status(as_a, "GET", route.url(a))
        if status == 404:
            not_found.append(str(route))

    assert not not_found, f"A's organiser got 404 on A's own pages: {not_found}"


def _refusals(client: Client, route: Route, url: str) -> str | None:
    """None when GET and POST both refuse without revealing anything, else what went wrong."""
    statuses = {method: _status(client, method, url) for method in ("GET", "POST")}
    if any(status not in (404, 405) for status in statuses.values()) or 404 not in (
        statuses.values()
    ):
        return f"{route}: {url} answered {statuses}"
    return None


def test_organiser_of_a_gets_404_for_every_page_of_b(as_a, a, b):
    before = rows_of(b)
    problems = []
    for route in filter(_fillable, organiser_routes()):
        if not route.kwargs:
            response = as_a.get(reverse(route.name))
            html = response.content.decode(errors="replace")
            for secret in (b.programme.name, b.programme.slug, b.registration.contact_name):
                if secret in html:
                    problems.append(f"{route} shows {secret!r} of programme B")
            continue
        problem = _refusals(as_a, route, route.url(b))
        if problem:
            problems.append(problem)

    assert not problems, "Programme B leaks to A's organiser:\n" + "\n".join(problems)
    assert rows_of(b) == before


def test_a_programme_slug_of_ones_own_does_not_open_b_objects(as_a, a, b):
    """A forged link: A's programme in the address, B's activity, registration, expense ..."""
    before = rows_of(b)
    problems = []
    for route in filter(_fillable, organiser_routes()):
        if set(route.kwargs) - {"programme_slug"} and "programme_slug" in route.kwargs:
            problem = _refusals(as_a, route, route.url(b, programme_of=a))
            if problem:
                problems.append(problem)

    assert not problems, "B's objects open under A's programme:\n" + "\n".join(problems)
    assert rows_of(b) == before


# --- The API -----------------------------------------------------------------------------------

# Public operations that change something: no organiser right is involved (the body or the
# personal token is the key), so there is nothing of A's organiser to isolate. GET operations
# without auth are checked by `test_public_operations_answer_a_organiser_as_anyone`.
PUBLIC_CHANGES = {
    "registrations_api_sign_up": "anyone may sign up for a published activity",
    "registrations_api_change_registration": "the manage token is the key",
    "registrations_api_cancel_registration": "the manage token is the key",
    "registrations_api_claim_offer": "the manage token is the key",
    "registrations_checkin_api_pair": "the one-time pairing code is the key",
}

# Device operations whose rule is not a 404 for another programme's activity.
DEVICE_ANSWERS: dict[str, Callable[[dict[str, Any], World], None]] = {}


def test_every_api_operation_can_be_filled():
    operations = api_operations()
    unknown_schemes = {
        str(op): sorted(op.schemes - {"OrganiserAuth", "DeviceAuth"})
        for op in operations
        if op.schemes - {"OrganiserAuth", "DeviceAuth"}
    }
    missing = {str(op): op.missing() for op in operations if op.missing()}
    unlisted_changes = [
        str(op)
        for op in operations
        if not op.schemes and op.method != "GET" and op.operation_id not in PUBLIC_CHANGES
    ]

    assert not unknown_schemes, f"Decide what these auth schemes may see of B: {unknown_schemes}"
    assert not missing, (
        "The isolation walk cannot fill these API operations; add rows to API_IDS, API_PARAMS "
        f"or API_BODIES in tests.walk: {missing}"
    )
    assert not unlisted_changes, (
        "Public operations that change something: say in PUBLIC_CHANGES why no organiser right "
        f"is involved: {unlisted_changes}"
    )
    assert operations_for("OrganiserAuth") and operations_for("DeviceAuth")


def _not_found(response) -> str | None:
    if response.status_code == 404 and response.json()["code"] == "not_found":
        return None
    return f"{response.status_code} {response.content[:200]!r}"


def test_organiser_api_answers_404_for_b_by_session_and_by_token(as_a, a, b):
    _row, token = create_token(a.organiser, "isolatie")
    anonymous = Client()
    before = rows_of(b)
    problems = []
    for op in operations_for("OrganiserAuth"):
        for how, client, headers in [
            ("session", as_a, {}),
            ("token", anonymous, {"Authorization": f"Bearer {token}"}),
        ]:
            for label, kwargs in [("B", {}), ("A's slug, B's object", {"programme_of": a})]:
                if label != "B" and "id" not in op.path_params:
                    continue
                problem = _not_found(op.request(client, b, **kwargs, **headers))
                if problem:
                    problems.append(f"{op} by {how} with {label}: {problem}")

    assert not problems, "The organiser API leaks programme B:\n" + "\n".join(problems)
    assert rows_of(b) == before


def test_organiser_api_reaches_own_programme(as_a, a, b):
    """The same requests with A's objects pass the access rule, so the 404s above come from it.
    (A business rule may still refuse: A's organiser recorded the expense, so may not approve
    it, 403 `own_expense`.)"""
    refused = []
    for op in operations_for("OrganiserAuth"):
        response = op.request(as_a, a)
        if response.status_code in (401, 403, 404) and response.json()["code"] in (
            "not_authenticated",
            "permission_denied",
            "not_found",
        ):
            refused.append(f"{op}: {response.status_code} {response.json()['code']}")

    assert not refused


def test_scanner_api_of_a_device_of_a_answers_404_for_b(client, a, b):
    headers = {"Authorization": f"Bearer {a.device_token}"}
    before = rows_of(b)
    problems = []
    for op in operations_for("DeviceAuth"):
        response = op.request(client, b, **headers)
        if op.operation_id in DEVICE_ANSWERS:
            DEVICE_ANSWERS[op.operation_id](response, b)
        elif not op.path_params and not op.required_query and not op.has_body:
            # Nothing of B was asked for: the answer must not mention it.
            if response.status_code != 200 or str(b.activity.pk) in {
                str(row.get("id")) for row in response.json()
            }:
                problems.append(f"{op}: {response.status_code} {response.content[:200]!r}")
        elif op.operation_id == "registrations_checkin_api_sync":
            results = response.json()["results"] if response.status_code == 200 else None
            if not results or {r["result"] for r in results} != {"wrong_activity"}:
                problems.append(f"{op}: {response.status_code} {response.content[:200]!r}")
        else:
            problem = _not_found(response)
            if problem:
                problems.append(f"{op}: {problem}")

    assert not problems, "A's scanner reaches programme B:\n" + "\n".join(problems)
    assert rows_of(b) == before


def test_scanner_of_a_does_not_admit_a_ticket_of_b_at_its_own_activity(client, a, b):
    response = client.post(
        "/api/v1/checkin/redeem",
        {"code": b.registration.ticket_code, "activity": a.activity.pk, "nonce": "vreemd"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {a.device_token}"},
    )

    assert response.status_code == 200
    assert response.json()["result"] in ("wrong_activity", "unknown")
    assert response.json()["admitted"] == 0
    assert not CheckIn.objects.filter(registration=b.registration).exists()


def test_public_operations_answer_a_organiser_as_anyone(as_a, a, b):
    different = []
    for op in api_operations():
        if op.schemes or op.method != "GET":
            continue
        mine, anyones = op.request(as_a, b), op.request(Client(), b)
        if (mine.status_code, mine.content) != (anyones.status_code, anyones.content):
            different.append(f"{op}: {mine.status_code} vs {anyones.status_code}")

    assert not different, "Being A's organiser changes a public answer:\n" + "\n".join(different)
