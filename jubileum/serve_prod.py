"""`make serve-prod`: Jubileum in its production shape on this machine, on loopback.

    python -m jubileum.serve_prod [--host 127.0.0.1] [--port 8000]

What production runs, on one machine: DJANGO_DEBUG off, PostgreSQL (`DATABASE_URL`, default
postgres://postgres@127.0.0.1:5432/jubileum; the database is made if it is missing), Redis for
cache and rate limits (`REDIS_URL`, default redis://127.0.0.1:6379/0), the static files collected
for whitenoise, migrations applied, gunicorn with several workers (jubileum/gunicorn.conf.py,
`WEB_CONCURRENCY`), the task worker (`manage.py task_worker`) beside it, and the scheduled
commands once a minute (cron's job on a real server). Ctrl+C (or SIGTERM) stops them all. A task
worker that dies is started again (after 1 s, then 2, 4 ... at most 30 s, each restart logged),
as systemd restarts a unit with `Restart=`; gunicorn ending stops everything.

Loopback-safe defaults fill in what production requires and the environment leaves unset:
a SECRET_KEY made once into var/secret_key (read through SECRET_KEY_FILE), ALLOWED_HOSTS and
SITE_URL for the address served, mail to the console, demo payments unless Stripe keys are set,
and no redirect to HTTPS (plain HTTP on 127.0.0.1; in real production TLS ends at the load
balancer and SECURE_SSL_REDIRECT stays on). Anything set in the environment wins.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import MutableMapping
from pathlib import Path

import psycopg
import redis
from django.core.exceptions import ImproperlyConfigured
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from jubileum.lib.env import env_secret
from jubileum.lib.logs import redact_url

REPO = Path(__file__).resolve().parent.parent
GUNICORN_CONF = REPO / "jubileum" / "gunicorn.conf.py"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/jubileum"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# Each is safe to run as often as you like (README, "Scheduled commands").
SCHEDULED_COMMANDS = ["tidy_registrations", "send_reminders", "requeue_stale_tasks"]
SCHEDULE_EVERY = 60.0
STOP_TIMEOUT = 30.0
# A task worker that dies is started again after a pause, doubling from the first to the last
# (a worker that dies at once, again and again, must not spin); one that had run this long
# counts as healthy, and its next restart waits the first pause again.
RESTART_FIRST = 1.0
RESTART_MAX = 30.0
HEALTHY_AFTER = 60.0


class ServeError(Exception):
    """Something the operator must fix first; the message says what."""


def _is_set(env: MutableMapping[str, str], name: str) -> bool:
    return bool(env.get(name, "").strip() or env.get(name + "_FILE", "").strip())


def var_dir(env: MutableMapping[str, str]) -> Path:
    return Path(env.get("JUBILEUM_VAR_DIR", "").strip() or REPO / "var")


def secret_key_file(folder: Path) -> Path:
    """var/secret_key, made once (readable by this user only) and kept for later starts, so that
    sessions and signed links stay valid across restarts."""
    path = folder / "secret_key"
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(50) + "\n")
        print(f"Made a secret key in {path} (kept for the next start).")
    return path


def production_env(env: MutableMapping[str, str], host: str, port: int) -> None:
    """Fill in, in place, what production needs and `env` leaves unset (see the module doc)."""
    env["DJANGO_DEBUG"] = "0"
    if not _is_set(env, "SECRET_KEY"):
        env["SECRET_KEY_FILE"] = str(secret_key_file(var_dir(env)))
    if not _is_set(env, "DATABASE_URL"):
        env["DATABASE_URL"] = DEFAULT_DATABASE_URL
    # An empty REDIS_URL (set, but to nothing) asks for the local-memory cache: kept as it is.
    if "REDIS_URL" not in env and "REDIS_URL_FILE" not in env:
        env["REDIS_URL"] = DEFAULT_REDIS_URL
    env.setdefault("ALLOWED_HOSTS", ",".join(dict.fromkeys([host, "127.0.0.1", "localhost"])))
    env.setdefault("SITE_URL", f"http://{host}:{port}")
    env.setdefault("MAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
    if not _is_set(env, "STRIPE_SECRET_KEY"):
        env.setdefault("PAYMENTS_DEMO_MODE", "1")
    env.setdefault("SECURE_SSL_REDIRECT", "0")


def ensure_database(url: str) -> str:
    """Make the PostgreSQL database `url` names if it is missing; returns what was done."""
    if not url.startswith(("postgres://", "postgresql://")):
        return f"database: {url.split(':', 1)[0]} (not PostgreSQL; nothing to make)"
    params = conninfo_to_dict(url)
    name = params.get("dbname") or params.get("user") or "postgres"
    where = f"{params.get('host', 'localhost')}:{params.get('port', 5432)}"
    server = make_conninfo(url, dbname="postgres", connect_timeout=5)
    try:
        with psycopg.connect(server, autocommit=True) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if exists:
                return f"database: PostgreSQL {name} on {where}"
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return f"database: PostgreSQL {name} on {where} (made just now)"
    except psycopg.OperationalError as error:
        reason = str(error).strip().splitlines()[-1] if str(error).strip() else "no answer"
        raise ServeError(
            f"PostgreSQL does not answer at {where} ({reason}).\n"
            "Start it (Debian: `pg_ctlcluster <version> main start`, or install it with "
            "`apt-get install postgresql`) or point DATABASE_URL at a running server."
        ) from None


def check_redis(url: str) -> str:
    if not url:
        return "cache: local memory per worker process (REDIS_URL is empty)"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as error:
        raise ServeError(
            f"Redis does not answer at {redact_url(url)} ({error}).\n"
            "Start it (Debian: `redis-server --daemonize yes`, or install it with "
            "`apt-get install redis-server`), point REDIS_URL at a running server, or set "
            "REDIS_URL= (empty) for a cache in each process."
        ) from None
    return f"cache and rate limits: Redis {redact_url(url)}"


def manage(*arguments: str) -> None:
    done = subprocess.run([sys.executable, "manage.py", *arguments], cwd=REPO, check=False)
    if done.returncode != 0:
        raise ServeError(f"manage.py {arguments[0]} failed (exit {done.returncode}).")


def _run_scheduled_commands(stop: threading.Event) -> None:
    while not stop.wait(SCHEDULE_EVERY):
        for name in SCHEDULED_COMMANDS:
            done = subprocess.run(
                [sys.executable, "manage.py", name, "-v", "0"], cwd=REPO, check=False
            )
            if done.returncode != 0:
                print(f"Scheduled command {name} failed (exit {done.returncode}).", flush=True)


def _stop(processes: dict[str, subprocess.Popen]) -> None:
    # Each child leads a process group of its own (start_new_session): a SIGTERM to the group
    # reaches gunicorn's workers and anything the task worker started.
    for process in processes.values():
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for name, process in processes.items():
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop within {STOP_TIMEOUT:.0f} s; killing it.", flush=True)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def supervise(host: str, port: int) -> int:
    """Start gunicorn and the task worker; start the worker again when it dies (after a pause
    that doubles each time), and stop both when gunicorn ends or on a signal."""
    stop = threading.Event()
    stopped_by: list[int] = []

    def on_signal(signum: int, frame: object) -> None:
        stopped_by.append(signum)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    commands = {
        "gunicorn": [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(GUNICORN_CONF),
            "--bind",
            f"{host}:{port}",
        ],
        "task worker": [sys.executable, "manage.py", "task_worker", "--no-reload"],
    }
    processes: dict[str, subprocess.Popen] = {}

    def start(name: str) -> None:
        processes[name] = subprocess.Popen(commands[name], cwd=REPO, start_new_session=True)

    try:
        start("gunicorn")
        start("task worker")
        worker_started = time.monotonic()
        pause = RESTART_FIRST
        restart_at: float | None = None
        threading.Thread(target=_run_scheduled_commands, args=(stop,), daemon=True).start()
        print(f"Jubileum: http://{host}:{port}/  (stop with Ctrl+C)", flush=True)
        while not stop.wait(0.5):
            code = processes["gunicorn"].poll()
            if code is not None:
                # Without the web server there is no site: stop everything.
                print(f"gunicorn ended (exit {code}); stopping the rest.", flush=True)
                return code or 1
            code = processes["task worker"].poll()
            if restart_at is None and code is not None:
                if time.monotonic() - worker_started >= HEALTHY_AFTER:
                    pause = RESTART_FIRST
                print(
                    f"task worker ended (exit {code}); starting it again in {pause:g} s.",
                    flush=True,
                )
                restart_at = time.monotonic() + pause
                pause = min(pause * 2, RESTART_MAX)
            elif restart_at is not None and time.monotonic() >= restart_at:
                start("task worker")
                worker_started = time.monotonic()
                restart_at = None
        return 0
    finally:
        stop.set()
        if processes:
            print("Stopping gunicorn and the task worker ...", flush=True)
            _stop(processes)
        if stopped_by:
            print("Stopped.", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)

    production_env(os.environ, args.host, args.port)
    try:
        # Secrets are read as settings read them (VAR or VAR_FILE).
        print(ensure_database(env_secret("DATABASE_URL")), flush=True)
        print(check_redis(env_secret("REDIS_URL")), flush=True)
        manage("collectstatic", "--no-input", "-v", "0")
        manage("migrate", "--no-input", "-v", "1")
    except (ServeError, ImproperlyConfigured) as error:
        print(f"\nserve-prod: {error}", file=sys.stderr)
        return 1
    return supervise(args.host, args.port)


if __name__ == "__main__":
    sys.exit(main())
