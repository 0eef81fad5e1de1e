"""Serve the site for local use: the development server plus a task worker beside it."""

from __future__ import annotations

import os
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
            )
            self.stdout.write(f"Task worker started (pid {worker.pid}).")
            self.stdout.write(f"Jubileum: http://{host}:{port}/  (stop with Ctrl+C)")
        try:
            call_command("runserver", f"{host}:{port}")
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=10)
