"""Queue again the background tasks whose worker died in the middle of them."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from jubileum.lib import taskqueue

DEFAULT_MINUTES = int(taskqueue.STALE_AFTER / dt.timedelta(minutes=1))


class Command(BaseCommand):
    help = (
        "Queue again every background task that has been running for longer than --minutes "
        f"(default {DEFAULT_MINUTES}): its worker died (killed, out of "
        "memory, the machine went down) and django-tasks-db would leave it running for good. "
        "Every task is safe to run again. Schedule it every few minutes."
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
        requeued = taskqueue.requeue_stale(stale_after=dt.timedelta(minutes=minutes))
        for result in requeued:
            self.stdout.write(f"Queued again: task {result.pk} ({result.task_path}).")
        self.stdout.write(f"Queued {len(requeued)} abandoned tasks again.")
