"""Permissions proven: every URL pattern and every API operation of the site, asked for as every
kind of actor, answers as the tables below say, and shows no personal data to whoever may not
see it.

The world: programme P and programme Q, each with an activity, two registrations (one paid, with
a phone number and an answer to a question), a roster entry, an invitation, a message, a scanner
device and a budget with an expense, an attachment and income (`tests.walk.build_world`). Every
URL and operation is filled with P's objects and asked for by each actor in ACTORS.

For each pattern group (PAGE_GROUPS, API_GROUPS) and actor, PAGE_RULES and API_RULES give the
expected outcome. A URL pattern or API operation that no group names makes
`test_every_url_pattern_is_classified` / `test_every_api_operation_is_classified` FAIL: decide
who may use it and add it to a group.

Pages are asked for with GET and with an empty POST (a view that does not take a method answers
405 before it looks anything up; it must take at least one). Every request runs in a savepoint
that is rolled back afterwards, with the actor's cookies restored, so an organiser's POST
(approve, revoke, log out ...) cannot change the world for the next request; a refused POST,
PATCH or DELETE is checked to have changed no row of the tables in `tests.walk.PROGRAMME_ROWS`
before the rollback.

Whatever the outcome, the body and the Location header must not contain any personal value
(name, e-mail address, phone number, answer) or key (manage token, demo Checkout session, ticket
code, invitation code) of a registration, roster entry or invitation the actor may not see
(SEES): a resident sees their own registration, a scanner the names of its activity's parties,
an organiser or viewer their programme's people but nobody's keys, a superuser everything.
"""

from __future__ import annotations

import copy
import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from fnmatch import fnmatchcase
from functools import partial
from typing import Any
from urllib.parse import unquote

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from events.models import ProgrammeRole
from jubileum.lib.apitokens import create_token
from registrations.models import Answer, Invitation, Payment, Registration, RosterEntry
from tests.walk import (
    PROGRAMME_ROWS,
    URL_KWARGS,
    VOLATILE_FIELDS,
    Operation,
    Route,
    World,
    all_routes,
    api_operations,
    build_world,
    read,
)

pytestmark = pytest.mark.usefixtures("private_media", "tasks")

# --- Who asks ----------------------------------------------------------------------------------

ACTORS: dict[str, str] = {
    "anonymous": "a visitor without session or token",
    "resident_q": "a resident holding the personal link of Q's registration (and nothing else)",
    "holder_p": "the resident holding the personal link of P's registration",
    "device_q": "a scanner device paired for Q's activity (its bearer token)",
    "device_p": "a scanner device paired for P's activity (its bearer token)",
    "token_q": "the personal API token of Q's organiser, without a session",
    "organiser_q": "the organiser of programme Q (logged in, staff)",
    "viewer_p": "a viewer of programme P (logged in, not staff)",
    "organiser_p": "the organiser of programme P (logged in, staff)",
    "superuser": "a superuser (logged in)",
}


def _table(text: str) -> dict[tuple[str, str], str]:
    """{(group, actor): outcome} from a table with a column per group and a row per actor."""
    header, *rows = text.strip().splitlines()
    groups = header.split()
    table = {}
    for row in rows:
        actor, *outcomes = row.split()
        table.update(
            {(group, actor): outcome for group, outcome in zip(groups, outcomes, strict=True)}
        )
    assert [row.split()[0] for row in rows] == list(ACTORS)
    return table


# --- The pages ---------------------------------------------------------------------------------

