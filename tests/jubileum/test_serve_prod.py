"""`make serve-prod` (jubileum/serve_prod.py) and the gunicorn settings it serves with."""

from __future__ import annotations

import os
import re
import runpy
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from jubileum import serve_prod

REPO = Path(__file__).resolve().parents[2]
GUNICORN_CONF = REPO / "jubileum" / "gunicorn.conf.py"


# --- The environment it fills in --------------------------------------------------------------


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    return {"JUBILEUM_VAR_DIR": str(tmp_path), "DJANGO_DEBUG": "1"}


def test_fills_in_loopback_defaults_with_debug_off(env):
    serve_prod.production_env(env, "127.0.0.1", 8123)

    assert env["DJANGO_DEBUG"] == "0"
    assert env["DATABASE_URL"] == "postgres://postgres@127.0.0.1:5432/jubileum"
    assert env["REDIS_URL"] == "redis://127.0.0.1:6379/0"
    assert env["ALLOWED_HOSTS"] == "127.0.0.1,localhost"
    assert env["SITE_URL"] == "http://127.0.0.1:8123"
    assert env["MAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert env["PAYMENTS_DEMO_MODE"] == "1"
    assert env["SECURE_SSL_REDIRECT"] == "0"


def test_what_the_environment_sets_wins(env):
    env.update(
        DATABASE_URL_FILE="/run/secrets/database_url",
        REDIS_URL="",
        ALLOWED_HOSTS="jubileum.test",
        STRIPE_SECRET_KEY="sk_test_123",
        SECRET_KEY="gegeven",
    )

    serve_prod.production_env(env, "0.0.0.0", 80)

    assert "DATABASE_URL" not in env
    assert env["REDIS_URL"] == ""
    assert env["ALLOWED_HOSTS"] == "jubileum.test"
    assert "PAYMENTS_DEMO_MODE" not in env
    assert "SECRET_KEY_FILE" not in env


def test_makes_a_secret_key_once_readable_by_its_owner_only(env, tmp_path):
    serve_prod.production_env(env, "127.0.0.1", 8000)
    key_file = Path(env["SECRET_KEY_FILE"])
    first = key_file.read_text()

    again = {"JUBILEUM_VAR_DIR": str(tmp_path)}
    serve_prod.production_env(again, "127.0.0.1", 8000)

    assert key_file == tmp_path / "secret_key"
    assert len(first.strip()) >= 50
    assert key_file.read_text() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_serve_prod_settings_pass_the_deploy_check_but_for_https_on_loopback(env, tmp_path):
    """Everything the defaults set is production-grade; only plain HTTP on 127.0.0.1 is not."""
    serve_prod.production_env(env, "127.0.0.1", 8000)
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **env}

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    found = set(re.findall(r"\(security\.W\d+\)", result.stdout + result.stderr))
    assert found == {"(security.W008)"}, result.stdout + result.stderr


# --- Clear messages when a service is missing ------------------------------------------------


def test_missing_postgresql_is_named_with_what_to_do():
    with pytest.raises(serve_prod.ServeError) as error:
        serve_prod.ensure_database("postgres://postgres@127.0.0.1:1/jubileum")

    assert "PostgreSQL does not answer at 127.0.0.1:1" in str(error.value)
    assert "pg_ctlcluster" in str(error.value)


def test_missing_redis_is_named_without_its_password():
    with pytest.raises(serve_prod.ServeError) as error:
        serve_prod.check_redis("redis://:geheim@127.0.0.1:1/0")

    assert "Redis does not answer at redis://:***@127.0.0.1:1/0" in str(error.value)
    assert "geheim" not in str(error.value)


def test_empty_redis_url_means_a_cache_per_process():
    assert "local memory" in serve_prod.check_redis("")


# --- gunicorn settings ------------------------------------------------------------------------


def gunicorn_settings(monkeypatch, **environ: str) -> dict:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONF))


def test_workers_come_from_web_concurrency(monkeypatch):
    assert gunicorn_settings(monkeypatch, WEB_CONCURRENCY="5")["workers"] == 5
    assert gunicorn_settings(monkeypatch, WEB_CONCURRENCY="")["workers"] == 3


def test_unreadable_web_concurrency_stops_gunicorn(monkeypatch):
    with pytest.raises(SystemExit, match="WEB_CONCURRENCY must be a whole number"):
        gunicorn_settings(monkeypatch, WEB_CONCURRENCY="veel")


def test_access_log_line_masks_the_personal_link_and_drops_the_query(monkeypatch):
    settings = gunicorn_settings(monkeypatch)
    logger = settings["RedactingLogger"].__new__(settings["RedactingLogger"])
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/aanmelding/AbCdEfGhIjKlMnOpQrSt/annuleren/?x=1",
        "PATH_INFO": "/aanmelding/AbCdEfGhIjKlMnOpQrSt/annuleren/",
        "QUERY_STRING": "uitnodiging=GEHEIM",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "192.0.2.7",
        "HTTP_REFERER": "https://jubileum.example.nl/aanmelding/AbCdEfGhIjKlMnOpQrSt/",
        "HTTP_USER_AGENT": "Firefox",
    }
    response = SimpleNamespace(status="200 OK", sent=512, headers=[])
    request = SimpleNamespace(headers=[])

    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=12))
    line = settings["access_log_format"] % atoms

    assert "AbCdEfGhIjKlMnOpQrSt" not in line
    assert "GEHEIM" not in line
    assert re.fullmatch(
        r'192\.0\.2\.7 \[.+\] "GET /aanmelding/\[token\]/annuleren/ HTTP/1\.1" 200 512 12ms '
        r'"Firefox"',
        line,
    )


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/api/v1/registrations/AbCdEfGhIjKlMnOpQrSt", "/api/v1/registrations/[token]"),
        ("/api/v1/waitlist-offers/AbCd/claim", "/api/v1/waitlist-offers/[token]/claim"),
        ("/en/aanmelding/AbCd/", "/en/aanmelding/[token]/"),
        ("/programma/brandweer-100/", "/programma/brandweer-100/"),
    ],
)
def test_secret_path_segments_are_masked(monkeypatch, path, logged):
    assert gunicorn_settings(monkeypatch)["redact_path"](path) == logged


