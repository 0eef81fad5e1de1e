"""Shared fixtures: programme → activity → registration, each building on the last; users with a
role in a programme; the task queue held in memory; private files in a folder of the test; a fast
password hasher for the whole session."""

from __future__ import annotations

import datetime as dt
import importlib.util
import itertools
import logging
import os
import time
import types
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.tasks import default_task_backend
from django.test import override_settings
from django.utils import timezone, translation
from pytest_django.live_server_helper import LiveServer

from demo.synthetic import synthetic_activities
from events.models import Activity, Programme, ProgrammeRole
from jubileum.lib import ratelimit
from jubileum.lib.env import env_bool
from registrations.models import Registration
from tests.helpers import sqlite_test_database_in_file

_counter = itertools.count(1)


@pytest.fixture(autouse=True, scope="session")
def fast_password_hasher():
    """MD5 instead of the production hasher, whose 1.5 million iterations are slow on purpose
    (about a second per `create_user` or login here). No test is about the hasher's strength."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def dutch():
    """Every test starts in Dutch, whatever language an earlier request left active."""
    with translation.override("nl"):
        yield


@pytest.fixture(autouse=True)
def fresh_cache():
    """Rate-limit counts live in the cache: no test inherits another's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def rate_limit_clock(request, monkeypatch):
    """Rate limits count in fixed windows of the wall clock, so a test whose second request
    came just after a window ended would find the count started again and no 429. The limiter's
    clock stands still half a minute into an hour (every window here divides an hour) unless
    the test moves time itself with time_machine."""
    if "time_machine" in request.fixturenames:
        return
    standing = time.time() // 3600 * 3600 + 30
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: standing))


@pytest.fixture
def programme(db) -> Programme:
    return Programme.objects.create(
        name="Brandweer Soest & Soesterberg 100 jaar",
        slug="brandweer-100",
        starts_on=dt.date(2026, 12, 1),
        ends_on=dt.date(2027, 3, 31),
        description="Honderd jaar brandweer in Soest en Soesterberg.",
        organiser_name="Gemeente Soest",
        organiser_email="jubileum@example.org",
        is_public=True,
        privacy_statement="Wij bewaren alleen wat nodig is.",
        accessibility_statement="Deze site is getest met toetsenbord en schermlezer.",
    )


@pytest.fixture
def make_programme(db):
    """Make another public programme; override any field."""

    def make(**fields) -> Programme:
        n = next(_counter)
        values = {
            "name": f"Brandveiligheidsweek {n}",
            "slug": f"brandveiligheidsweek-{n}",
            "starts_on": dt.date(2027, 10, 4),
            "ends_on": dt.date(2027, 10, 10),
            "organiser_name": "Gemeente Soest",
            "organiser_email": "veiligheid@example.org",
            "is_public": True,
        }
        values.update(fields)
        return Programme.objects.create(**values)

    return make


@pytest.fixture
def many_activities(programme):
    """Fill the programme with `count` activities of mixed kinds (for query-count tests)."""
    return lambda count: synthetic_activities(programme, count)


@pytest.fixture
def make_activity(programme):
    """Make a published public activity two weeks from now; override any field."""

    def make(**fields) -> Activity:
        n = next(_counter)
        starts_at = fields.pop("starts_at", timezone.now() + dt.timedelta(days=14))
        values = {
            "programme": programme,
            "title": f"Activiteit {n}",
            "slug": f"activiteit-{n}",
            "summary": "Een middag vol brandveiligheid.",
            "starts_at": starts_at,
            "ends_at": starts_at + dt.timedelta(hours=2),
            "location_name": "Kazerne Soest",
            "location_address": "Birkstraat 1, 3768 HD Soest",
            "capacity": 20,
            "max_party_size": 6,
            "price": Decimal("0.00"),
            "status": Activity.Status.PUBLISHED,
        }
        values.update(fields)
        return Activity.objects.create(**values)

    return make


@pytest.fixture
def activity(make_activity) -> Activity:
    return make_activity(title="Kinderbrandweermiddag", slug="kinderbrandweermiddag")


@pytest.fixture
def make_registration(request):
    """Make a confirmed registration (for the `activity` fixture unless one is given)."""

    def make(**fields) -> Registration:
        n = next(_counter)
        if "activity" not in fields:
            fields["activity"] = request.getfixturevalue("activity")
        values = {
            "status": Registration.Status.CONFIRMED,
            "contact_name": f"Inwoner {n}",
            "email": f"inwoner{n}@example.org",
            "party_size": 2,
            "consent_at": timezone.now(),
        }
        values.update(fields)
        return Registration.objects.create(**values)

    return make


# --- Users with a role, the task queue, private files ----------------------------------------


@pytest.fixture
def make_user(django_user_model):
    """Make a staff user (password "wachtwoord-123"), with the role in `programme` if given."""

    def make(username: str, role: str | None = None, programme=None):
        user = django_user_model.objects.create_user(
            username=username, password="wachtwoord-123", is_staff=True
        )
        if role:
            ProgrammeRole.objects.create(user=user, programme=programme, role=role)
        return user

    return make