# What each actor gets from the pages of a group (PAGE_GROUPS below), for GET and for POST alike.
# Any method may also be 405 (the view does not take it: answered before anything is looked
# up), but not every method.
#   ok     the view answers: 2xx, a 3xx that is not to a login page, or 400/422 for a bad form
#   view   GET as "ok", POST 403
#   login  302 to the organisers' login page (/inloggen/?next=...)
#   admin  302 to the admin's login page (/admin/login/?next=...)
#   403, 404
#   bad    400, 403 or 404: a webhook refuses a request without its sender's signature (404:
#          Stripe's, in demo mode)
PAGE_RULES = _table("""
              public personal guessed index organiser changes webhook empty admin_home admin
anonymous     ok     404      404     login login     login   bad     404   admin      admin
resident_q    ok     ok       404     login login     login   bad     404   admin      admin
holder_p      ok     ok       404     login login     login   bad     404   admin      admin
device_q      ok     404      404     login login     login   bad     404   admin      admin
device_p      ok     404      404     login login     login   bad     404   admin      admin
token_q       ok     404      404     login login     login   bad     404   admin      admin
organiser_q   ok     404      404     ok    404       404     bad     404   ok         403
viewer_p      ok     404      404     ok    view      403     bad     404   admin      admin
organiser_p   ok     404      404     ok    ok        ok      bad     404   ok         403
superuser     ok     404      404     ok    ok        ok      bad     404   ok         ok
""")

# Our URL patterns by name. "personal": the key is in the address (the manage token, or a demo
# Checkout session). Each actor uses the key they hold: resident_q Q's, holder_p P's; everyone
# else has none and guesses (P's, one character off). "guessed": resident_q and holder_p guess
# too, with the cookies their own link left.
PAGE_GROUPS: dict[str, tuple[str, ...]] = {
    "public": (
        "home", "healthz", "readyz", "robots_txt", "set_language", "login", "logout",
        "events:programme", "events:programme_ics", "events:theme_css", "events:privacy",
        "events:accessibility", "events:activity", "events:activity_ics",
        # A team invitation's page: the signed link is the key; a bad one gets a 400 page.
        "events:accept_team_invitation",
        "registrations:signup", "registrations:signed_up", "registrations:payment_return",
        "scanner:page", "scanner:service_worker", "scanner:manifest",
        "api:openapi-json", "api:openapi-view",
    ),
    # ninja's name for the API's root, which it uses to build paths; nothing answers there.
    "empty": ("api:api-root",),
    "personal": (
        "registrations:manage", "registrations:claim", "registrations:change_size",
        "registrations:cancel", "registrations:resend", "registrations:delete_data",
        "registrations:ics", "registrations:pay", "registrations:cancel_payment",
        "registrations:demo_payment",
    ),
    "index": ("organiser:index", "organiser:notifications"),
    # The organiser area's pages that a viewer may read.
    "organiser": (
        "organiser:programme", "organiser:roster", "organiser:scanners",
        "organiser:scanner_counts", "organiser:report", "organiser:report_xlsx",
        "organiser:report_csv",
        "organiser:activity", "organiser:attendees_csv", "organiser:attendees_xlsx",
        "organiser:door_list", "organiser:badges", "organiser:questions", "organiser:messages",
        "organiser:message", "organiser:settings", "organiser:team",
        "organiser:preview_activity",
        "budget:dashboard", "budget:expenses", "budget:expense", "budget:download",
        "budget:approvals", "budget:income", "budget:export_csv", "budget:export_xlsx",
        "budget:settings",
    ),
    # The organiser area's changes, and the forms for them.
    "changes": (
        "organiser:scanner_create", "organiser:scanner_pairing", "organiser:scanner_renew",
        "organiser:scanner_revoke", "organiser:invite", "organiser:cancel_activity",
        "organiser:question_edit", "organiser:question_delete",
        "organiser:approve", "organiser:decline", "organiser:cancel", "organiser:move",
        "organiser:refund", "organiser:desk_signup", "organiser:ticket",
        "organiser:team_role", "organiser:team_remove", "organiser:copy",
        "organiser:new_activity", "organiser:edit_activity", "organiser:duplicate_activity",
        "organiser:publish_activity", "organiser:unpublish_activity", "organiser:change_notice",
        "budget:edit_expense", "budget:advance", "budget:approve", "budget:upload",
        "budget:edit_income", "budget:create", "budget:add_category", "budget:edit_category",
        "budget:remove_category",
    ),
    "webhook": ("stripe_webhook",),
    "admin_home": ("admin:index",),
}  # fmt: skip
# Patterns made by libraries, by namespace; "api" patterns are walked through the OpenAPI
# document below (test_every_api_url_is_an_operation checks that none escapes it).
NAMESPACE_GROUPS = {"anymail": "webhook", "admin": "admin", "api": "api"}
# Patterns without a name, by where they start.
PREFIX_GROUPS = {
    "admin/": "admin",
    # DEBUG only: public uploads (programme logos); private attachments live outside MEDIA_ROOT.
    "^media/": "media",
}
# Classified, not requested as pages: the API is walked operation by operation (test_api), the
# media files are served only with DEBUG.
NOT_REQUESTED = {"api", "media"}
# Django's admin puts one rule in front of all its pages (AdminSite.admin_view): these stand for
# the rest, with GET only. The registrations' list is the one full of personal data.
ADMIN_SAMPLES = {"admin:index", "admin:registrations_registration_changelist"}
# URL keywords besides URL_KWARGS: the keys of the personal pages, and the public pages' slug.
PAGE_KWARGS = {*URL_KWARGS, "token", "session_id", "slug"}

