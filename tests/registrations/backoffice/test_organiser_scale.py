"""The organiser pages at scale: the programme overview's cost grows with its activities, not
with their registrations, and the activity page sends one page of each queue, not all of it."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from registrations.models import CheckIn, Registration

Status = Registration.Status


@pytest.fixture
def organiser_client(client, organiser):
    client.force_login(organiser)
    return client


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _plan(sql: str) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        document = cursor.fetchone()[0]
    return (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]


@pytest.mark.postgres
def test_programme_overview_scans_the_registrations_once_without_a_subplan_per_row(
    organiser_client, programme, make_activity, make_registration
):
    """At 50,000 registrations the overview took 57 s: two correlated subqueries landed in its
    GROUP BY, so PostgreSQL ran them once per registration row."""
    activities = [make_activity() for _n in range(3)]
    for activity in activities:
        for n in range(20):
            registration = make_registration(
                activity=activity, status=[Status.CONFIRMED, Status.WAITLISTED][n % 2]
            )
        CheckIn.objects.create(registration=registration, persons=1, at=timezone.now())

    url = reverse("organiser:programme", kwargs={"programme_slug": programme.slug})
    with CaptureQueriesContext(connection) as queries:
        response = organiser_client.get(url)
    assert response.status_code == 200

    counted = [q["sql"] for q in queries if '"registrations_registration"' in q["sql"]]
    assert counted
    for sql in counted:
        nodes = list(_nodes(_plan(sql)))
        subplans = [node for node in nodes if node.get("Parent Relationship") == "SubPlan"]
        assert subplans == [], sql
        table = "registrations_registration"
        scans = [node for node in nodes if node.get("Relation Name") == table]
        # Once, or once per activity (an index scan in a nested loop): never once per row.
        assert len(scans) == 1 and scans[0]["Actual Loops"] <= len(activities), sql


def _activity_url(programme, activity) -> str:
    return reverse(
        "organiser:activity",
        kwargs={"programme_slug": programme.slug, "activity_slug": activity.slug},
    )


def _queue(activity, status: Status, count: int, name: str = "Wachtende") -> list[Registration]:
    start = timezone.now() - dt.timedelta(days=1)
    return Registration.objects.bulk_create(
        Registration(
            activity=activity,
            status=status,
            contact_name=f"{name} {n:03}",
            email=f"{name.lower()}{n}@example.org",
            party_size=2,
            consent_at=start,
            waitlisted_at=start + dt.timedelta(minutes=n) if status == Status.WAITLISTED else None,
        )
        for n in range(count)
    )


def test_the_queues_page_each_on_their_own(organiser_client, programme, activity, make_activity):
    make_activity(title="Tweede ronde")
    _queue(activity, Status.WAITLISTED, 120)
    _queue(activity, Status.PENDING_APPROVAL, 60, name="Keurling")
    url = _activity_url(programme, activity)

    first = organiser_client.get(url)
    third = organiser_client.get(url, {"wachtlijst": 3, "goedkeuring": 2})

    html = first.content.decode()
    assert "Wachtlijst (120)" in html and "Wacht op goedkeuring (60)" in html
    assert [r.contact_name for r in first.context["groups"]["waitlist"]] == [
        f"Wachtende {n:03}" for n in range(50)
    ]
    assert "?wachtlijst=2" in html and "?goedkeuring=2" in html
    # The third page of the waitlist, in the order people joined it, and numbered on from 101.
    assert [r.contact_name for r in third.context["groups"]["waitlist"]] == [
        f"Wachtende {n:03}" for n in range(100, 120)
    ]
    assert [r.contact_name for r in third.context["groups"]["pending"]] == [
        f"Keurling {n:03}" for n in range(50, 60)
    ]
    page = third.content.decode()
    assert '<ol class="organiser-list" start="101">' in page
    # Each list's links keep the other list's page.
    assert "?goedkeuring=2&amp;wachtlijst=2" in page
    assert "?wachtlijst=3&amp;goedkeuring=1" in page


def test_searching_the_queues_by_name_narrows_them(
    organiser_client, programme, activity, make_registration
):
    _queue(activity, Status.WAITLISTED, 80)
    make_registration(contact_name="Jan de Vries", status=Status.WAITLISTED)
    make_registration(contact_name="Els de Vries", status=Status.PENDING_APPROVAL)
    make_registration(contact_name="Piet de Vries")  # confirmed: in the attendee list only

    response = organiser_client.get(
        _activity_url(programme, activity), {"naam": "vries", "status": "all"}
    )

    groups = response.context["groups"]
    assert [r.contact_name for r in groups["waitlist"]] == ["Jan de Vries"]
    assert [r.contact_name for r in groups["pending"]] == ["Els de Vries"]
    html = response.content.decode()
    assert "Wachtlijst (1)" in html
    assert 'id="queue-search" name="naam" value="vries"' in html
    # The search form keeps the attendee list's filters.
    assert '<input type="hidden" name="status" value="all">' in html


def test_the_activity_page_stays_small_with_hundreds_on_the_waitlist(
    organiser_client, programme, activity, make_activity
):
    """At 50,000 registrations the page was 9.95 MB: every queued party, each with a menu of
    every other activity."""
    for n in range(30):
        make_activity(title=f"Andere activiteit {n}")
    _queue(activity, Status.WAITLISTED, 300)

    response = organiser_client.get(_activity_url(programme, activity))

    assert response.status_code == 200
    assert len(response.content) < 250_000
    assert "Wachtlijst (300)" in response.content.decode()


def test_the_move_page_shows_where_to_and_moves(
    organiser_client, programme, activity, make_activity, make_registration
):
    later = make_activity(title="Tweede ronde", capacity=10)
    registration = make_registration(contact_name="Jan de Vries")
    url = reverse(
        "organiser:move",
        kwargs={"programme_slug": programme.slug, "registration_id": registration.pk},
    )

    page = organiser_client.get(url)

    html = page.content.decode()
    assert page.status_code == 200
    assert "<h1>Jan de Vries verplaatsen</h1>" in html
    assert '<label for="move-activity">Verplaatsen naar</label>' in html
    assert f'<option value="{later.pk}">Tweede ronde' in html
    assert f'<option value="{activity.pk}">' not in html  # not where it is already
    registration.refresh_from_db()
    assert registration.activity == activity  # asking moves nothing

    response = organiser_client.post(url, {"activity": later.pk})

    registration.refresh_from_db()
    assert (registration.activity, registration.status) == (later, Status.CONFIRMED)
    assert response.url == _activity_url(programme, activity)


def test_the_move_page_refuses_a_foreign_registration_and_a_foreign_activity(
    organiser_client, programme, activity, make_programme, make_registration
):
    other = make_programme(name="Veiligheidsmarkt")
    foreign_activity = other.activities.create(
        title="Elders",
        slug="elders",
        starts_at=activity.starts_at,
        ends_at=activity.ends_at,
        status=activity.status,
    )
    foreign = make_registration(activity=foreign_activity)
    own = make_registration()

    foreign_url = reverse(
        "organiser:move", kwargs={"programme_slug": programme.slug, "registration_id": foreign.pk}
    )
    assert organiser_client.get(foreign_url).status_code == 404
    own_url = reverse(
        "organiser:move", kwargs={"programme_slug": programme.slug, "registration_id": own.pk}
    )
    assert "Elders" not in organiser_client.get(own_url).content.decode()

    organiser_client.post(own_url, {"activity": foreign_activity.pk})

    own.refresh_from_db()
    assert own.activity == activity
