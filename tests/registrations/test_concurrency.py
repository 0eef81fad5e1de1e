"""No overbooking under real concurrency: many threads, each with its own database connection,
call the services at the same moment (a barrier releases them together).

Every test runs twice: on PostgreSQL (`postgres` marker; row locks via `select_for_update`) and on
SQLite (`sqlite` marker; immediate transactions serialise writers). Threads cannot share
pytest-django's in-memory SQLite test database, so the SQLite run copies it into a file for the
test (see `database`) with the same options, `transaction_mode="IMMEDIATE"` among them.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from events.models import Activity
from registrations import services
from registrations.models import Registration
from registrations.services import SignUp
from tests.helpers import sqlite_test_database_in_file

Status = Registration.Status
THREADS = 50


@pytest.fixture(
    params=[
        pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.engine_dependent]),
        pytest.param("sqlite", marks=[pytest.mark.sqlite, pytest.mark.engine_dependent]),
    ],
)
def database(request, transactional_db, tmp_path):
    """The test's database, committed for real and reachable from other threads."""
    vendor = request.param
    if vendor == "postgresql":
        # The `postgres` and `sqlite` markers skip the run whose database is not the test's.
        yield vendor
        return
    # Threads need a file: each opens its own connection from the same settings.
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    # Fifty writers queue for one lock; on a busy 2-core CI machine the last may wait longer
    # than the production timeout (20 s). Waiting is what is under test, not the timeout.
    with sqlite_test_database_in_file(tmp_path / "concurrency.sqlite3", timeout=120):
        yield vendor