@pytest.fixture
def organiser(make_user, programme):
    """An organiser of `programme`."""
    return make_user("organisator", ProgrammeRole.Role.ORGANISER, programme)


@pytest.fixture
def viewer(make_user, programme):
    """A viewer of `programme`: may read, not change."""
    return make_user("meekijker", ProgrammeRole.Role.VIEWER, programme)


@pytest.fixture
def stranger(make_user, make_programme):
    """An organiser, but of another programme."""
    return make_user("buurman", ProgrammeRole.Role.ORGANISER, make_programme())


@pytest.fixture
def tasks(settings):
    """Enqueued tasks stay in memory (DummyBackend), never run: a test reads what was enqueued."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    default_task_backend.clear()
    return default_task_backend


@pytest.fixture
def private_media(settings, tmp_path) -> Path:
    """Private files (budget attachments) go to a folder of this test, which is returned."""
    location = tmp_path / "private"
    private = {**settings.STORAGES["private"], "OPTIONS": {"location": location}}
    settings.STORAGES = {**settings.STORAGES, "private": private}
    return location


# --- What runs after a commit, without committing -------------------------------------------


def _outside_the_codes_transactions(database: BaseDatabaseWrapper) -> bool:
    """Only the test's own atomic blocks are open: for the code, this is autocommit."""
    return (
        database.in_atomic_block
        and not database.needs_rollback
        and all(block._from_testcase for block in database.atomic_blocks)
    )


def _run_commit_hooks(database: BaseDatabaseWrapper) -> None:
    while database.run_on_commit:
        _, hook, robust = database.run_on_commit.pop(0)
        if not robust:
            hook()
            continue
        try:
            hook()
        except Exception:
            # As Django does for a robust hook after a real commit.
            logging.getLogger("django.db.backends.base").exception("Error calling %s", hook)


@pytest.fixture
def commit_hooks(db, monkeypatch):
    """`transaction.on_commit` callbacks run when the code's outermost atomic block ends (or at
    once outside one), as after a real commit, while the test's own transaction stays open and is
    rolled back at the end as usual.

    For tests that need what runs after a commit (tasks enqueued, mail sent) but nothing that a
    real commit alone gives: far cheaper than `django_db(transaction=True)`, which empties every
    table after each test. Threads, other processes and the live server still need real commits.
    """
    exit_atomic = transaction.Atomic.__exit__
    on_commit = BaseDatabaseWrapper.on_commit

    def exit_then_run_hooks(self, exc_type, exc_value, traceback):
        suppressed = exit_atomic(self, exc_type, exc_value, traceback)
        database = transaction.get_connection(self.using)
        if exc_type is None and _outside_the_codes_transactions(database):
            _run_commit_hooks(database)
        return suppressed

    def register_then_run_hooks(self, func, robust=False):
        on_commit(self, func, robust)
        if _outside_the_codes_transactions(self):
            _run_commit_hooks(self)

    monkeypatch.setattr(transaction.Atomic, "__exit__", exit_then_run_hooks)
    monkeypatch.setattr(BaseDatabaseWrapper, "on_commit", register_then_run_hooks)


# --- Markers: `browser`, `postgres`, `sqlite` and `stripe_contract` --------------------------
#
# Locally these tests skip with the reason where Chromium, PostgreSQL, SQLite or localstripe is
# absent. CI sets JUBILEUM_REQUIRE_BROWSER=1 / JUBILEUM_REQUIRE_POSTGRES=1 /
# JUBILEUM_REQUIRE_SQLITE=1 so that the same absence stops the run instead: a green CI must mean
# the tests ran, not that they were skipped. localstripe is required wherever CI is set (or
# JUBILEUM_REQUIRE_LOCALSTRIPE=1): it comes with the test extra, so every CI step has it.
# (`engine_dependent` only selects: CI runs those tests on SQLite as well; see .ci/run.)

CHROMIUM = Path(os.environ.get("JUBILEUM_CHROMIUM", "/usr/bin/chromium"))
# Playwright adds --headless and --no-sandbox itself; the rest keep Chromium off the network.
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


# Required wherever CI is set, unless the variable itself says otherwise.
REQUIRED_ON_CI = {"JUBILEUM_REQUIRE_LOCALSTRIPE"}


def _required(name: str) -> bool:
    return env_bool(name, default=name in REQUIRED_ON_CI and env_bool("CI"))


def _browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return (
            f"Chromium not found at {CHROMIUM} "
            "(apt-get install chromium, or point JUBILEUM_CHROMIUM at it)"
        )
    if importlib.util.find_spec("playwright") is None:
        return "Playwright for Python is not installed (make install-test)"
    return None


def _postgres_missing() -> str | None:
    if connection.vendor != "postgresql":
        return (
            f"needs PostgreSQL; the test database is {connection.vendor} "
            "(set DATABASE_URL=postgres://...)"
        )
    return None


