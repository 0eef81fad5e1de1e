"""/readyz: 200 while the database answers and the task queue keeps up, 503 once a task has waited
longer than READY_MAX_TASK_WAIT for a worker. (Redis away: tests/faults/test_redis_gone.py.)"""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.db import OperationalError, connections
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from registrations.tasks import send_registration_mail

pytestmark = pytest.mark.django_db


def queued(*, enqueued_ago: dt.timedelta, run_after: dt.datetime | None = None) -> DBTaskResult:
    result = send_registration_mail.enqueue(registration_id=1, kind="confirmation")
    fields: dict = {"enqueued_at": timezone.now() - enqueued_ago}
    if run_after is not None:
        fields["run_after"] = run_after
    DBTaskResult.objects.filter(pk=result.id).update(**fields)
    return DBTaskResult.objects.get(pk=result.id)


def test_ready_with_the_database_and_no_task_waiting(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "tasks": {"status": "ok", "waiting": 0, "oldest_wait_seconds": None, "limit_seconds": 300},
        "redis": "not used",
    }


def test_tasks_waiting_less_than_the_limit_are_ready(client, settings):
    settings.READY_MAX_TASK_WAIT = dt.timedelta(minutes=5)
    queued(enqueued_ago=dt.timedelta(minutes=4))
    # Enqueued long ago as a retry for later: it waits from its run_after, a minute ago.
    queued(enqueued_ago=dt.timedelta(hours=2), run_after=timezone.now() - dt.timedelta(minutes=1))
    # Not due yet: not waiting at all.
    queued(enqueued_ago=dt.timedelta(hours=3), run_after=timezone.now() + dt.timedelta(hours=1))

    response = client.get("/readyz")

    assert response.status_code == 200
    tasks = response.json()["tasks"]
    assert tasks["status"] == "ok"
    assert tasks["waiting"] == 2
    assert 239 <= tasks["oldest_wait_seconds"] <= 241


def test_a_task_waiting_past_the_limit_makes_the_server_not_ready(client, settings, caplog):
    settings.READY_MAX_TASK_WAIT = dt.timedelta(minutes=5)
    queued(enqueued_ago=dt.timedelta(minutes=6))
    # Running or finished tasks are not waiting, however old.
    done = queued(enqueued_ago=dt.timedelta(days=1))
    DBTaskResult.objects.filter(pk=done.pk).update(status="SUCCESSFUL")

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == "ok"
    assert body["tasks"]["status"] == "behind"
    assert body["tasks"]["waiting"] == 1
    assert 359 <= body["tasks"]["oldest_wait_seconds"] <= 361
    assert client.get("/healthz").status_code == 200
    # One info line per poll, no error: the monitor reads the body.
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_not_ready_without_the_database(client, caplog):
    broken = OperationalError("connection refused")
    with mock.patch.object(connections["default"], "cursor", side_effect=broken):
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "error",
        "tasks": {"status": "unknown"},
        "redis": "not used",
    }