def run_at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run each call in its own thread, all released at the same moment; their results in order.

    Expected domain errors are the calls' business (they return them); anything a call raises
    fails the test."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    failures: list[BaseException] = []

    def work(index: int, call: Callable[[], Any]) -> None:
        try:
            connection.ensure_connection()  # connect first, so the race is about the work
            barrier.wait(timeout=60)
            results[index] = call()
        except BaseException as error:
            failures.append(error)
            barrier.abort()
        finally:
            connection.close()  # every thread's connection; an unclosed one warns (= fails)

    threads = [threading.Thread(target=work, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
    return results


def sign_up(activity: Activity, n: int, party_size: int = 1) -> Callable[[], Registration]:
    # Not the `inwoner<n>@` addresses make_registration hands out: a clash would turn a
    # newcomer into a duplicate sign-up of an existing registration.
    data = SignUp(
        contact_name=f"Nieuwkomer {n}", email=f"nieuwkomer{n}@example.org", party_size=party_size
    )
    return lambda: services.register(activity.pk, data).registration


def refusal(call: Callable[[], Any]) -> Callable[[], Any]:
    """The call's result, or the domain error it raised."""

    def guarded() -> Any:
        try:
            return call()
        except services.RegistrationError as error:
            return error

    return guarded


def persons(activity: Activity, *statuses: str) -> int:
    rows = Registration.objects.filter(activity=activity, status__in=statuses)
    return rows.aggregate(total=Sum("party_size"))["total"] or 0


def test_fifty_sign_ups_at_once_confirm_exactly_the_capacity(database, make_activity):
    activity = make_activity(capacity=20, max_party_size=1)

    results = run_at_once([sign_up(activity, n) for n in range(THREADS)])

    assert [r.status for r in results].count(Status.CONFIRMED) == 20
    assert persons(activity, Status.CONFIRMED) == 20
    assert persons(activity, Status.WAITLISTED) == THREADS - 20
    assert Registration.objects.filter(activity=activity).count() == THREADS
    assert Activity.objects.with_places_taken().get(pk=activity.pk).places_taken == 20
    # The waitlist is in the order the sign-ups committed: nobody shares a moment with another.
    waiting = Registration.objects.filter(activity=activity, status=Status.WAITLISTED)
    assert waiting.values("waitlisted_at").distinct().count() == THREADS - 20


def test_mixed_party_sizes_at_once_never_exceed_capacity(database, make_activity):
    activity = make_activity(capacity=20, max_party_size=4)
    sizes = [1 + (n * 7) % 4 for n in range(THREADS)]  # 1-4, mixed

    run_at_once([sign_up(activity, n, size) for n, size in enumerate(sizes)])

    confirmed = persons(activity, Status.CONFIRMED)
    assert confirmed <= 20
    assert confirmed + persons(activity, Status.WAITLISTED) == sum(sizes)
    # Places only ran out during the burst, so every party on the waitlist was, and still is,
    # too large for what was left when it came.
    waiting = Registration.objects.filter(activity=activity, status=Status.WAITLISTED)
    assert all(party.party_size > 20 - confirmed for party in waiting)
    assert waiting.exists()


def test_double_clicks_at_once_make_one_registration(database, make_activity):
    activity = make_activity(capacity=20)

    results = run_at_once([sign_up(activity, 7, party_size=2) for _ in range(THREADS)])

    assert {r.pk for r in results} == {results[0].pk}
    assert Registration.objects.filter(activity=activity).count() == 1


def test_a_phone_sign_up_sent_twice_at_once_makes_one_registration(
    database, make_activity, organiser
):
    """The desk's double submit: without an e-mail address the repeat is the same name and
    phone number, found under the activity's lock like an address."""
    activity = make_activity(capacity=20)
    data = SignUp(contact_name="Truus Hendriks", email="", phone="06 1234 5678", party_size=2)
    taken_by = services.TakenBy(organiser)

    results = run_at_once(
        [lambda: services.register(activity.pk, data, taken_by=taken_by) for _ in range(10)]
    )

    assert {r.registration.pk for r in results} == {results[0].registration.pk}
    assert [r.created for r in results].count(True) == 1
    assert Registration.objects.filter(activity=activity).count() == 1


def test_repeats_at_once_claim_one_mail_to_the_owner(database, make_activity, make_registration):
    """The rule itself, without the activity lock sign-ups take: one conditional UPDATE."""
    registration = make_registration(activity=make_activity())
    now = timezone.now()

    def claim() -> bool:
        return Registration.objects.get(pk=registration.pk).claim_repeat_mail(now)

    results = run_at_once([claim for _ in range(10)])

    assert results.count(True) == 1


def test_parties_growing_at_once_never_exceed_capacity(database, make_activity, make_registration):
    activity = make_activity(capacity=THREADS + 10, max_party_size=3)
    parties = [make_registration(activity=activity, party_size=1) for _ in range(THREADS)]

    results = run_at_once(
        [refusal(lambda pk=p.pk: services.change_party_size(pk, 3)) for p in parties]
    )

    grown = [r for r in results if isinstance(r, Registration)]
    refused = [r for r in results if isinstance(r, services.RegistrationError)]
    assert len(grown) == 5  # 10 free places, 2 more persons each
    assert {type(error) for error in refused} == {services.NotEnoughPlaces}
    assert len(refused) == THREADS - 5
    assert persons(activity, Status.CONFIRMED) == THREADS + 10


def test_claims_and_sign_ups_at_once_never_exceed_capacity(
    database, make_activity, make_registration
):
    """Ten parties claim their offers (each clicking twice) while thirty newcomers sign up."""
    activity = make_activity(capacity=20, max_party_size=1)
    for _ in range(10):
        make_registration(activity=activity, party_size=1)
    offered = [
        make_registration(
            activity=activity,
            party_size=1,
            status=Status.OFFERED,
            waitlisted_at=timezone.now(),
            hold_expires_at=timezone.now() + dt.timedelta(hours=48),
        )
        for _ in range(10)
    ]
    claims = [lambda pk=r.pk: services.claim_offer(pk) for r in offered for _click in range(2)]
    newcomers = [sign_up(activity, 1000 + n) for n in range(THREADS - len(claims))]

    results = run_at_once(claims + newcomers)

    assert all(r.status == Status.CONFIRMED for r in results[: len(claims)])
    assert all(r.status == Status.WAITLISTED for r in results[len(claims) :])
    assert persons(activity, Status.CONFIRMED) == 20
    assert not Registration.objects.filter(activity=activity, status=Status.OFFERED).exists()