# Form bodies for a POST that should get further than the form's first check.
PAGE_BODIES: dict[str, Callable[[World], dict[str, str]]] = {
    # Someone signing up again with the address of P's registration.
    "registrations:signup": lambda w: {
        "contact_name": "Iemand Anders",
        "email": w.registration.email,
        "phone": "",
        "party_size": "1",
        "kind": "resident",
        "consent": "on",
        "website": "",
    },
}

# Problems the walk finds today: a mismatch on a matching route whose message contains the text
# is listed as known instead of failing the walk. Each has its own test, marked xfail(strict),
# that fails once the problem is fixed: then remove the row and the mark.
KNOWN_PROBLEMS: list[tuple[str, str, str]] = []

# --- The API -----------------------------------------------------------------------------------

# What each actor gets from the operations of a group (API_GROUPS below):
#   ok         the operation answers: anything but 401 `not_authenticated`, 403
#              `permission_denied`, 404 `not_found`, 429 or 5xx (a rule of the domain may
#              still refuse, e.g. 403 `own_expense`, 404 `unknown_pairing_code`)
#   401, 403, 404  with `not_authenticated`, `permission_denied`, `not_found`
#   without_p  200, and P's activity is not in the list
#   wrong_activity  200, and every scan's result is `wrong_activity`
# (Two tables side by side, to keep the lines short.)
API_RULES = _table("""
              public personal guessed budget_read budget_change authoring
anonymous     ok     404      404     401         401           401
resident_q    ok     ok       404     401         401           401
holder_p      ok     ok       404     401         401           401
device_q      ok     404      404     401         401           401
device_p      ok     404      404     401         401           401
token_q       ok     404      404     404         404           404
organiser_q   ok     404      404     404         404           404
viewer_p      ok     404      404     ok          403           403
organiser_p   ok     404      404     ok          ok            ok
superuser     ok     404      404     ok          ok            ok
""") | _table("""
              scanner scanner_list scanner_sync
anonymous     401     401          401
resident_q    401     401          401
holder_p      401     401          401
device_q      404     without_p    wrong_activity
device_p      ok      ok           ok
token_q       401     401          401
organiser_q   401     401          401
viewer_p      401     401          401
organiser_p   401     401          401
superuser     401     401          401
""")

API_GROUPS: dict[str, tuple[str, ...]] = {
    "public": (
        "events_api_list_programmes", "events_api_list_programme_activities",
        "events_api_get_activity", "registrations_api_sign_up", "registrations_checkin_api_pair",
    ),
    "personal": (
        "registrations_api_get_registration", "registrations_api_change_registration",
        "registrations_api_cancel_registration", "registrations_api_claim_offer",
    ),
    "budget_read": (
        "budget_api_get_budget", "budget_api_list_expenses", "budget_api_list_income",
    ),
    "budget_change": (
        "budget_api_create_expense", "budget_api_change_expense", "budget_api_approve_expense",
        "budget_api_create_income",
    ),
    # The organisers' authoring of activities: write operations only.
    "authoring": (
        "events_backoffice_api_create_activity", "events_backoffice_api_change_activity",
        "events_backoffice_api_publish_activity", "events_backoffice_api_unpublish_activity",
    ),
    "scanner": (
        "registrations_checkin_api_manifest", "registrations_checkin_api_redeem",
        "registrations_checkin_api_search", "registrations_checkin_api_walk_in",
        "registrations_checkin_api_counts",
    ),
    "scanner_list": ("registrations_checkin_api_activities",),
    "scanner_sync": ("registrations_checkin_api_sync",),
}  # fmt: skip

