"""A task worker killed in the middle of a task: the real `manage.py task_worker` in a subprocess,
SIGKILLed while it sends a confirmation, on SQLite (a file) and on PostgreSQL.

What happens, precisely:

- django-tasks-db leaves the killed task RUNNING, and no worker ever runs it again by itself
  (a second worker finds nothing to do). `manage.py requeue_stale_tasks`, scheduled every few
  minutes, queues it again once it has run far longer than any task takes; the next worker runs
  it.
- The mail task writes the e-mail into the mail log (`SentMail`) before handing it to the
  provider, and the log lets one run per state through. So the run after the kill sends
  nothing when the e-mail had been claimed: killed after the provider took it, it went out
  once; killed while the provider hung, it is missing rather than doubled (the worker logs
  that, and the person can ask for it again on their personal page). Killed before the claim,
  the run after the kill sends it, once.
"""

from __future__ import annotations

import datetime as dt
import io

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django_tasks_db.models import DBTaskResult

from jubileum.lib import taskqueue
from registrations import emails
from registrations.models import Registration, SentMail
from registrations.tasks import send_registration_mail


def requeue_after_the_stale_time(task: DBTaskResult, time_machine) -> str:
    """The scheduled `requeue_stale_tasks`, run once the task has been running too long."""
    time_machine.move_to(task.started_at + taskqueue.STALE_AFTER + dt.timedelta(minutes=1))
    out = io.StringIO()
    call_command("requeue_stale_tasks", stdout=out)
    return out.getvalue()


def confirmation_for(make_registration, activity) -> tuple[Registration, DBTaskResult]:
    registration = make_registration(activity=activity, email="anna@example.org")
    result = send_registration_mail.enqueue(registration_id=registration.pk, kind="confirmation")
    return registration, DBTaskResult.objects.get(pk=result.id)


@pytest.mark.parametrize(
    ("hold", "sent_in_the_end"),
    [
        # The provider took the e-mail; the worker died before recording it sent.
        pytest.param("after", 1, id="killed-after-the-provider-took-it"),
        # The provider hung; the worker died waiting for it.
        pytest.param("before", 0, id="killed-while-the-provider-hung"),
    ],
)
def test_a_worker_killed_mid_send_never_sends_twice(
    shared_database, workers, make_registration, activity, time_machine, hold, sent_in_the_end
):
    registration, task = confirmation_for(make_registration, activity)
    pool = workers(hold)
    (pool.mail / "hold").touch()

    first = pool.start()
    pool.wait_for(lambda: (pool.mail / "holding").exists(), "worker in the middle of sending")
    pool.kill(first)
    (pool.mail / "hold").unlink()

    task.refresh_from_db()
    assert task.status == "RUNNING"
    [claimed] = SentMail.objects.filter(registration=registration)
    assert claimed.kind == "confirmation"
    assert claimed.sent_at is None
    assert len(pool.sent()) == sent_in_the_end

    # Left alone, the task is never run again: the next worker finds nothing to do.
    pool.run_until_idle()
    task.refresh_from_db()
    assert task.status == "RUNNING"

    report = requeue_after_the_stale_time(task, time_machine)
    assert f"Queued again: task {task.pk} (registrations.tasks.send_registration_mail)." in report
    log = pool.run_until_idle()

    task.refresh_from_db()
    assert task.status == "SUCCESSFUL"
    assert task.return_value is False  # ran again, sent nothing
    assert len(task.worker_ids) == 2
    assert len(pool.sent()) == sent_in_the_end
    assert SentMail.objects.filter(registration=registration).count() == 1
    assert "No confirmation mail for registration" in log
    assert "never recorded it sent; not sent again, so it may be missing" in log


@pytest.mark.postgres
@pytest.mark.parametrize("shared_database", ["postgresql"], indirect=True)
def test_a_worker_killed_before_it_claimed_the_mail_sends_it_once_when_run_again(
    shared_database, workers, make_registration, activity, time_machine
):
    """The worker is held up at the mail log: another transaction holds a row with the same
    key, uncommitted, so the worker's INSERT waits for it. It is killed there, before its claim
    is written; the other transaction then rolls back."""
    registration, task = confirmation_for(make_registration, activity)
    key = emails.state_key(registration, "confirmation")
    settings = connection.settings_dict
    blocker = psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname=settings["NAME"],
    )
    pool = workers()
    try:
        blocker.execute(
            f'INSERT INTO "{SentMail._meta.db_table}" '
            "(registration_id, kind, key, forced, created_at) VALUES (%s, %s, %s, false, now())",
            [registration.pk, "confirmation", key],
        )
        first = pool.start()

        def waiting_on_the_mail_log() -> bool:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query LIKE %s",
                    [f'INSERT INTO "{SentMail._meta.db_table}"%'],
                )
                return cursor.fetchone()[0] == 1

        pool.wait_for(waiting_on_the_mail_log, "worker waiting to claim the e-mail")
        pool.kill(first)
    finally:
        blocker.rollback()
        blocker.close()

    task.refresh_from_db()
    assert task.status == "RUNNING"
    assert pool.sent() == []

    report = requeue_after_the_stale_time(task, time_machine)
    assert f"Queued again: task {task.pk}" in report
    pool.run_until_idle()

    task.refresh_from_db()
    assert task.status == "SUCCESSFUL"
    assert task.return_value is True
    assert pool.sent() == ["Subject: Je aanmelding is bevestigd: Kinderbrandweermiddag"]
    [logged] = SentMail.objects.filter(registration=registration)
    assert logged.sent_at is not None
