"""Serve the site for local use: the development server, a task worker beside it, and the
scheduled commands (which cron runs in production) once a minute."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

logger = logging.getLogger(__name__)

# Each is safe to run as often as you like (see README, "Scheduled commands").
SCHEDULED_COMMANDS = ["tidy_registrations", "send_reminders", "requeue_stale_tasks"]


def _run_scheduled_commands(stop: threading.Event, every: float = 60) -> None:
    while not stop.wait(every):
        for name in SCHEDULED_COMMANDS:
            try:
                call_command(name, verbosity=0)
            except Exception:
                logger.exception("Scheduled command %s failed", name)
            finally:
                connections.close_all()


class Command(BaseCommand):
    help = (
        "Run the development server, a background task worker and the scheduled commands "
        "(local use only)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")

    def handle(self, *args, host: str, port: str, **options):
        if not settings.DEBUG:
            raise CommandError(
                "serve_local is for development; run gunicorn and task_worker in production."
            )
        worker = None
        stop = threading.Event()
        # runserver's autoreloader runs this command again in a child process (RUN_MAIN=true);
        # only the outer process starts the worker, so there is exactly one.
        if os.environ.get("RUN_MAIN") != "true":
            worker = subprocess.Popen(
                [sys.executable, "manage.py", "task_worker", "--interval", "1", "-v", "0"],
                cwd=settings.BASE_DIR,
                start_new_session=True,
            )
            self.stdout.write(f"Task worker started (pid {worker.pid}).")
            self.stdout.write(f"Jubileum: http://{host}:{port}/  (stop with Ctrl+C)")
            threading.Thread(target=_run_scheduled_commands, args=(stop,), daemon=True).start()
            # A plain `kill` should stop the worker too, not only Ctrl+C.
            signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
        try:
            call_command("runserver", f"{host}:{port}")
        finally:
            stop.set()
            if worker is not None:
                # The worker reloads on code changes through a child of its own: stop its group.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(timeout=10)