# --- Personal data, and who may see it ---------------------------------------------------------

PEOPLE = {
    # (programme, owner): name, e-mail address, phone number, answer
    ("P", "main"): ("Pieternella Vossenberg", "+31 6 4821 7730", "Notenallergie: hazelnoot"),
    ("P", "other"): ("Gijsbrecht Hoefnagel", "+31 6 5932 8841", "Rolstoel, graag vooraan"),
    ("Q", "main"): ("Wilhelmina Klaverstein", "+31 6 6043 9952", "Vegetarisch en lactosevrij"),
    ("Q", "other"): ("Bartholomeus Zandvliet", "+31 6 7154 0063", "Komt met een hulphond"),
}
LISTED = {
    ("P", "roster"): "Hendrikje Molenbeek",
    ("P", "invitation"): "Cornelis Rietveld",
    ("Q", "roster"): "Geertruida Ossewaarde",
    ("Q", "invitation"): "Evert Spijkerboer",
}
REGISTRANTS = {"main", "other"}


@dataclass(frozen=True)
class Secret:
    programme: str  # "P" or "Q"
    owner: str  # "main", "other" (registrations), "roster", "invitation"
    kind: str  # "name", "email", "phone", "answer", "token", "ticket", "code"
    value: str


# The keys among them: whoever holds one can act as the person (change, cancel, get in).
KEYS = {"token", "ticket", "code"}


def _organisers_of(programme: str) -> Callable[[Secret], bool]:
    # The organiser area shows who comes and what they answered, never anyone's keys.
    return lambda s: s.programme == programme and s.kind not in KEYS


def _scanner_of(programme: str) -> Callable[[Secret], bool]:
    # A door volunteer finds a party by name; the ticket code is what the phone sends.
    return lambda s: s.programme == programme and s.owner in REGISTRANTS and s.kind == "name"


SEES: dict[str, Callable[[Secret], bool]] = {
    "anonymous": lambda s: False,
    "resident_q": lambda s: (s.programme, s.owner) == ("Q", "main"),
    "holder_p": lambda s: (s.programme, s.owner) == ("P", "main"),
    "device_q": _scanner_of("Q"),
    "device_p": _scanner_of("P"),
    "token_q": _organisers_of("Q"),
    "organiser_q": _organisers_of("Q"),
    "viewer_p": _organisers_of("P"),
    "organiser_p": _organisers_of("P"),
    # The admin shows every row as it is.
    "superuser": lambda s: True,
}


# Pages that show a key on purpose, to whom besides SEES: the ticket an organiser prints for
# someone without e-mail carries its ticket code (the door takes it), so an organiser who may
# change the programme sees that code there. Never a manage token, nor another programme's.
SHOWN_ON_PURPOSE: dict[str, Callable[[str, Secret], bool]] = {
    "organiser:ticket": lambda actor, s: (
        actor == "organiser_p" and (s.programme, s.owner, s.kind) == ("P", "main", "ticket")
    ),
}


# --- The world ---------------------------------------------------------------------------------


@dataclass
class Site:
    p: World
    q: World
    users: dict[str, Any]
    api_token_q: str
    sessions: dict[str, str]  # programme → the demo Checkout session of its registration
    secrets: list[Secret]

    def world(self, programme: str) -> World:
        return self.p if programme == "P" else self.q


def _email(name: str) -> str:
    return name.lower().replace(" ", ".") + "@example.org"


