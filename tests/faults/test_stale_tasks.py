"""`manage.py requeue_stale_tasks`: tasks whose worker died are queued again, and only those.

The real kill is in `test_worker_killed.py`; here the state a killed worker leaves behind (a
task RUNNING since long ago) is made directly.
"""

from __future__ import annotations

import datetime as dt
import io
import logging

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from jubileum.lib import taskqueue
from registrations.models import Message, MessageRecipient, SentMail
from registrations.tasks import send_registration_mail

# Engine-dependent, so CI runs it on SQLite too: django-tasks-db's worker claims a task
# differently per engine (row locks on PostgreSQL).
pytestmark = pytest.mark.engine_dependent

STALE = taskqueue.STALE_AFTER
Delivery = MessageRecipient.Status


@pytest.fixture
def run_worker(monkeypatch):
    """The task worker until nothing is ready (see tests/registrations/test_emails.py: the
    library's loop closing "old" connections would close the test's own on PostgreSQL)."""
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )
    return lambda: call_command("task_worker", "--batch", "--interval", "0", "-v", "0")


def mail_task(registration_id: int, *, status: str = "READY", started_ago=None) -> DBTaskResult:
    """A confirmation task in the given state; RUNNING ones started `started_ago` ago by a
    worker that is no more."""
    result = send_registration_mail.enqueue(registration_id=registration_id, kind="confirmation")
    fields = {"status": status}
    if started_ago is not None:
        fields.update(started_at=timezone.now() - started_ago, worker_ids=["dead-worker"])
    DBTaskResult.objects.filter(pk=result.id).update(**fields)
    return DBTaskResult.objects.get(pk=result.id)


def requeue(*args: str) -> str:
    out = io.StringIO()
    call_command("requeue_stale_tasks", *args, stdout=out)
    return out.getvalue()


def test_only_tasks_running_too_long_are_queued_again(db, make_registration, caplog):
    registration = make_registration()
    abandoned = mail_task(
        registration.pk, status="RUNNING", started_ago=STALE + dt.timedelta(minutes=1)
    )
    busy = mail_task(registration.pk, status="RUNNING", started_ago=STALE - dt.timedelta(minutes=1))
    waiting = mail_task(registration.pk)
    done = mail_task(registration.pk, status="SUCCESSFUL", started_ago=dt.timedelta(days=2))
    failed = mail_task(registration.pk, status="FAILED", started_ago=dt.timedelta(days=2))

    report = requeue()

    assert report.splitlines() == [
        f"Queued again: task {abandoned.pk} (registrations.tasks.send_registration_mail).",
        "Queued 1 abandoned tasks again.",
    ]
    statuses = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert statuses == {
        abandoned.pk: "READY",
        busy.pk: "RUNNING",
        waiting.pk: "READY",
        done.pk: "SUCCESSFUL",
        failed.pk: "FAILED",
    }
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.getMessage().startswith(f"Task {abandoned.pk} (registrations.tasks.")
    assert "by worker dead-worker and never finished; queued again" in warning.getMessage()
    # Run again, nothing is left to do.
    assert requeue().splitlines() == ["Queued 0 abandoned tasks again."]


def test_message_recipients_claimed_by_a_dead_worker_become_possibly_sent(
    db, activity, make_registration
):
    """The worker sending a message batch died after claiming rows: the claims older than the
    stale-task window are given up (possibly sent, never sent again); a fresh claim stays."""
    message = Message.objects.create(activity=activity, audience="confirmed", subject="S", body="B")
    abandoned, busy, waiting = (
        MessageRecipient.objects.create(message=message, registration=make_registration())
        for _ in range(3)
    )
    now = timezone.now()
    claims = {abandoned: now - STALE - dt.timedelta(minutes=1), busy: now - dt.timedelta(minutes=1)}
    for recipient, claimed_at in claims.items():
        MessageRecipient.objects.filter(pk=recipient.pk).update(
            status=Delivery.SENDING, updated_at=claimed_at
        )

    report = requeue()

    assert report.splitlines() == [
        "Queued 0 abandoned tasks again.",
        "Marked 1 message recipients possibly sent (claimed by a worker that never finished; "
        "not sent again).",
    ]
    statuses = dict(MessageRecipient.objects.values_list("pk", "status"))
    assert statuses == {
        abandoned.pk: Delivery.POSSIBLY_SENT,
        busy.pk: Delivery.SENDING,
        waiting.pk: Delivery.QUEUED,
    }
    assert requeue().splitlines() == ["Queued 0 abandoned tasks again."]


def test_minutes_sets_how_long_a_task_may_run(db, make_registration):
    registration = make_registration()
    task = mail_task(registration.pk, status="RUNNING", started_ago=dt.timedelta(minutes=6))

    assert "Queued 0" in requeue("--minutes", "10")
    assert "Queued 1" in requeue("--minutes", "5")
    task.refresh_from_db()
    assert task.status == "READY"


def test_minutes_must_leave_a_running_task_its_time(db):
    with pytest.raises(CommandError, match="--minutes must be 1 or more"):
        requeue("--minutes", "0")


def test_a_mail_task_abandoned_before_its_claim_sends_once_when_run_again(
    db, make_registration, run_worker, settings
):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    registration = make_registration()
    task = mail_task(registration.pk, status="RUNNING", started_ago=STALE + dt.timedelta(minutes=1))

    run_worker()
    assert mail.outbox == []  # RUNNING: no worker touches it

    requeue()
    run_worker()
    run_worker()

    task.refresh_from_db()
    assert task.status == "SUCCESSFUL"
    assert task.worker_ids[0] == "dead-worker" and len(task.worker_ids) == 2
    assert [m.to for m in mail.outbox] == [[registration.email]]
    assert SentMail.objects.get(registration=registration).sent_at is not None
