"""Property-based tests of the whole API against its own OpenAPI document (schemathesis).

For every operation schemathesis sends generated requests, valid and invalid, through Django's
WSGI application (in process, inside the test's transaction) and checks that none answers 5xx
and that every answer matches the response the document declares for its status. Operations that
need a token get one (an organiser's personal API token, a scanner device's token). Half of the
examples put real objects in the path (the programme's slug, an activity, an expense, a manage
token), so that the requests reach the rules behind the 404 and not only the lookup.

Cheap in an ordinary run: the document's own examples and MAX_EXAMPLES generated requests per
operation, about a hundred and twenty requests in all. The full run (JUBILEUM_API_FUZZ_FULL=1,
CI's fuzz step) adds schemathesis' coverage phase, the edge and invalid values of every parameter
(some 1,200 requests), and more generated ones. No deadline (the 2-core CI machine is busy). A
failure prints the request to reproduce it with curl.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
from decimal import Decimal

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from budget import services as budget_services
from budget.inputs import ExpenseInput
from budget.models import Budget
from events.models import Activity, ProgrammeRole
from jubileum.lib.apitokens import create_token
from jubileum.lib.env import env_bool, env_int
from jubileum.wsgi import application
from registrations.checkin import devices
from registrations.models import Registration

FULL = env_bool("JUBILEUM_API_FUZZ_FULL", False)
# A deeper run by hand: JUBILEUM_API_FUZZ_EXAMPLES=500 pytest tests/api/test_schemathesis.py
MAX_EXAMPLES = env_int("JUBILEUM_API_FUZZ_EXAMPLES", 50 if FULL else 5, minimum=1)
# The suite explores the same inputs on every run, so a red CI means a change broke something;
# JUBILEUM_API_FUZZ_RANDOM=1 explores new ones (that is how a PostgreSQL-only bug with odd time
# zone offsets was found).
DERANDOMIZE = not env_bool("JUBILEUM_API_FUZZ_RANDOM", False)
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]

# Loaded from the running application, as a client would: the document under test is the one
# /api/v1/openapi.json serves, not one rebuilt here. This first request imports the URLconf, at
# collection, before pytest-django turns DEBUG off for the tests; with DEBUG still on it would
# keep the development-only routes (/media/) for the whole session.
#
# NUL characters: PostgreSQL refuses them in text, and every operation must answer them with a
# 422, not a 500. Schemathesis may put them in generated strings (`allow-x00`, its default, said
# out loud here), but seldom does; the dictionary makes one string in five hold one.
CONFIG = SchemathesisConfig.from_dict(
    {
        "dictionaries": {"nul": {"values": ["\x00", "Anna\x00de Vries"]}},
        "generation": {
            "allow-x00": True,
            "dictionaries": {"string": {"dictionary": "nul", "probability": 0.2}},
        },
    }
)
with override_settings(DEBUG=False):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application, config=CONFIG)
schema.config.phases.coverage.enabled = FULL

# Findings in code this test does not own are listed here, one operation each, as
# "METHOD /path": "what fails"; the operation's test is then an expected failure (strict: it
# turns red once fixed, so the mark is removed with the fix).
KNOWN_FINDINGS: dict[str, str] = {}


@dataclass
class World:
    """Real objects for the path parameters, and the tokens to send."""

    slug: str
    activity_id: int
    expense_id: int
    manage_token: str
    organiser_token: str
    device_token: str

    def path_parameters(self, path: str) -> dict[str, str | int]:
        values: dict[str, str | int] = {"slug": self.slug, "token": self.manage_token}
        values["id"] = self.expense_id if "/expenses/" in path else self.activity_id
        return values

    def headers(self, security: list[dict[str, list[str]]]) -> dict[str, str]:
        schemes = {name for requirement in security for name in requirement}
        if "OrganiserAuth" in schemes:
            return {"Authorization": f"Bearer {self.organiser_token}"}
        if "DeviceAuth" in schemes:
            return {"Authorization": f"Bearer {self.device_token}"}
        return {}


@pytest.fixture
def world(programme, make_activity, make_registration) -> World:
    activity = make_activity(capacity=30, max_party_size=6)
    make_activity(title="Jubileumdiner", price=Decimal("25.00"), audience=Activity.Audience.MEMBERS)
    registration = make_registration(activity=activity, status=Registration.Status.CONFIRMED)
    users = get_user_model().objects
    organiser = users.create_user(username="anne", email="anne@example.org")
    colleague = users.create_user(username="bert", email="bert@example.org")
    for user in (organiser, colleague):
        ProgrammeRole.objects.create(
            user=user, programme=programme, role=ProgrammeRole.Role.ORGANISER
        )
    budget = Budget.objects.create(programme=programme, total=Decimal("8000.00"))
    # Recorded by a colleague and above the approval threshold: the token's user may approve it.
    expense = budget_services.record_expense(
        budget,
        ExpenseInput(
            category_id=budget.categories.get(name="Huur").pk,
            supplier="Verhuurbedrijf De Eembocht",
            description="Tent 10 x 20 m",
            date=dt.date(2027, 1, 20),
            amount_excl_vat=Decimal("875.00"),
            vat_rate=21,
        ),
        by=colleague,
    )
    _row, organiser_token = create_token(organiser, "schemathesis")
    device = devices.create_device(
        programme,
        [activity.pk],
        with_token=True,
        expires_at=timezone.now() + dt.timedelta(days=30),
    )
    return World(
        slug=programme.slug,
        activity_id=activity.pk,
        expense_id=expense.pk,
        manage_token=registration.manage_token,
        organiser_token=organiser_token,
        device_token=device.token,
    )


@pytest.fixture(autouse=True)
def keep_the_test_transaction():
    """Django closes the database connection after each request it serves when the connection
    is not in autocommit, which inside the test's transaction it never is (on PostgreSQL this
    ends the transaction mid-test). Django's own test client switches that off while it serves;
    schemathesis calls the WSGI application directly, so switch it off here."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture(autouse=True)
