"""Two programmes side by side: whatever the organiser of programme A asks, programme B's pages,
objects and API operations answer as if they did not exist, as `events.access` promises.

The walk covers every URL pattern of the organiser area (the `organiser` and `budget`
namespaces, and anything else under /beheer/) and every operation in the API's OpenAPI document.
Each is filled with B's objects from the tables below and requested as A's organiser; a second
round mixes A's programme slug with B's objects, as a forged link would. A pattern or operation
with a parameter these tables cannot fill makes the walk FAIL, so a page added later is covered
the moment it lands: add a row to URL_KWARGS, API_IDS, API_QUERY or API_BODIES.

The rules checked:

- organiser pages: 404 for B's objects, for every method the view accepts (405 for a method it
  does not accept, answered before anything is looked up); B's rows are unchanged afterwards.
  A page without parameters (the index) shows nothing of B.
- organiser API (the session, or A's organiser's personal token): 404 `not_found`, the same
  answer as for a programme that does not exist (budget/api.py).
- scanner API (the token of A's scanner device): 404 for B's activity; offline sync answers
  `wrong_activity` per scan instead, as its rule says (registrations/checkin.py).
- public API operations: the same answer for A's organiser as for an anonymous visitor.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished
from django.db import close_old_connections
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from budget import services as budget_services
from budget.models import Attachment, Budget, Category, Expense, Income
from events.models import Activity, Programme, ProgrammeRole, Question
from jubileum.api import api
from jubileum.apitokens import create_token
from registrations import devices
from registrations.models import (
    CheckIn,
    Invitation,
    Message,
    Registration,
    RosterEntry,
    ScannerDevice,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# --- Two worlds --------------------------------------------------------------------------------


@dataclass
class World:
    """One programme with one of everything the organiser area and the API can point at."""

    programme: Programme
    organiser: Any
    activity: Activity
    registration: Registration
    question: Question
    message: Message
    device: ScannerDevice
    device_token: str
    budget: Budget
    category: Category
    expense: Expense
    attachment: Attachment
    income: Income


def build_world(programme: Programme, tag: str, django_user_model) -> World:
    organiser = django_user_model.objects.create_user(f"organisator-{tag}", is_staff=True)
    ProgrammeRole.objects.create(
        user=organiser, programme=programme, role=ProgrammeRole.Role.ORGANISER
    )
    starts_at = timezone.now() + dt.timedelta(days=14)
    activity = Activity.objects.create(
        programme=programme,
        title=f"Activiteit {tag}",
        slug=f"activiteit-{tag}",
        summary="Een middag vol veiligheid.",
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
        location_name="Kazerne",
        capacity=20,
        status=Activity.Status.PUBLISHED,
    )
    registration = Registration.objects.create(
        activity=activity,
        status=Registration.Status.CONFIRMED,
        contact_name=f"Deelnemer {tag}",
        email=f"deelnemer-{tag}@example.org",
        party_size=2,
        consent_at=timezone.now(),
    )
    question = Question.objects.create(
        activity=activity, label=f"Vraag {tag}", kind=Question.Kind.TEXT
    )
    message = Message.objects.create(
        activity=activity,
        audience=Message.Audience.CONFIRMED,
        subject=f"Bericht {tag}",
        body="Tot zaterdag!",
        sent_by=organiser,
    )
    new_device = devices.create_device(programme, [activity.pk], with_token=True)
    budget = Budget.objects.create(programme=programme, total=Decimal("1000.00"))
    category = budget.categories.order_by("position").first()
    expense = budget_services.record_expense(
        budget,
        by=organiser,
        category=category,
        supplier=f"Leverancier {tag}",
        description="Koffie",
        date=dt.date(2027, 1, 15),
        amount_excl_vat=Decimal("10.00"),
    )
    upload = SimpleUploadedFile("offerte.pdf", PDF, content_type="application/pdf")
    attachment = budget_services.add_attachment(expense.pk, upload, "quote", by=organiser)
    income = budget_services.record_income(
        budget,
        by=organiser,
        kind=Income.Kind.SPONSORSHIP,
        description=f"Sponsor {tag}",
        date=dt.date(2027, 1, 10),
        amount=Decimal("50.00"),
    )
    return World(
        programme=programme,
        organiser=organiser,
        activity=activity,
        registration=registration,
        question=question,
        message=message,
        device=new_device.device,
        device_token=new_device.token,
        budget=budget,
        category=category,
        expense=expense,
        attachment=attachment,
        income=income,
    )


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "private", "base_url": None},
        },
    }


@pytest.fixture(autouse=True)
def tasks(settings):
    """Mail and alert tasks stay in memory."""
    from django.tasks import default_task_backend

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    default_task_backend.clear()


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


# Everything of a programme that a leaking page or operation could change.
PROGRAMME_ROWS: list[tuple[type, str]] = [
    (Programme, "pk"),
    (Activity, "programme"),
    (Registration, "activity__programme"),
    (Question, "activity__programme"),
    (Message, "activity__programme"),
    (Invitation, "activity__programme"),
    (RosterEntry, "programme"),
    (ScannerDevice, "programme"),
    (CheckIn, "registration__activity__programme"),
    (Budget, "programme"),
    (Category, "budget__programme"),
    (Expense, "budget__programme"),
    (Attachment, "expense__budget__programme"),
    (Income, "budget__programme"),
]


def rows_of(world: World) -> dict[str, list[dict[str, Any]]]:
    return {
        model.__name__: list(
            model.objects.filter(**{path: world.programme.pk}).order_by("pk").values()
        )
        for model, path in PROGRAMME_ROWS
    }


# --- The organiser area ------------------------------------------------------------------------

# URL keyword → how to fill it from a world. A pattern under /beheer/ with a keyword not in this
# table fails `test_every_organiser_url_can_be_filled`: add the keyword here.
URL_KWARGS: dict[str, Callable[[World], str | int]] = {
    "programme_slug": lambda w: w.programme.slug,
    "activity_slug": lambda w: w.activity.slug,
    "registration_id": lambda w: w.registration.pk,
    "question_id": lambda w: w.question.pk,
    "message_id": lambda w: w.message.pk,
    "device_id": lambda w: w.device.pk,
    "expense_id": lambda w: w.expense.pk,
    "attachment_id": lambda w: w.attachment.pk,
    "income_id": lambda w: w.income.pk,
}

ORGANISER_NAMESPACES = {"organiser", "budget"}


@dataclass(frozen=True)
class Route:
    route: str
    name: str | None  # "organiser:approve"
    kwargs: tuple[str, ...]

    def url(self, world: World, programme_of: World | None = None) -> str:
        values = {key: URL_KWARGS[key](world) for key in self.kwargs}
        if programme_of is not None:
            values["programme_slug"] = programme_of.programme.slug
        return reverse(self.name, kwargs=values)

    def __str__(self) -> str:
        return f"{self.name} (/{self.route})"


def _walk(patterns, prefix: str = "", namespace: str = "", kwargs=()) -> Iterator[Route]:
    for pattern in patterns:
        keys = (*kwargs, *getattr(pattern.pattern, "converters", {}).keys())
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, route, inner, keys)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield Route(route=route, name=name, kwargs=tuple(dict.fromkeys(keys)))


def organiser_routes() -> list[Route]:
    return [
        route
        for route in _walk(get_resolver().url_patterns)
        if route.route.startswith("beheer/")
        or (route.name or "").split(":")[0] in ORGANISER_NAMESPACES
    ]


def _fillable(route: Route) -> bool:
    return route.name is not None and all(key in URL_KWARGS for key in route.kwargs)


def _status(client: Client, method: str, url: str) -> int:
    response = client.generic(method, url)
    # Close downloads' files (else ResourceWarning), without the request_finished handler
    # that would close the test's database connection, as Django's own test client does.
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
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
        f"URL_KWARGS in {__name__}: {unknown}"
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

# The collection before `{id}` in an API path → the object of a world its id names.
API_IDS: dict[str, Callable[[World], int]] = {
    "activities": lambda w: w.activity.pk,
    "expenses": lambda w: w.expense.pk,
    "income": lambda w: w.income.pk,
    "registrations": lambda w: w.registration.pk,
    "questions": lambda w: w.question.pk,
    "messages": lambda w: w.message.pk,
    "devices": lambda w: w.device.pk,
    "attachments": lambda w: w.attachment.pk,
}

# Other path parameters, and required query parameters, by name.
API_PARAMS: dict[str, Callable[[World], str | int]] = {
    "slug": lambda w: w.programme.slug,
    "token": lambda w: w.registration.manage_token,
    "activity": lambda w: w.activity.pk,
    "q": lambda w: "Deelnemer",
}

# Request bodies that pass validation, so the request reaches the access rule (a body that does
# not validate is refused with 422 before anything is looked up). Keyed by operationId; an
# operation with a body and no row here fails `test_every_api_operation_can_be_filled`.
API_BODIES: dict[str, Callable[[World], dict[str, Any]]] = {
    "budget_api_create_expense": lambda w: {
        "category_id": w.category.pk,
        "supplier": "Drukkerij",
        "description": "Flyers",
        "date": "2027-01-20",
        "amount_excl_vat": "25.00",
    },
    "budget_api_change_expense": lambda w: {"description": "Gewijzigd"},
    "budget_api_create_income": lambda w: {
        "kind": "sponsorship",
        "description": "Gift",
        "date": "2027-01-20",
        "amount": "25.00",
    },
    "registrations_checkin_api_redeem": lambda w: {
        "code": w.registration.ticket_code,
        "activity": w.activity.pk,
        "nonce": "isolatie-redeem",
    },
    "registrations_checkin_api_sync": lambda w: {
        "scans": [
            {"code": w.registration.ticket_code, "activity": w.activity.pk, "nonce": "isolatie-1"}
        ]
    },
    "registrations_checkin_api_walk_in": lambda w: {
        "activity": w.activity.pk,
        "name": "Inloper",
        "party_size": 1,
        "nonce": "isolatie-walk-in",
    },
}

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


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    schemes: frozenset[str]
    path_params: tuple[str, ...]
    required_query: tuple[str, ...]
    has_body: bool

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.operation_id})"

    def missing(self) -> list[str]:
        """What the tables cannot fill."""
        missing = [
            name
            for name in self.path_params
            if name not in API_PARAMS and not (name == "id" and self._collection() in API_IDS)
        ]
        missing += [f"query {name}" for name in self.required_query if name not in API_PARAMS]
        if self.has_body and self.operation_id not in API_BODIES and not self.is_public_change:
            missing.append("body")
        return missing

    @property
    def is_public_change(self) -> bool:
        return not self.schemes and self.operation_id in PUBLIC_CHANGES

    def _collection(self) -> str:
        segments = self.path.split("/")
        return segments[segments.index("{id}") - 1]

    def request(
        self, client: Client, world: World, *, programme_of: World | None = None, **headers
    ):
        values: dict[str, Any] = {}
        for name in self.path_params:
            if name == "id":
                values[name] = API_IDS[self._collection()](world)
            else:
                values[name] = API_PARAMS[name](world)
        if programme_of is not None and "slug" in values:
            values["slug"] = programme_of.programme.slug
        path = self.path.format(**values)
        query = {name: API_PARAMS[name](world) for name in self.required_query}
        body = API_BODIES[self.operation_id](world) if self.has_body else None
        if self.method == "GET":
            return client.get(path, query, headers=headers)
        return client.generic(
            self.method,
            path,
            json.dumps(body) if body is not None else "",
            content_type="application/json",
            headers=headers,
        )


def api_operations() -> list[Operation]:
    document = api.get_openapi_schema()
    found = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            parameters = operation.get("parameters", [])
            found.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    operation_id=operation["operationId"],
                    schemes=frozenset(
                        name
                        for requirement in operation.get("security", [])
                        for name in requirement
                    ),
                    path_params=tuple(p["name"] for p in parameters if p["in"] == "path"),
                    required_query=tuple(
                        p["name"] for p in parameters if p["in"] == "query" and p.get("required")
                    ),
                    has_body="requestBody" in operation,
                )
            )
    return found


def operations_for(scheme: str) -> list[Operation]:
    return [op for op in api_operations() if scheme in op.schemes]


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
        f"or API_BODIES in {__name__}: {missing}"
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
