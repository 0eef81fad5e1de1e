"""A test database that other connections and other processes can reach.

On PostgreSQL that is the test database itself, committed for real. pytest-django's SQLite test
database lives in memory and dies with its one connection, so for SQLite it is copied into a
file under `<tmp>/var/`, the default alias is pointed at the copy with the production options,
and a subprocess finds it through `JUBILEUM_VAR_DIR`, exactly where production settings look.
`workers` starts the real `manage.py task_worker` on it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connection

from tests.helpers import sqlite_test_database_in_file


@dataclass
class SharedDatabase:
    vendor: str
    # The environment a `manage.py` subprocess needs to use this database.
    env: dict[str, str] = field(default_factory=dict)
    path: Path | None = None  # the SQLite file

    def subprocess_env(self, **extra: str) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
        env.update(DJANGO_DEBUG="1", PYTHONUNBUFFERED="1", **self.env, **extra)
        return env


def _postgres_url(settings_dict: dict) -> str:
    user = settings_dict["USER"] or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict["PASSWORD"] else ""
    host = settings_dict["HOST"] or "127.0.0.1"
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    return f"postgres://{user}{password}@{host}{port}/{settings_dict['NAME']}"


@pytest.fixture(
    params=[
        pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.engine_dependent]),
        pytest.param("sqlite", marks=[pytest.mark.sqlite, pytest.mark.engine_dependent]),
    ]
)
def shared_database(request, transactional_db, tmp_path) -> Iterator[SharedDatabase]:
    vendor = request.param
    if vendor == "postgresql":
        # The `postgres` and `sqlite` markers skip the run whose database is not the test's.
        yield SharedDatabase(vendor, {"DATABASE_URL": _postgres_url(connection.settings_dict)})
        return
    var = tmp_path / "var"
    var.mkdir()
    with sqlite_test_database_in_file(var / "jubileum.sqlite3") as path:
        yield SharedDatabase(vendor, {"JUBILEUM_VAR_DIR": str(var)}, path)


REPO = Path(__file__).resolve().parents[2]
MAIL_BACKEND = "tests.faults.mail_backends.HoldingFileBackend"
WAIT = 120.0  # seconds; a loaded 2-core CI machine starts Django slowly


class Workers:
    """Start `manage.py task_worker` subprocesses on the shared database; each logs to a file."""

    def __init__(self, database: SharedDatabase, folder: Path, hold: str = "") -> None:
        self.database = database
        self.folder = folder
        self.mail = folder / "mail"
        self.mail.mkdir()
        self.hold = hold
        self.logs: list[Path] = []
        self.running: list[subprocess.Popen] = []

    def _command(self, *args: str) -> tuple[list[str], dict[str, str], Path]:
        command = [sys.executable, "manage.py", "task_worker", "--no-reload", "--no-startup-delay"]
        env = self.database.subprocess_env(
            MAIL_BACKEND=MAIL_BACKEND, FAULTS_MAIL_DIR=str(self.mail), FAULTS_HOLD=self.hold
        )
        log = self.folder / f"worker-{len(self.logs) + 1}.log"
        self.logs.append(log)
        return [*command, *args], env, log

    def start(self) -> subprocess.Popen:
        command, env, log = self._command("--interval", "0.1")
        with log.open("wb") as out:
            process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=out)
        self.running.append(process)
        return process

    def run_until_idle(self) -> str:
        """A worker that runs whatever is ready, then exits; returns its log."""
        command, env, log = self._command("--batch", "--interval", "0")
        with log.open("wb") as out:
            done = subprocess.run(command, cwd=REPO, env=env, stdout=out, stderr=out, timeout=WAIT)
        assert done.returncode == 0, log.read_text()
        return log.read_text()

    def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT
        while not condition():
            ended = [p for p in self.running if p.poll() is not None]
            if ended or time.monotonic() > deadline:
                logs = "\n".join(log.read_text() for log in self.logs)
                pytest.fail(f"no {what} (worker ended: {bool(ended)}); logs:\n{logs}")
            time.sleep(0.05)

    def kill(self, process: subprocess.Popen) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=WAIT)
        assert process.returncode == -signal.SIGKILL

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=WAIT)

    def sent(self) -> list[str]:
        """The e-mails the "provider" accepted: their subjects."""
        return sorted(
            next(line for line in path.read_text().splitlines() if line.startswith("Subject:"))
            for path in self.mail.glob("*.eml")
        )


@pytest.fixture
def workers(shared_database, tmp_path):
    made: list[Workers] = []

    def make(hold: str = "") -> Workers:
        made.append(Workers(shared_database, tmp_path, hold))
        return made[-1]

    yield make
    for each in made:
        each.stop_all()