def _sqlite_missing() -> str | None:
    if connection.vendor != "sqlite":
        return f"needs SQLite; the test database is {connection.vendor} (unset DATABASE_URL)"
    return None


def _localstripe_missing() -> str | None:
    if importlib.util.find_spec("localstripe") is None:
        return "localstripe is not installed (make install-test)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    checks = {
        "browser": (_browser_missing, "JUBILEUM_REQUIRE_BROWSER"),
        "postgres": (_postgres_missing, "JUBILEUM_REQUIRE_POSTGRES"),
        "sqlite": (_sqlite_missing, "JUBILEUM_REQUIRE_SQLITE"),
        "stripe_contract": (_localstripe_missing, "JUBILEUM_REQUIRE_LOCALSTRIPE"),
    }
    for marker, (missing, required_by) in checks.items():
        marked = [item for item in items if item.get_closest_marker(marker)]
        # A requirement holds even when no marked test was selected: a CI step that asks for
        # PostgreSQL must not quietly run everything on SQLite.
        if not (marked or _required(required_by)):
            continue
        reason = missing()
        if reason is None:
            continue
        if _required(required_by):
            raise pytest.UsageError(f"{required_by}=1 but {reason}.")
        for item in marked:
            item.add_marker(pytest.mark.skip(reason=reason))
    # Browser tests last: once Playwright runs, Django's async-safety guard is off for the rest
    # of the session (see `browser`), and no other test should run without it. The contract
    # tests just before them: they start the live server, which on SQLite moves the session to
    # a file copy of the test database (see `live_server`).
    items.sort(
        key=lambda item: (
            item.get_closest_marker("browser") is not None,
            item.get_closest_marker("stripe_contract") is not None,
        )
    )


# --- Browser fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def live_server(request, django_db_setup, django_db_blocker, tmp_path_factory):
    """pytest-django's live server, on a test database that each of its threads opens for itself.

    The server answers each request in a thread of its own, several at once (a scanner page
    polls its counts while a scan is redeemed). pytest-django would give all of them, and the
    test, the one connection that holds the in-memory SQLite test database, which Django's
    documentation of LiveServerTestCase warns against. It went wrong: sqlite3's statement cache
    handed two threads running the same query one prepared statement, so the scanner's device
    lookup came back empty (401, and the page unpaired) or raised, and one thread's BEGIN met
    another's transaction (503). So from here on the test database is a file copy with the
    production options, and every thread connects to it on its own, as in production
    (tests/e2e/test_live_server.py). Browser tests come last, so the copy is made once the other
    tests are done. On PostgreSQL every thread has its own connection anyway.

    Started only once the test database exists, so that the copy is of the test database.
    """
    addr = (
        request.config.getvalue("liveserver")
        or os.environ.get("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    with ExitStack() as stack:
        if connection.vendor == "sqlite" and connection.is_in_memory_db():
            path = tmp_path_factory.mktemp("live-server") / "jubileum.sqlite3"
            with django_db_blocker.unblock():
                stack.enter_context(sqlite_test_database_in_file(path))
        server = LiveServer(addr)
        stack.callback(server.stop)
        yield server


@pytest.fixture(scope="session")
def playwright():
    """One Playwright for the session: its sync API allows only one per thread.

    Never `playwright install` (no downloads here): tests launch Debian's Chromium.
    """
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop marked as running on this thread until the
    # session ends, which makes Django refuse ORM calls from the test body and from live_server's
    # database teardown. The thread never runs coroutines of its own, so the guard has nothing to
    # protect here; browser tests are sorted last so that no other test runs without it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as instance:
        yield instance
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def browser(playwright):
    """Debian's Chromium, shared by the browser tests."""
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def foreign_requests() -> list[str]:
    """URLs a page tried to load from any host but the live server (blocked, and listed)."""
    return []


@pytest.fixture
def new_page(browser, live_server, foreign_requests):
    """Make a page in a fresh Dutch browser context on the live server: `page.goto("/")` opens
    the home page.

    Requests to other hosts are aborted and recorded in `foreign_requests`, so a test both
    proves the page loads nothing from third parties and never reaches the network.
    """
    origin = urlsplit(live_server.url)
    contexts = []

    def guard(route) -> None:
        url = urlsplit(route.request.url)
        if url.scheme in ("data", "blob") or (url.scheme, url.netloc) == (
            origin.scheme,
            origin.netloc,
        ):
            route.continue_()
        else:
            foreign_requests.append(route.request.url)
            route.abort()

    def make(viewport: str = "desktop", *, javascript: bool = True):
        context = browser.new_context(
            base_url=live_server.url,
            locale="nl-NL",
            timezone_id="Europe/Amsterdam",
            viewport=VIEWPORTS[viewport],
            java_script_enabled=javascript,
        )
        contexts.append(context)
        context.route("**/*", guard)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(request, new_page):
    """A desktop-sized page (see `new_page`); `@pytest.mark.parametrize("page", ["phone"],
    indirect=True)` gives a phone-sized one."""
    return new_page(getattr(request, "param", "desktop"))
