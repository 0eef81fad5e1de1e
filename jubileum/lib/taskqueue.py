"""Housekeeping of the task queue (django-tasks-db): tasks whose worker died, and how far the
workers are behind (`backlog`, for /readyz).

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

import datetime as dt
import logging
from dataclasses import dataclass

from django.db.models import Case, Count, F, Min, When
from django.db.models.functions import Greatest
from django.tasks import TaskResultStatus
from django.utils import timezone
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
