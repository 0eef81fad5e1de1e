"""PostgreSQL going away under the real task worker (`manage.py task_worker` in a subprocess),
and coming back.

The outage is made as an operator would see one: the test database stops taking connections
(`ALTER DATABASE ... ALLOW_CONNECTIONS false`) and every backend on it is terminated, from an
admin connection to the `postgres` database; some seconds later it takes connections again.

What happens, precisely: the worker does not end. It logs the outage once, asks again with a
growing pause (1 s, 2 s, 4 s ... at most 30 s), logs the recovery once, queues again the task
the outage cut off, and goes on. That task runs again (its e-mail, already claimed, is not sent
twice); the task that waited in the queue runs once; no task is marked failed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult
from psycopg import sql

from registrations.models import SentMail
from registrations.tasks import send_registration_mail

pytestmark = pytest.mark.postgres

OUTAGE = 4.0  # seconds without a database


class Outage:
    """Turns the test database away and lets it back, from the `postgres` database."""

    def __init__(self) -> None:
        settings = connection.settings_dict
        self.name = settings["NAME"]
        self.admin = psycopg.connect(
            host=settings["HOST"] or "127.0.0.1",
            port=settings["PORT"] or 5432,
            user=settings["USER"],
            password=settings["PASSWORD"] or None,
            dbname="postgres",
            autocommit=True,
        )

    def begin(self) -> int:
        """Refuse new connections and end the open ones (the test's own too); returns how many
        backends were ended."""
        database = sql.Identifier(self.name)
        self.admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(database))
        ended = self.admin.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) "
            "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [self.name],
        ).fetchone()
        connection.close()  # the test's connection was one of them
        return ended[0] if ended else 0

    def end(self) -> None:
        database = sql.Identifier(self.name)
        self.admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(database))


@pytest.fixture
def outage(shared_database) -> Iterator[Outage]:
    made = Outage()
    try:
        yield made
    finally:
        made.end()  # whatever happened, the test database takes connections again
        made.admin.close()


def lines_with(log: str, text: str) -> list[str]:
    return [line for line in log.splitlines() if text in line]


@pytest.mark.parametrize("shared_database", ["postgresql"], indirect=True)
def test_the_worker_rides_out_a_database_outage_and_loses_no_task(
    shared_database, workers, outage, make_registration, activity
):
    anna = make_registration(activity=activity, email="anna@example.org")
    bert = make_registration(activity=activity, email="bert@example.org")
    pool = workers("before")
    (pool.mail / "hold").touch()
    cut_off = send_registration_mail.enqueue(registration_id=anna.pk, kind="confirmation")
    worker = pool.start()
    # The worker is in the middle of Anna's e-mail (claimed, the provider slow to answer) ...
    pool.wait_for(lambda: (pool.mail / "holding").exists(), "worker in the middle of sending")
    # ... and Bert's waits in the queue behind it.
    waiting = send_registration_mail.enqueue(registration_id=bert.pk, kind="confirmation")

    assert outage.begin() >= 2  # the worker's connection and the test's
    # The provider takes Anna's e-mail; recording it sent meets the dead database.
    (pool.mail / "hold").unlink()
    time.sleep(OUTAGE)
    assert worker.poll() is None, pool.logs[0].read_text()
    during = pool.logs[0].read_text()
    outage.end()

    def both_done() -> bool:
        finished = DBTaskResult.objects.filter(pk__in=[cut_off.id, waiting.id]).finished()
        return finished.count() == 2

    pool.wait_for(both_done, "both tasks finished after the outage")
    log = pool.logs[0].read_text()

    first = DBTaskResult.objects.get(pk=cut_off.id)
    second = DBTaskResult.objects.get(pk=waiting.id)
    assert (first.status, second.status) == ("SUCCESSFUL", "SUCCESSFUL")
    [worker_id] = set(first.worker_ids)
    # Anna's task ran again after the outage, by the same worker, and sent nothing more ...
    assert first.worker_ids == [worker_id, worker_id]
    assert first.return_value is False
    # ... Bert's ran once.
    assert second.worker_ids == [worker_id]
    assert second.return_value is True
    assert pool.sent() == [
        "Subject: Je aanmelding is bevestigd: Kinderbrandweermiddag",
        "Subject: Je aanmelding is bevestigd: Kinderbrandweermiddag",
    ]
    assert sorted(SentMail.objects.values_list("registration__email", flat=True)) == [
        "anna@example.org",
        "bert@example.org",
    ]
    assert worker.poll() is None  # still the same process

    # The outage and the recovery, each logged once; nothing about them while it lasted.
    [lost] = lines_with(log, "lost the database")
    assert lost in during
    assert "OperationalError" in lost
    [back] = lines_with(log, "has the database again")
    assert f"queued again the task the outage cut off: {cut_off.id} " in back
    assert "Traceback" not in log


@pytest.mark.parametrize("shared_database", ["postgresql"], indirect=True)
def test_an_idle_worker_waits_for_the_database_and_runs_what_comes_after(
    shared_database, workers, outage, make_registration, activity
):
    anna = make_registration(activity=activity, email="anna@example.org")
    pool = workers()
    worker = pool.start()
    pool.wait_for(
        lambda: "Starting worker" in pool.logs[0].read_text(), "worker started and polling"
    )

    outage.begin()
    time.sleep(OUTAGE)
    assert worker.poll() is None, pool.logs[0].read_text()
    outage.end()

    task = send_registration_mail.enqueue(registration_id=anna.pk, kind="confirmation")
    pool.wait_for(
        lambda: DBTaskResult.objects.filter(pk=task.id).finished().exists(), "the task run"
    )

    assert DBTaskResult.objects.get(pk=task.id).status == "SUCCESSFUL"
    assert len(pool.sent()) == 1
    log = pool.logs[0].read_text()
    assert len(lines_with(log, "lost the database")) == 1
    [back] = lines_with(log, "has the database again")
    assert back.endswith("no task was cut off")