def fresh_cache():
    """Rate-limit counts live in the cache; no test may inherit another's, nor leave its own."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def known_finding(request):
    case_name = request.node.name
    for operation, finding in KNOWN_FINDINGS.items():
        if f"[{operation}]" in case_name:
            request.applymarker(pytest.mark.xfail(reason=finding, strict=True))


def test_every_known_finding_names_an_operation_of_the_schema():
    operations = {
        f"{method.upper()} {path}"
        for path, methods in schema.raw_schema["paths"].items()
        for method in methods
    }
    assert set(KNOWN_FINDINGS) <= operations


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=DERANDOMIZE,
    deadline=None,
    # No example database in the work tree: every run starts from the schema alone.
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_openapi_document(case, world):
    # Half of the cases, chosen by their generated values (stable across runs, unlike hash()).
    if case.path_parameters and zlib.crc32(repr(case.path_parameters).encode()) % 2:
        real = world.path_parameters(case.operation.path)
        case.path_parameters = {
            name: real.get(name, value) for name, value in case.path_parameters.items()
        }
    security = case.operation.definition.raw.get("security", [])
    case.call_and_validate(headers=world.headers(security), checks=CHECKS)


def test_generated_strings_hold_nul_characters():
    for result in schema.get_all_operations():
        generation = schema.config.generation_for(operation=result.ok())
        assert generation.allow_x00
        assert generation.dictionaries["string"].dictionary == "nul"


def test_schemathesis_reaches_every_operation():
    """A guard on the test above: an operation schemathesis cannot load is skipped silently."""
    loaded = [result.ok() for result in schema.get_all_operations()]
    assert len(loaded) == sum(len(methods) for methods in schema.raw_schema["paths"].values())
    assert len(loaded) >= 20
