"""The organiser pages at scale: the programme overview's cost grows with its activities, not
with their registrations, and the activity page sends one page of each queue, not all of it."""

from __future__ import annotations

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
