"""Background work of the budget app: the alert e-mail, in a task that takes the alert's id.

Retries follow the registrations app's mail tasks (`registrations.tasks.schedule_retry`): a mail
server or ESP error enqueues the task again with a growing delay, up to MAX_ATTEMPTS.
"""

from __future__ import annotations

from django.tasks import task

from budget import emails
from registrations.tasks import SENDING_ERRORS, schedule_retry


@task()
def send_budget_alert_mail(*, alert_id: int, attempt: int = 1) -> bool:
    try:
        return emails.send_alert(alert_id)
    except SENDING_ERRORS:
        schedule_retry(send_budget_alert_mail, attempt, alert_id=alert_id)
        raise