def _add_people(world: World, tag: str) -> tuple[list[Secret], str]:
    """Real-looking personal data, a paid demo payment and a second registration; returns the
    secrets and the demo Checkout session id of the main registration's payment."""
    activity = world.activity
    activity.price = Decimal("5.00")
    activity.save(update_fields=["price"])
    found: list[Secret] = []
    other = Registration.objects.create(
        activity=activity,
        status=Registration.Status.WAITLISTED,
        waitlisted_at=timezone.now(),
        party_size=1,
        consent_at=timezone.now(),
    )
    for owner, registration in (("main", world.registration), ("other", other)):
        name, phone, answer = PEOPLE[(tag, owner)]
        registration.contact_name, registration.email, registration.phone = (
            name,
            _email(name),
            phone,
        )
        registration.save()
        Answer.objects.create(registration=registration, question=world.question, value=answer)
        found += [
            *(Secret(tag, owner, "name", part) for part in (name, *name.split())),
            Secret(tag, owner, "email", registration.email),
            Secret(tag, owner, "phone", phone),
            Secret(tag, owner, "answer", answer),
            Secret(tag, owner, "token", registration.manage_token),
            Secret(tag, owner, "ticket", registration.ticket_code),
        ]
    session_id = f"cs_demo_{secrets.token_urlsafe(24)}"
    Payment.objects.create(
        registration=world.registration,
        status=Payment.Status.PAID,
        amount=Decimal("10.00"),
        demo=True,
        idempotency_key=f"rechten-{tag}",
        checkout_session_id=session_id,
        paid_at=timezone.now(),
    )
    found.append(Secret(tag, "main", "token", session_id))
    roster_name = LISTED[(tag, "roster")]
    RosterEntry.objects.create(
        programme=world.programme, name=roster_name, email=_email(roster_name), brigade="soest"
    )
    invited = LISTED[(tag, "invitation")]
    invitation = Invitation.objects.create(activity=activity, name=invited, email=_email(invited))
    for owner, name in (("roster", roster_name), ("invitation", invited)):
        found += [Secret(tag, owner, "name", part) for part in (name, *name.split())]
        found.append(Secret(tag, owner, "email", _email(name)))
    found.append(Secret(tag, "invitation", "code", invitation.code))
    return found, session_id


@pytest.fixture
def site(programme, make_programme, django_user_model, settings) -> Site:
    settings.PAYMENTS_DEMO_MODE = True
    # As in production (settings refuse to start without it): the ESP's webhooks need it.
    settings.ANYMAIL = {"WEBHOOK_SECRET": "postmark:Zeer-geheim-42"}
    # Hundreds of requests from one address: the per-address limits are not what is tested.
    settings.RATE_LIMITS = {name: (100_000, 600) for name in settings.RATE_LIMITS}
    p = build_world(programme, "p", django_user_model)
    q = build_world(
        make_programme(name="Veiligheidsmarkt", slug="veiligheidsmarkt"), "q", django_user_model
    )
    p_secrets, p_session = _add_people(p, "P")
    q_secrets, q_session = _add_people(q, "Q")
    viewer = django_user_model.objects.create_user("meekijker-p")
    ProgrammeRole.objects.create(user=viewer, programme=p.programme, role=ProgrammeRole.Role.VIEWER)
    _row, api_token_q = create_token(q.organiser, "rechten")
    return Site(
        p=p,
        q=q,
        users={
            "organiser_p": p.organiser,
            "organiser_q": q.organiser,
            "viewer_p": viewer,
            "superuser": django_user_model.objects.create_superuser("beheerder"),
        },
        api_token_q=api_token_q,
        sessions={"P": p_session, "Q": q_session},
        secrets=p_secrets + q_secrets,
    )


# The keys in a personal address that an actor holds: whose registration's link.
HOLDS = {"holder_p": "P", "resident_q": "Q"}
PERSONAL, GUESSED = "personal", "guessed"


def _forged(key: str) -> str:
    """The same shape as a real key, one character off."""
    return key[:-1] + ("A" if key[-1] != "A" else "B")


def _client(actor: str, site: Site) -> Client:
    # A 500 is an answer like any other here: the walk reports it with the others.
    if actor in site.users:
        client = Client(raise_request_exception=False)
        client.force_login(site.users[actor])
        return client
    bearer = {
        "device_p": site.p.device_token,
        "device_q": site.q.device_token,
        "token_q": site.api_token_q,
    }.get(actor)
    client = Client(
        headers={"Authorization": f"Bearer {bearer}"} if bearer else None,
        raise_request_exception=False,
    )
    if actor in HOLDS:
        # A resident has opened their own link before, as from the e-mail.
        token = site.world(HOLDS[actor]).registration.manage_token
        read(client.get(reverse("registrations:manage", kwargs={"token": token})))
    return client


