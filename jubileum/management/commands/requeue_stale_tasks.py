"""Queue again the background tasks whose worker died in the middle of them, and give up the
message recipients such a worker had claimed (possibly sent: never sent again by itself)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from jubileum.lib import taskqueue
from registrations.backoffice import messaging

DEFAULT_MINUTES = int(taskqueue.STALE_AFTER / dt.timedelta(minutes=1))


class Command(BaseCommand):
    help = (
        "Queue again every background task that has been running for longer than --minutes "
        f"(default {DEFAULT_MINUTES}): its worker died (killed, out of "
        "memory, the machine went down) and django-tasks-db would leave it running for good. "
        "Every task is safe to run again. Message recipients such a worker had claimed become "
        "'possibly sent' and are not sent again. Schedule it every few minutes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--minutes",
            type=int,
            default=DEFAULT_MINUTES,
            help="How long a task may run before it counts as abandoned.",
        )

    def handle(self, *args, minutes: int, **options):
        if minutes < 1:
            raise CommandError("--minutes must be 1 or more: a running task needs its time.")
        stale_after = dt.timedelta(minutes=minutes)
        requeued = taskqueue.requeue_stale(stale_after=stale_after)
        for result in requeued:
            self.stdout.write(f"Queued again: task {result.pk} ({result.task_path}).")
        self.stdout.write(f"Queued {len(requeued)} abandoned tasks again.")
        given_up = messaging.give_up_stale_claims(stale_after=stale_after)
        if given_up:
            self.stdout.write(
                f"Marked {given_up} message recipients possibly sent (claimed by a worker "
                "that never finished; not sent again)."
            )
