"""The incremental scan manifest reads only what changed (issue 20): the registrations changed
since the moment asked, and those with a check-in the server learnt of since then, found through
their indexes rather than by testing every registration of the activity."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from demo.synthetic import synthetic_registrations
from registrations.checkin import services as checkin
from registrations.models import CheckIn, Registration


@pytest.fixture
def big_activity(make_activity):
    activity = make_activity(title="Open dag", slug="open-dag", capacity=None)
    registrations = synthetic_registrations(activity, 5000)
    at = timezone.now() - dt.timedelta(days=2)
    CheckIn.objects.bulk_create(
        CheckIn(registration=registration, persons=1, at=at) for registration in registrations[::2]
    )
    # All of it synced long ago.
    Registration.objects.filter(activity=activity).update(updated_at=at)
    CheckIn.objects.update(created_at=at)
    return activity


def _since() -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=1)


def test_since_lists_the_changed_and_the_newly_checked_in_only(big_activity):
    changed, checked_in, *_ = Registration.objects.filter(activity=big_activity).order_by("pk")
    Registration.objects.filter(pk=changed.pk).update(updated_at=timezone.now())
    CheckIn.objects.create(registration=checked_in, persons=1, at=timezone.now())
    earlier = Registration.objects.filter(activity=big_activity).order_by("pk")[5]
    CheckIn.objects.filter(
        pk=CheckIn.objects.create(registration=earlier, persons=1, at=timezone.now()).pk
    ).update(created_at=timezone.now() - dt.timedelta(days=1))

    manifest = checkin.manifest(big_activity, _since())

    assert manifest["full"] is False
    assert [ticket["hash"] for ticket in manifest["tickets"]] == [
        checkin.code_hash(changed.ticket_code),
        checkin.code_hash(checked_in.ticket_code),
    ]
    assert manifest["tickets"][1]["checked_in"] == 1


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Registration._meta.db_table}")
        cursor.execute(f"ANALYZE {CheckIn._meta.db_table}")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(line for (line,) in cursor.fetchall())


@pytest.mark.postgres
def test_since_reads_the_changes_through_their_indexes(big_activity):
    for registration in Registration.objects.filter(activity=big_activity).order_by("pk")[:3]:
        Registration.objects.filter(pk=registration.pk).update(updated_at=timezone.now())
    with CaptureQueriesContext(connection) as queries:
        manifest = checkin.manifest(big_activity, _since())
    assert len(manifest["tickets"]) == 3
    [read] = [query["sql"] for query in queries if "updated_at" in query["sql"]]

    plan = _plan(read)

    assert "registration_changed" in plan, plan
    assert "checkin_created" in plan, plan
    # Not every registration of the activity tested against the filter.
    assert "Seq Scan" not in plan, plan