def _keys(actor: str, site: Site, *, guess: bool = False) -> tuple[str, str]:
    """The manage token and demo session id this actor puts in a personal address."""
    if actor in HOLDS and not guess:
        programme = HOLDS[actor]
        return site.world(programme).registration.manage_token, site.sessions[programme]
    return _forged(site.p.registration.manage_token), _forged(site.sessions["P"])


# --- Asking ------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    location: str
    body: bytes
    changed: list[str]  # models whose rows a refused change changed
    code: str = ""  # the API's error code


@contextmanager
def _sandbox(client: Client) -> Iterator[None]:
    """Whatever the request changes is rolled back, the client's cookies (a logout!) too."""
    cookies = copy.deepcopy(client.cookies)
    with transaction.atomic():
        yield
        transaction.set_rollback(True)
    client.cookies = cookies


def table_rows() -> dict[str, list[tuple]]:
    """Every row of the tables in PROGRAMME_ROWS, in plain SQL (the walk takes hundreds)."""
    rows = {}
    with connection.cursor() as cursor:
        for model, _path in PROGRAMME_ROWS:
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"SELECT * FROM {table} ORDER BY 1")
            columns = [column[0] for column in cursor.description]
            kept = [i for i, column in enumerate(columns) if column not in VOLATILE_FIELDS]
            rows[model.__name__] = [tuple(row[i] for i in kept) for row in cursor.fetchall()]
    return rows


def _ask(client: Client, send: Callable[[], Any], *, unchanged: dict | None = None) -> Reply:
    """Send a request in a sandbox; with `unchanged` (from `table_rows`), list the tables whose
    rows the request changed."""
    with _sandbox(client):
        response = send()
        body = read(response)
        changed = []
        if unchanged is not None:
            after = table_rows()
            changed = [name for name, rows in after.items() if rows != unchanged[name]]
    code = ""
    if response.get("Content-Type", "").startswith("application/json") and body[:1] == b"{":
        code = response.json().get("code", "")
    return Reply(response.status_code, response.get("Location", ""), body, changed, code)


def _leaks(actor: str, site: Site, reply: Reply, route_name: str | None = None) -> list[str]:
    text = reply.body.decode(errors="replace") + " " + unquote(reply.location)
    on_purpose = SHOWN_ON_PURPOSE.get(route_name or "", lambda actor, secret: False)
    return sorted(
        {
            f"{secret.kind} of {secret.programme}'s {secret.owner}"
            for secret in site.secrets
            if not (SEES[actor](secret) or on_purpose(actor, secret)) and secret.value in text
        }
    )


# --- Classifying -------------------------------------------------------------------------------


def page_group(route: Route) -> str | None:
    for group, names in PAGE_GROUPS.items():
        if route.name in names:
            return group
    if route.name:
        return NAMESPACE_GROUPS.get(route.namespace.split(":")[0])
    return next(
        (group for prefix, group in PREFIX_GROUPS.items() if route.route.startswith(prefix)),
        None,
    )


def api_group(operation: Operation) -> str | None:
    return next((group for group, ids in API_GROUPS.items() if operation.operation_id in ids), None)


def test_every_url_pattern_is_classified():
    unclassified = [str(route) for route in all_routes() if page_group(route) is None]

    assert not unclassified, (
        "Decide who may use these URL patterns and add them to PAGE_GROUPS in "
        f"{__name__}: {unclassified}"
    )
    unfillable = {
        str(route): sorted(set(route.kwargs) - PAGE_KWARGS)
        for route, _group in requested_pages()
        if set(route.kwargs) - PAGE_KWARGS
    }
    assert not unfillable, f"Add these URL keywords to URL_KWARGS in tests.walk: {unfillable}"
    groups = {*PAGE_GROUPS, *NAMESPACE_GROUPS.values(), *PREFIX_GROUPS.values()}
    assert (groups - NOT_REQUESTED) | {GUESSED} == {group for group, _actor in PAGE_RULES}


