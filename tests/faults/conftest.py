"""A test database that other connections and other processes can reach; a Redis of the test's own.

On PostgreSQL that is the test database itself, committed for real. pytest-django's SQLite test
database lives in memory and dies with its one connection, so for SQLite it is copied into a
file under `<tmp>/var/`, the default alias is pointed at the copy with the production options,
and a subprocess finds it through `JUBILEUM_VAR_DIR`, exactly where production settings look.
`workers` starts the real `manage.py task_worker` on it.

`redis_server` is a real `redis-server` on a free loopback port, which the test may kill, pause
(SIGSTOP: it hangs, accepting connections and answering nothing), resume or start again.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
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
            MAIL_BACKEND=MAIL_BACKEND,
            # Not one the settings know to deliver nothing: it needs a sender mail can come from.
            DEFAULT_FROM_EMAIL="Jubileum <noreply@jubileum.example.nl>",
            FAULTS_MAIL_DIR=str(self.mail),
            FAULTS_HOLD=self.hold,
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


REDIS_SERVER = shutil.which("redis-server")
# A paused server is killed after this many seconds whatever the test does, so that code without
# a socket timeout fails the test instead of hanging it.
PAUSED_AT_MOST = 30.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A throwaway redis-server (no persistence) on 127.0.0.1:`port`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self._watchdog: threading.Timer | None = None

    def start(self) -> None:
        assert REDIS_SERVER is not None
        options = {"port": str(self.port), "bind": "127.0.0.1", "save": "", "appendonly": "no"}
        arguments = [item for name, value in options.items() for item in (f"--{name}", value)]
        self.process = subprocess.Popen(
            [REDIS_SERVER, *arguments, "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client().ping()
                return
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.05)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)

    def _signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def kill(self) -> None:
        """SIGKILL: gone at once, connections reset, the data lost."""
        if self._watchdog:
            self._watchdog.cancel()
        if self.process is not None and self.process.poll() is None:
            self._signal(signal.SIGKILL)
            self.process.wait()

    def pause(self) -> None:
        """SIGSTOP: connections are still accepted (by the kernel), nothing is answered."""
        self._signal(signal.SIGSTOP)
        self._watchdog = threading.Timer(PAUSED_AT_MOST, self.kill)
        self._watchdog.start()

    def resume(self) -> None:
        assert self._watchdog is not None
        self._watchdog.cancel()
        self._signal(signal.SIGCONT)


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    """A redis-server of this test's own, running; killed at the end whatever state it is in."""
    if REDIS_SERVER is None:
        message = "redis-server is not installed (apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(folder)
    server.start()
    try:
        yield server
    finally:
        server.kill()
