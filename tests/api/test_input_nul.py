"""A NUL character anywhere in the API's input is a 422 naming the input, never a 500.

PostgreSQL refuses NUL in text outright: before the API checked for it, a sign-up, a search, a
scan or an expense with `\\u0000` in a text field was a 500 there (SQLite stores it). The rule
is one check for every operation (`jubileum.lib.apitools.strict_query`), so the cases below are
a sample of every kind of input: body fields (nested too), query parameters, path segments.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from budget import services as budget_services
from budget.inputs import ExpenseInput
from budget.models import Budget, Expense, Income
from events.models import Question
from jubileum.api import api
from jubileum.lib.apitokens import create_token
from jubileum.lib.apitools import refuses_unknown_query
from registrations.checkin import devices
from registrations.models import CheckIn, Registration, RosterEntry, ScanLog

# The bug is PostgreSQL's; on SQLite the same requests must answer the same 422.
pytestmark = pytest.mark.engine_dependent

API = "/api/v1"
NUL = "Anna\x00de Vries"


@dataclass
class World:
    slug: str
    activity_id: int
    question_id: int
    expense_id: int
    manage_token: str
    organiser: dict[str, str]
    device: dict[str, str]


@pytest.fixture
def world(make_activity, make_registration, organiser) -> World:
    activity = make_activity(starts_at=timezone.now() + dt.timedelta(hours=1), capacity=30)
    question = Question.objects.create(
        activity=activity, label="Dieetwensen", kind=Question.Kind.TEXT
    )
    registration = make_registration(activity=activity)
    budget = Budget.objects.create(programme=activity.programme, total=Decimal("8000.00"))
    expense = budget_services.record_expense(
        budget,
        ExpenseInput(
            category_id=budget.categories.first().pk,
            supplier="Bakkerij Jansen",
            description="Taart",
            date=dt.date(2027, 1, 20),
            amount_excl_vat=Decimal("40.00"),
            vat_rate=9,
        ),
        by=organiser,
    )
    _row, token = create_token(organiser, "nul")
    device = devices.create_device(
        activity.programme,
        [activity.pk],
        with_token=True,
        expires_at=timezone.now() + dt.timedelta(days=1),
    )
    return World(
        slug=activity.programme.slug,
        activity_id=activity.pk,
        question_id=question.pk,
        expense_id=expense.pk,
        manage_token=registration.manage_token,
        organiser={"HTTP_AUTHORIZATION": f"Bearer {token}"},
        device={"HTTP_AUTHORIZATION": f"Bearer {device.token}"},
    )


def sign_up(world: World, **fields) -> dict:
    return {
        "contact_name": "Anna de Vries",
        "email": "anna@example.org",
        "party_size": 2,
        "consent": True,
        **fields,
    }


def scan(world: World, **fields) -> dict:
    return {"code": "K7Q2M4XW9ZP3R5T6V8YA", "activity": world.activity_id, "nonce": "n1", **fields}


def expense(**fields) -> dict:
    return {
        "category_id": 0,  # filled in by the test: the budget's first category
        "supplier": "Bakkerij Jansen",
        "description": "Taart",
        "date": "2027-01-20",
        "amount_excl_vat": "40.00",
        **fields,
    }


# (name, method, path, body or query, auth, loc of the NUL)
CASES = [
    (
        "contact_name",
        "post",
        lambda w: f"/activities/{w.activity_id}/registrations",
        lambda w: sign_up(w, contact_name=NUL),
        None,
        ["body", "payload", "contact_name"],
    ),
    (
        "phone",
        "post",
        lambda w: f"/activities/{w.activity_id}/registrations",
        lambda w: sign_up(w, phone="06\x0012345678"),
        None,
        ["body", "payload", "phone"],
    ),
    (
        "invitation_code",
        "post",
        lambda w: f"/activities/{w.activity_id}/registrations",
        lambda w: sign_up(w, invitation_code="ABC\x00DEF"),
        None,
        ["body", "payload", "invitation_code"],
    ),
    (
        "answer",
        "post",
        lambda w: f"/activities/{w.activity_id}/registrations",
        lambda w: sign_up(w, answers=[{"question": w.question_id, "value": "geen\x00vis"}]),
        None,
        ["body", "payload", "answers", 0, "value"],
    ),
    (
        "redeem code",
        "post",
        lambda w: "/checkin/redeem",
        lambda w: scan(w, code="JUB1:\x00"),
        "device",
        ["body", "payload", "code"],
    ),
    (
        "redeem nonce",
        "post",
        lambda w: "/checkin/redeem",
        lambda w: scan(w, nonce="n\x001"),
        "device",
        ["body", "payload", "nonce"],
    ),
    (
        "sync nonce",
        "post",
        lambda w: "/checkin/sync",
        lambda w: {"scans": [scan(w), scan(w, nonce="n\x002")]},
        "device",
        ["body", "payload", "scans", 1, "nonce"],
    ),
    (
        "walk-in name",
        "post",
        lambda w: "/checkin/walk-in",
        lambda w: {"activity": w.activity_id, "name": NUL, "party_size": 2, "nonce": "n3"},
        "device",
        ["body", "payload", "name"],
    ),
    (
        "search q",
        "get",
        lambda w: "/checkin/search",
        lambda w: {"activity": w.activity_id, "q": NUL},
        "device",
        ["query", "q"],
    ),
    (
        "manifest since",
        "get",
        lambda w: "/checkin/manifest",
        lambda w: {"activity": w.activity_id, "since": "2026-01-01\x00"},
        "device",
        ["query", "since"],
    ),
    (
        "pairing code",
        "post",
        lambda w: "/scanner/pair",
        lambda w: {"code": "ABCD\x00"},
        None,
        ["body", "payload", "code"],
    ),
    (
        "expense supplier",
        "post",
        lambda w: f"/programmes/{w.slug}/budget/expenses",
        lambda w: expense(supplier="Bakkerij\x00Jansen"),
        "organiser",
        ["body", "payload", "supplier"],
    ),
    (
        "expense description",
        "patch",
        lambda w: f"/programmes/{w.slug}/budget/expenses/{w.expense_id}",
        lambda w: {"description": "Taart\x00"},
        "organiser",
        ["body", "payload", "description"],
    ),
    (
        "income description",
        "post",
        lambda w: f"/programmes/{w.slug}/budget/income",
        lambda w: {
            "kind": "sponsorship",
            "description": "Rabobank\x00",
            "date": "2027-01-20",
            "amount": "500.00",
        },
        "organiser",
        ["body", "payload", "description"],
    ),
    (
        "programme slug",
        "get",
        lambda w: f"/programmes/{w.slug}%00/activities",
        lambda w: {},
        None,
        ["path", "slug"],
    ),
    (
        "manage token",
        "get",
        lambda w: f"/registrations/{w.manage_token[:-1]}%00",
        lambda w: {},
        None,
        ["path", "token"],
    ),
    (
        "query parameter of a listing",
        "get",
        lambda w: f"/programmes/{w.slug}/activities",
        lambda w: {"month": "2027-01\x00"},
        None,
        ["query", "month"],
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "data", "auth", "loc"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_nul_in_any_input_is_a_422_naming_it(client, world, method, path, data, auth, loc):
    body = data(world)
    if body.get("category_id") == 0:
        body["category_id"] = Budget.objects.get().categories.first().pk
    headers = getattr(world, auth) if auth else {}
    rows_before = counts()
    if method == "get":
        response = client.get(f"{API}{path(world)}", body, **headers)
    else:
        response = getattr(client, method)(
            f"{API}{path(world)}", body, content_type="application/json", **headers
        )

    assert response.status_code == 422, response.content
    answer = response.json()
    assert set(answer) == {"code", "message", "details"}
    assert answer["code"] == "validation_error"
    assert [error["loc"] for error in answer["details"]] == [loc]
    assert answer["details"][0]["type"] == "string_nul"
    assert counts() == rows_before


def counts() -> dict[str, int]:
    models = (Registration, CheckIn, ScanLog, Expense, Income, RosterEntry)
    return {model.__name__: model.objects.count() for model in models}


def test_every_operation_refuses_nul():
    """The rule is the operations' wrapper: an operation without it would not be covered."""
    operations = [
        operation
        for _prefix, router in api._routers
        for path_view in router.path_operations.values()
        for operation in path_view.operations
    ]
    assert len(operations) >= 20
    assert all(refuses_unknown_query(operation) for operation in operations)


def test_a_nul_in_the_body_beside_other_errors_is_named_with_them(client, world):
    response = client.post(
        f"{API}/activities/{world.activity_id}/registrations?extra=1",
        sign_up(world, contact_name=NUL),
        content_type="application/json",
    )

    assert response.status_code == 422
    locs = [error["loc"] for error in response.json()["details"]]
    assert locs == [["query", "extra"], ["body", "payload", "contact_name"]]


def test_an_escaped_backslash_before_u0000_is_no_nul(client, world):
    """`\\\\u0000` in JSON is a backslash and the text `u0000`: ordinary text, signed up."""
    response = client.post(
        f"{API}/activities/{world.activity_id}/registrations",
        '{"contact_name": "Anna \\\\u0000", "email": "anna@example.org", "party_size": 2, '
        '"consent": true}',
        content_type="application/json",
    )

    assert response.status_code == 202, response.content
    assert Registration.objects.get(email="anna@example.org").contact_name == "Anna \\u0000"