def test_every_api_operation_is_classified():
    unclassified = [str(op) for op in api_operations() if api_group(op) is None]
    unfillable = {str(op): op.missing() for op in api_operations() if op.missing()}

    assert not unclassified, (
        f"Decide who may use these API operations and add them to API_GROUPS in {__name__}: "
        f"{unclassified}"
    )
    assert not unfillable, f"Add rows to the tables in tests.walk for: {unfillable}"
    assert set(API_GROUPS) | {GUESSED} == {group for group, _actor in API_RULES}


def test_every_api_url_is_an_operation():
    """The `api` namespace is walked through the OpenAPI document: nothing in it escapes."""
    paths = {op.path.removeprefix("/") for op in api_operations()}
    outside = [
        str(route)
        for route in all_routes()
        if route.namespace == "api"
        and page_group(route) == "api"
        and route.route.replace("<", "{").replace(">", "}") not in paths
    ]

    assert not outside, f"API URL patterns the OpenAPI document does not describe: {outside}"


# --- Walking -----------------------------------------------------------------------------------


def requested_pages() -> Iterator[tuple[Route, str]]:
    for route in all_routes():
        group = page_group(route)
        if group in NOT_REQUESTED or (group == "admin" and route.name not in ADMIN_SAMPLES):
            continue
        yield route, group


def _variants(group: str, actor: str) -> list[tuple[str, bool]]:
    """(rule group, whether to guess the key) for each way the actor asks for a pattern."""
    if group == PERSONAL and actor in HOLDS:
        return [(PERSONAL, False), (GUESSED, True)]
    return [(group, False)]


def _page_url(route: Route, actor: str, site: Site, *, guess: bool) -> str:
    token, session_id = _keys(actor, site, guess=guess)
    values: dict[str, Any] = {}
    for key in route.kwargs:
        if key == "token":
            values[key] = token
        elif key == "session_id":
            values[key] = session_id
        elif key == "slug" and "programme_slug" in route.kwargs:
            values[key] = site.p.activity.slug
        elif key == "slug":
            values[key] = site.p.programme.slug
        else:
            values[key] = URL_KWARGS[key](site.p)
    return reverse(route.name, kwargs=values)


def _to_a_login(reply: Reply) -> bool:
    return reply.location.startswith(("/inloggen/", "/admin/login/"))


PAGE_OUTCOMES: dict[str, Callable[[Reply], bool]] = {
    "ok": lambda r: (200 <= r.status < 400 and not _to_a_login(r)) or r.status in (400, 422),
    "login": lambda r: r.status == 302 and r.location.startswith("/inloggen/?next="),
    "admin": lambda r: r.status == 302 and r.location.startswith("/admin/login/?next="),
    "403": lambda r: r.status == 403,
    "404": lambda r: r.status == 404,
    "bad": lambda r: r.status in (400, 403, 404),
}


def _expected(rule: str, method: str) -> str:
    if rule == "view":
        return "ok" if method == "GET" else "403"
    return rule


def _known(problem: str) -> bool:
    """Whether a problem message ("GET /url [route name, group]: ...") is in KNOWN_PROBLEMS."""
    name = problem.partition(" [")[2].partition(",")[0]
    return any(
        fnmatchcase(name, pattern) and text in problem for pattern, text, _test in KNOWN_PROBLEMS
    )


def _describe(reply: Reply) -> str:
    return f"{reply.status}" + (f" → {reply.location}" if reply.location else "")


def _walk_page(
    actor: str, site: Site, client: Client, rows: dict, route: Route, group: str, *, guess: bool
) -> list[str]:
    url = _page_url(route, actor, site, guess=guess)
    rule = PAGE_RULES[group, actor]
    methods = ("GET",) if group in ("admin", "admin_home") else ("GET", "POST")
    problems = []
    replies = {}
    for method in methods:
        expected = _expected(rule, method)
        body = PAGE_BODIES[route.name](site.p) if route.name in PAGE_BODIES else {}
        send = partial(client.get, url) if method == "GET" else partial(client.post, url, body)
        refused_change = method != "GET" and expected != "ok"
        reply = _ask(client, send, unchanged=rows if refused_change else None)
        replies[method] = reply
        where = f"{method} {url} [{route.name}, {group}]"
        if reply.status != 405 and not PAGE_OUTCOMES[expected](reply):
            problems.append(f"{where}: expected {expected}, got {_describe(reply)}")
        if reply.changed:
            problems.append(f"{where}: refused ({reply.status}) but changed {reply.changed}")
        if leaks := _leaks(actor, site, reply, route.name):
            problems.append(f"{where}: {_describe(reply)} shows {', '.join(leaks)}")
    if all(reply.status == 405 for reply in replies.values()):
        problems.append(f"{url} [{route.name}]: takes none of {', '.join(methods)}")
    return problems


