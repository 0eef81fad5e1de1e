"""The walk over the site shared by the isolation and permission tests: a programme with one of
everything a URL or an API operation can point at (`World`), every URL pattern of the resolver
(`all_routes`), every operation of the OpenAPI document (`api_operations`), and the tables that
fill their parameters from a world.

A pattern or operation with a parameter these tables cannot fill makes the tests that use them
FAIL, so a page added later is covered the moment it lands: add a row to URL_KWARGS, API_IDS,
API_PARAMS or API_BODIES.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished
from django.db import close_old_connections
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from budget import services as budget_services
from budget.inputs import ExpenseInput, IncomeInput
from budget.models import Attachment, Budget, Category, Expense, Income
from events.models import Activity, Programme, ProgrammeRole, Question
from jubileum.api import api
from registrations.checkin import devices
from registrations.models import (
    Answer,
    CheckIn,
    Invitation,
    Message,
    MessageRecipient,
    Payment,
    Registration,
    RosterEntry,
    ScannerDevice,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# --- A world -----------------------------------------------------------------------------------


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
        ExpenseInput(
            category_id=category.pk,
            supplier=f"Leverancier {tag}",
            description="Koffie",
            date=dt.date(2027, 1, 15),
            amount_excl_vat=Decimal("10.00"),
        ),
        by=organiser,
    )
    upload = SimpleUploadedFile("offerte.pdf", PDF, content_type="application/pdf")
    attachment = budget_services.add_attachment(expense.pk, upload, "quote", by=organiser)
    income = budget_services.record_income(
        budget,
        IncomeInput(
            kind=Income.Kind.SPONSORSHIP,
            description=f"Sponsor {tag}",
            date=dt.date(2027, 1, 10),
            amount=Decimal("50.00"),
        ),
        by=organiser,
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


# Everything of a programme that a leaking page or operation could change.
PROGRAMME_ROWS: list[tuple[type, str]] = [
    (Programme, "pk"),
    (ProgrammeRole, "programme"),
    (Activity, "programme"),
    (Registration, "activity__programme"),
    (Answer, "registration__activity__programme"),
    (Payment, "registration__activity__programme"),
    (Question, "activity__programme"),
    (Message, "activity__programme"),
    (MessageRecipient, "message__activity__programme"),
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

# Bookkeeping that any request by a device writes (once a minute), refused or not.
VOLATILE_FIELDS = {"last_seen_at"}


def rows_of(world: World) -> dict[str, list[dict[str, Any]]]:
    return {
        model.__name__: [
            {key: value for key, value in row.items() if key not in VOLATILE_FIELDS}
            for row in model.objects.filter(**{path: world.programme.pk}).order_by("pk").values()
        ]
        for model, path in PROGRAMME_ROWS
    }


# --- URL patterns ------------------------------------------------------------------------------

# URL keyword → how to fill it from a world. A pattern with a keyword not in this table fails the
# tests that walk it: add the keyword here.
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
    # The expense's category: removing it is refused, so the walk leaves the world as it was.
    "category_id": lambda w: w.expense.category_id,
    "user_id": lambda w: w.organiser.pk,
    # Where Stripe sends people back: an attempt's public id (any id gets the same neutral page
    # unless this browser started the payment).
    "public_id": lambda w: str(
        Payment.objects.filter(registration=w.registration)
        .values_list("public_id", flat=True)
        .first()
        or uuid.UUID(int=0)
    ),
}


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

    @property
    def namespace(self) -> str:
        return (self.name or "").rpartition(":")[0]

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


def all_routes() -> list[Route]:
    """Every URL pattern of the site, in resolver order."""
    return list(_walk(get_resolver().url_patterns))


def read(response) -> bytes:
    """The whole body, streamed or not, with the response closed afterwards."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    # Close downloads' files (else ResourceWarning), without the request_finished handler
    # that would close the test's database connection, as Django's own test client does.
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    return body


# --- API operations ----------------------------------------------------------------------------

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
# not validate is refused with 422 before anything is looked up). Keyed by operationId.
API_BODIES: dict[str, Callable[[World], dict[str, Any]]] = {
    "budget_api_create_expense": lambda w: {
        "category_id": w.category.pk,
        "supplier": "Drukkerij",
        "description": "Flyers",
        "date": "2027-01-20",
        "amount_excl_vat": "25.00",
    },
    "budget_api_change_expense": lambda w: {"description": "Gewijzigd"},
    "events_backoffice_api_create_activity": lambda w: {
        "title": "Uit de gemeentelijke agenda",
        "summary": "Overgenomen met een token.",
        "starts_at": "2027-01-20T14:00:00+01:00",
        "ends_at": "2027-01-20T16:00:00+01:00",
        "location_name": "Raadhuis",
    },
    "events_backoffice_api_change_activity": lambda w: {"title": "Gewijzigd"},
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
    # Someone signing up again with the address of the world's registration: the answer must
    # not hand out that registration's personal link.
    "registrations_api_sign_up": lambda w: {
        "contact_name": "Iemand Anders",
        "email": w.registration.email,
        "party_size": 1,
        "consent": True,
    },
    "registrations_api_change_registration": lambda w: {"party_size": 1},
    "registrations_checkin_api_pair": lambda w: {"code": "ABCDEFGH"},
}


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
        if self.has_body and self.operation_id not in API_BODIES:
            missing.append("body")
        return missing

    def _collection(self) -> str:
        segments = self.path.split("/")
        return segments[segments.index("{id}") - 1]

    def request(
        self,
        client: Client,
        world: World,
        *,
        programme_of: World | None = None,
        params: dict[str, Any] | None = None,
        **headers,
    ):
        """Ask for the world's objects; `programme_of` puts another world's slug in the path,
        `params` overrides path or query parameters by name."""
        values: dict[str, Any] = {}
        for name in self.path_params:
            if name == "id":
                values[name] = API_IDS[self._collection()](world)
            else:
                values[name] = API_PARAMS[name](world)
        if programme_of is not None and "slug" in values:
            values["slug"] = programme_of.programme.slug
        query = {name: API_PARAMS[name](world) for name in self.required_query}
        for name, value in (params or {}).items():
            if name in values:
                values[name] = value
            elif name in query:
                query[name] = value
        path = self.path.format(**values)
        body = API_BODIES[self.operation_id](world) if self.has_body else None
        if self.method in {"GET", "HEAD"}:
            return getattr(client, self.method.lower())(path, query, headers=headers)
        return client.generic(
            self.method,
            path,
            json.dumps(body) if body is not None else "",
            content_type="application/json",
            headers=headers,
        )


def api_operations() -> list[Operation]:
    document = api.get_openapi_schema(path_prefix=reverse("api:api-root"))
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