# --- The real thing, on PostgreSQL -------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture
def throwaway_database():
    """A database name of this test on the test's PostgreSQL server, named after the test
    database (so runs side by side each have their own); dropped afterwards."""
    import psycopg
    from django.db import connection
    from psycopg import sql

    settings = connection.settings_dict
    name = f"{settings['NAME']}_serve_prod"
    server = psycopg.conninfo.make_conninfo(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname="postgres",
    )

    def drop() -> None:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    drop()
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    host, port = settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432
    yield f"postgres://{settings['USER']}{password}@{host}:{port}/{name}"
    drop()


def serve_prod_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "JUBILEUM_VAR_DIR": str(tmp_path),
        "DATABASE_URL": database_url,
        # The CI machine runs no Redis; the cache per process is the documented fallback.
        "REDIS_URL": "",
        "WEB_CONCURRENCY": "2",
    }


def wait_until_healthy(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if get(f"{base}/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.5)


@pytest.mark.postgres
def test_serve_prod_starts_serves_and_stops_everything_on_ctrl_c(throwaway_database, tmp_path):
    port = free_port()
    env = serve_prod_env(throwaway_database, tmp_path)
    log = tmp_path / "serve-prod.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "jubileum.serve_prod", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_healthy(base, server)
            health = get(f"{base}/healthz")
            home = get(f"{base}/")
            api = get(f"{base}/api/v1/programmes")
            css = get(f"{base}/static/css/site.css")
        finally:
            # Ctrl+C in a terminal reaches the whole foreground group: the supervisor's here.
            os.killpg(server.pid, signal.SIGINT)
            code = server.wait(timeout=60)
    output = log.read_text()

    assert health == (200, b'{"status": "ok"}'), output
    assert home[0] == 200
    assert api == (200, b'{"items": [], "count": 0}')
    assert css[0] == 200
    assert code == 0, output
    assert "made just now" in output
    assert "Starting worker" in output  # the task worker ran beside gunicorn ...
    assert "shutting down gracefully" in output  # ... and was stopped with it
    assert re.search(r'"GET /healthz HTTP/1\.1" 200 16 \d+ms', output)
    assert output.rstrip().endswith("Stopped.")
    leftovers = subprocess.run(
        ["pgrep", "-f", f"--bind 127.0.0.1:{port}"], capture_output=True, text=True, check=False
    )
    assert leftovers.stdout == ""


def child_pid(parent: int, command: str) -> int | None:
    """The pid of `parent`'s child whose command line contains `command`."""
    found = subprocess.run(
        ["pgrep", "-P", str(parent), "-f", command], capture_output=True, text=True, check=False
    )
    pids = found.stdout.split()
    return int(pids[0]) if pids else None


def wait_for(condition, what: str, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"no {what}; log:\n{log.read_text()}")
        time.sleep(0.2)


@pytest.mark.postgres
def test_a_task_worker_that_dies_is_started_again_and_the_site_keeps_serving(
    throwaway_database, tmp_path
):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve-prod.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "jubileum.serve_prod", "--port", str(port)],
            cwd=REPO,
            env=serve_prod_env(throwaway_database, tmp_path),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until_healthy(base, server)
            wait_for(lambda: "Starting worker" in log.read_text(), "task worker", log)
            gunicorn = child_pid(server.pid, "gunicorn")
            first = child_pid(server.pid, "task_worker")
            assert gunicorn and first, log.read_text()

            # Killed twice in a row: started again after 1 s, then after 2 s.
            os.kill(first, signal.SIGKILL)
            wait_for(lambda: log.read_text().count("Starting worker") == 2, "restart", log)
            during = get(f"{base}/healthz")
            second = child_pid(server.pid, "task_worker")
            assert second not in (None, first)
            os.kill(second, signal.SIGKILL)
            wait_for(lambda: log.read_text().count("Starting worker") == 3, "restart", log)
            third = child_pid(server.pid, "task_worker")

            health = get(f"{base}/healthz")
            still_serving = child_pid(server.pid, "gunicorn")
        finally:
            os.killpg(server.pid, signal.SIGINT)
            code = server.wait(timeout=60)
    output = log.read_text()

    assert during == (200, b'{"status": "ok"}'), output
    assert health == (200, b'{"status": "ok"}'), output
    assert still_serving == gunicorn  # the same gunicorn, never stopped
    assert third not in (None, first, second)
    assert "task worker ended (exit -9); starting it again in 1 s." in output
    assert "task worker ended (exit -9); starting it again in 2 s." in output
    assert "stopping the rest" not in output
    assert code == 0, output
    assert output.rstrip().endswith("Stopped.")