@pytest.mark.parametrize("actor", ACTORS)
def test_pages(actor, site):
    client = _client(actor, site)
    rows = table_rows()
    problems = []
    for route, route_group in requested_pages():
        for group, guess in _variants(route_group, actor):
            problems += _walk_page(actor, site, client, rows, route, group, guess=guess)

    unknown = [problem for problem in problems if not _known(problem)]
    assert not unknown, f"As {actor} ({ACTORS[actor]}):\n" + "\n".join(unknown)


REFUSALS = {(401, "not_authenticated"), (403, "permission_denied"), (404, "not_found")}


def _json(reply: Reply) -> Any:
    return json.loads(reply.body)


API_OUTCOMES: dict[str, Callable[[Reply, Site], bool]] = {
    "ok": lambda r, site: (r.status, r.code) not in REFUSALS and r.status != 429 and r.status < 500,
    "401": lambda r, site: (r.status, r.code) == (401, "not_authenticated"),
    "403": lambda r, site: (r.status, r.code) == (403, "permission_denied"),
    "404": lambda r, site: (r.status, r.code) == (404, "not_found"),
    "without_p": lambda r, site: (
        r.status == 200 and site.p.activity.pk not in {row["id"] for row in _json(r)}
    ),
    "wrong_activity": lambda r, site: (
        r.status == 200 and {scan["result"] for scan in _json(r)["results"]} == {"wrong_activity"}
    ),
}


@pytest.mark.parametrize("actor", ACTORS)
def test_api(actor, site):
    client = _client(actor, site)
    rows = table_rows()
    problems = []
    for op in api_operations():
        for group, guess in _variants(api_group(op), actor):
            token, _session_id = _keys(actor, site, guess=guess)
            # The search looks for P's party by name (P's scanner may find it).
            params = {"token": token, "q": PEOPLE[("P", "main")][0].split()[-1]}
            expected = API_RULES[group, actor]
            refused_change = op.method != "GET" and expected != "ok"
            send = partial(op.request, client, site.p, params=params)
            reply = _ask(client, send, unchanged=rows if refused_change else None)
            where = f"{op} [{group}]"
            if not API_OUTCOMES[expected](reply, site):
                problems.append(
                    f"{where}: expected {expected}, got {reply.status} {reply.body[:200]!r}"
                )
            if reply.changed:
                problems.append(f"{where}: refused ({reply.status}) but changed {reply.changed}")
            if leaks := _leaks(actor, site, reply):
                problems.append(f"{where}: {reply.status} shows {', '.join(leaks)}")

    assert not problems, f"As {actor} ({ACTORS[actor]}):\n" + "\n".join(problems)


# --- Problems the walk found, now fixed -------------------------------------------------------


def test_signing_up_again_does_not_hand_out_the_personal_link(site):
    """Knowing someone's e-mail address is not enough to open their registration: their name,
    phone number and ticket, and the buttons to change, cancel or delete it. (Found by the walk:
    the form used to redirect a repeated sign-up to the existing personal page.)"""
    url = reverse(
        "registrations:signup",
        kwargs={"programme_slug": site.p.programme.slug, "slug": site.p.activity.slug},
    )

    response = Client().post(url, PAGE_BODIES["registrations:signup"](site.p))

    assert response.status_code == 303
    assert site.p.registration.manage_token not in response["Location"]
    assert (
        site.p.registration.manage_token not in Client().get(response["Location"]).content.decode()
    )


def test_webhooks_of_mail_providers_not_in_use_answer_no_500(settings, db):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "postmark:Zeer-geheim-42"}
    client = Client(raise_request_exception=False)

    assert client.post("/anymail/mailgun/tracking/").status_code == 404
    assert client.post("/anymail/amazon_ses/tracking/").status_code == 404
