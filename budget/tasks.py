"""Background work of the budget app: the alert e-mail, in a task that takes the alert's id, and
the organisers' e-mail about what waits for their approval (`budget.digest`), in a task that
takes the person's id.

Retries follow the registrations app's mail tasks (`registrations.tasks.schedule_retry`): a mail
server or ESP error enqueues the task again with a growing delay, up to MAX_ATTEMPTS.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from budget import digest, emails
from events.models import OrganiserDigest
from registrations.tasks import SENDING_ERRORS, schedule_retry


@task()
def send_budget_alert_mail(*, alert_id: int, attempt: int = 1) -> bool:
    try:
        return emails.send_alert(alert_id)
    except SENDING_ERRORS:
        schedule_retry(send_budget_alert_mail, attempt, alert_id=alert_id)
        raise


@task()
def send_organiser_digest(*, user_id: int, attempt: int = 1) -> bool:
    try:
        return digest.send(user_id)
    except SENDING_ERRORS:
        schedule_retry(send_organiser_digest, attempt, user_id=user_id)
        raise


def plan_digests(programme_id: int) -> None:
    """Something started to wait in this programme: plan its organisers' e-mails (see
    `digest.plan`), each task to run at the time planned."""
    now = timezone.now()
    for user_id, when in digest.plan(programme_id, now=now):
        _enqueue_digest(user_id, when, now)


def _enqueue_digest(user_id: int, when: dt.datetime, now: dt.datetime) -> None:
    mail_task = send_organiser_digest
    if when > now:
        if not mail_task.get_backend().supports_defer:
            # The immediate backend (local use) cannot wait: the task would find the hour not
            # over and send nothing. The plan is dropped; the next one after the hour mails.
            OrganiserDigest.objects.filter(pk=user_id, due_at=when).update(due_at=None)
            return
        mail_task = mail_task.using(run_after=when)
    mail_task.enqueue(user_id=user_id)


def plan_digests_after_commit(programme_id: int) -> None:
    """`plan_digests` once the transaction that made something wait commits; robust, so that a
    failure to plan an e-mail never turns the sign-up or the expense into an error."""
    transaction.on_commit(partial(plan_digests, programme_id), robust=True)


def on_registration_awaits_approval(sender: Any, *, programme_id: int, **kwargs: Any) -> None:
    """`registrations.signals.registration_awaits_approval`."""
    plan_digests_after_commit(programme_id)
