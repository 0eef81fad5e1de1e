"""Serve the site for local use: the development server plus a task worker beside it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run the development server and a background task worker (local use only)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")

    def handle(self, *args, host: str, port: str, **options):
        if not settings.DEBUG:
            raise CommandError(
                "serve_local is for development; run gunicorn and db_worker in production."
            )
        worker = None
        # runserver's autoreloader runs this command again in a child process (RUN_MAIN=true);
        # only the outer process starts the worker, so there is exactly one.
        if os.environ.get("RUN_MAIN") != "true":
            worker = subprocess.Popen(
                [sys.executable, "manage.py", "db_worker", "--interval", "1", "-v", "0"],
                cwd=settings.BASE_DIR,
                start_new_session=True,
            )
            self.stdout.write(f"Task worker started (pid {worker.pid}).")
            self.stdout.write(f"Jubileum: http://{host}:{port}/  (stop with Ctrl+C)")
            # A plain `kill` should stop the worker too, not only Ctrl+C.
            signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
        try:
            call_command("runserver", f"{host}:{port}")
        finally:
            if worker is not None:
                # The worker reloads on code changes through a child of its own: stop its group.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(timeout=10)
