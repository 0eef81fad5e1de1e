"""Run the background tasks: django-tasks-db's `db_worker`, riding out a database outage.

The same options as `db_worker`; the difference is in `taskqueue.TaskWorker`.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import CommandError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker

from jubileum.lib import taskqueue


class Command(db_worker.Command):
    help = (
        "Run the background tasks (django-tasks-db's db_worker with the same options). When "
        "the database goes away the worker waits for it, asking again with a growing pause, "
        "and puts the task it was running back in the queue, instead of ending."
    )

    def handle(
        self,
        *,
        verbosity: int,
        queue_name: str,
        exclude_queues: str,
        reload: bool,
        batch: bool,
        **options: Any,
    ) -> None:
        # db_worker.Command.handle, with our worker in place of the library's.
        self.configure_logging(verbosity)
        queue_names = queue_name.split(",")
        excluded_queue_names = exclude_queues.split(",") if exclude_queues else []
        if excluded_queue_names and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = taskqueue.TaskWorker(
            queue_names=queue_names,
            excluded_queue_names=excluded_queue_names,
            batch=batch,
            interval=options["interval"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
        )
        if reload and not batch:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()  # only in the child that runs the tasks
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
