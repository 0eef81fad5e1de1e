"""The task queue (django-tasks-db): our worker, which rides out a database outage, the
housekeeping of tasks whose worker died, and how far the workers are behind (`backlog`, for
/readyz).

django-tasks-db's own `db_worker` ends on the first error from a database that went away, and
a task cut off by it stays RUNNING (or, if the connection comes back between its retries, is
marked FAILED for good). `TaskWorker` (`manage.py task_worker`) waits for the database instead,
asking again with a growing pause, logs the outage once and the recovery once, and then puts
the task it was running back in the queue, so it runs again and is never marked failed for the
outage. That a task may run again is safe for the reasons below.

A worker killed in the middle of a task (out of memory, SIGKILL at a deploy, the machine going
down) leaves that task RUNNING for good: django-tasks-db 0.13 never looks at a RUNNING task again,
and no other worker picks it up. `requeue_stale` puts such tasks back in the queue once they
have been running far longer than any task of ours takes, and the next free worker runs them.

Running a task again is safe because each claims its effect before causing it: a mail task
writes the mail-log row (`SentMail`) first, a message batch marks each recipient as sending, a
budget alert sets `mailed_at`, a refund carries Stripe's idempotency key. The price of that
order: an e-mail whose worker died after claiming it and before recording it sent is not sent
again; it may be missing, never doubled (see `registrations.emails.send`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, InterfaceError, OperationalError, connections, router
from django.db.models import Case, Count, F, Min, When
from django.db.models.functions import Greatest
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult, get_date_max

logger = logging.getLogger(__name__)

# Far beyond our longest task: a message batch of 50 e-mails, each allowed the ESP's 30-second
# timeout. A task requeued while its worker still lives would run twice at once, which the
# claims above make harmless, but only just.
STALE_AFTER = dt.timedelta(minutes=30)


def requeue_stale(
    *, now: dt.datetime | None = None, stale_after: dt.timedelta = STALE_AFTER
) -> list[DBTaskResult]:
    """Put tasks RUNNING for longer than `stale_after` back in the queue; returns them."""
    now = now or timezone.now()
    stale = DBTaskResult.objects.running().filter(started_at__lt=now - stale_after)
    requeued = []
    for result in stale.order_by("started_at"):
        # Only if nothing happened since we looked: a worker that finished meanwhile wins.
        still_stale = DBTaskResult.objects.filter(
            pk=result.pk, status=TaskResultStatus.RUNNING, started_at=result.started_at
        )
        if still_stale.update(status=TaskResultStatus.READY):
            logger.warning(
                "Task %s (%s) was started at %s by worker %s and never finished; queued again",
                result.pk,
                result.task_path,
                result.started_at.isoformat(),
                (result.worker_ids or ["?"])[-1],
            )
            requeued.append(result)
    return requeued


# The pause before the worker asks the database again, doubling from the first to the last: a
# restart of PostgreSQL is over in seconds, a failover in a minute or so.
RECONNECT_FIRST = 1.0
RECONNECT_MAX = 30.0

# What a database that went away raises (a refused connection, a terminated backend, a closed
# socket); other database errors are bugs and end the worker.
CONNECTION_ERRORS = (OperationalError, InterfaceError)


class DatabaseGone(Exception):
    """A task failed because the database went away: not the task's failure to record."""


def connection_lost(alias: str) -> bool:
    """Whether the connection `alias` is closed or no longer answers."""
    connection = connections[alias]
    return connection.connection is None or not connection.is_usable()


class TaskWorker(db_worker.Worker):
    """django-tasks-db's worker loop, but a database that goes away does not end it."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.alias = router.db_for_write(DBTaskResult)
        self.outage_since: float | None = None

    def run(self) -> None:
        while True:
            try:
                if self.outage_since is not None:
                    self._recover()
                super().run()
                return
            except (*CONNECTION_ERRORS, DatabaseGone) as error:
                if not self.running:  # asked to stop: the task stays claimed, see requeue_stale
                    raise
                self._wait_for_database(error)
            # Once is enough, and a worker coming back from an outage should not dawdle.
            self.startup_delay = False

    def run_task(self, db_task_result: DBTaskResult) -> None:
        # The library records any exception from a task as its failure (`set_failed`), and a
        # failed task is never run again. A task cut off by the database going away has not
        # failed: it leaves the loop instead and stays claimed until the database is back.
        record_failure = db_task_result.set_failed

        def set_failed(error: BaseException) -> None:
            if connection_lost(self.alias):
                raise DatabaseGone(f"task {db_task_result.pk} cut off") from error
            record_failure(error)

        db_task_result.set_failed = set_failed
        super().run_task(db_task_result)

    def _wait_for_database(self, error: BaseException) -> None:
        if self.outage_since is None:
            self.outage_since = time.monotonic()
            cause = error.__cause__ if isinstance(error, DatabaseGone) else error
            logger.error(
                "Task worker %s lost the database (%s: %s); asking again every %g s at most",
                self.worker_id,
                type(cause).__name__,
                str(cause).strip(),
                RECONNECT_MAX,
            )
        pause = RECONNECT_FIRST
        while True:
            for connection in connections.all(initialized_only=True):
                with contextlib.suppress(DatabaseError, InterfaceError):
                    connection.close()
            time.sleep(pause)
            try:
                connections[self.alias].ensure_connection()
            except CONNECTION_ERRORS:
                pause = min(pause * 2, RECONNECT_MAX)
            else:
                return

    def _recover(self) -> None:
        """Queue again what this worker had claimed when the database went away; log the
        recovery. The claim of a task that was being picked up may or may not have been
        committed, so every task still RUNNING under this worker's id counts."""
        assert self.outage_since is not None
        requeued = []
        for result in DBTaskResult.objects.running().order_by("started_at"):
            if result.worker_ids[-1:] != [self.worker_id]:
                continue
            mine = DBTaskResult.objects.filter(
                pk=result.pk, status=TaskResultStatus.RUNNING, started_at=result.started_at
            )
            if mine.update(status=TaskResultStatus.READY):
                requeued.append(f"{result.pk} ({result.task_path})")
        logger.warning(
            "Task worker %s has the database again after %.0f s; %s",
            self.worker_id,
            time.monotonic() - self.outage_since,
            f"queued again the task the outage cut off: {', '.join(requeued)}"
            if requeued
            else "no task was cut off",
        )
        self.outage_since = None


@dataclass(frozen=True)
class Backlog:
    waiting: int  # tasks a worker could run now and none has started
    oldest_wait: dt.timedelta | None  # how long the first of them has been ready to run


def backlog() -> Backlog:
    """The tasks waiting for a worker (django-tasks-db's "ready": queued, and due), one query.

    A task is ready from when it was enqueued, or from its `run_after` when that is later (a
    retry queued for later is not late before then); django-tasks-db stores "no `run_after`" as
    its far-future date, which `ready()` counts as due at once.
    """
    ready_since = Case(
        When(run_after=get_date_max(), then=F("enqueued_at")),
        default=Greatest("enqueued_at", "run_after"),
    )
    row = DBTaskResult.objects.ready().aggregate(waiting=Count("pk"), since=Min(ready_since))
    since = row["since"]
    return Backlog(row["waiting"], None if since is None else timezone.now() - since)
