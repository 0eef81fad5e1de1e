"""A burst of concurrent sign-ups against the app served by gunicorn on PostgreSQL.

    .venv/bin/python bench/registration_burst.py [--attempts 400] [--capacity 100] [--threads 32]

Creates a throwaway PostgreSQL database (`jubileum_bench` on the server of --server-url),
migrates it, makes one activity with --capacity places, and starts gunicorn (--workers sync
workers, production settings: DJANGO_DEBUG=0) on a free loopback port. It then times a burst of
GET /healthz (the yardstick: one request, one query) and a burst of --attempts sign-ups through
POST /api/v1/activities/{id}/registrations, each from a pool of --threads client threads, and
prints persons confirmed against capacity, the waitlist, errors (non-2xx answers), p50/p95
latency, throughput and its ratio to /healthz. gunicorn is stopped and the database dropped at
the end, whatever happens. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = Path(PYTHON).with_name("gunicorn")
DB_NAME = "jubileum_bench"
MAX_ATTEMPTS = 10_000

CREATE_ACTIVITY = """
import datetime as dt
from django.utils import timezone
from events.models import Activity, Programme
today = timezone.localdate()
programme = Programme.objects.create(
    name="Benchmark", slug="benchmark", starts_on=today, ends_on=today + dt.timedelta(days=60),
    organiser_name="Gemeente Soest", organiser_email="jubileum@example.org", is_public=True,
)
starts = timezone.now() + dt.timedelta(days=14)
activity = Activity.objects.create(
    programme=programme, title="Open dag", slug="open-dag", summary="Benchmark",
    starts_at=starts, ends_at=starts + dt.timedelta(hours=3), location_name="Kazerne Soest",
    capacity={capacity}, max_party_size=4, status=Activity.Status.PUBLISHED,
)
print(activity.pk)
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=400, help="sign-ups to send (400)")
    parser.add_argument("--capacity", type=int, default=100, help="places of the activity (100)")
    parser.add_argument("--threads", type=int, default=32, help="client threads (32)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (4)")
    parser.add_argument(
        "--server-url",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL database to connect to for creating and dropping "
        f"{DB_NAME} (default: postgres on 127.0.0.1; or BENCH_POSTGRES_URL)",
    )
    args = parser.parse_args()
    if not 1 <= args.attempts <= MAX_ATTEMPTS:
        parser.error(f"--attempts must be between 1 and {MAX_ATTEMPTS}")
    if not 1 <= args.threads <= 256 or not 1 <= args.workers <= 64 or args.capacity < 1:
        parser.error("--threads 1-256, --workers 1-64 and --capacity >= 1, please")
    return args


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url(server_url: str, name: str) -> str:
    return server_url.rsplit("/", 1)[0] + "/" + name


def admin(server_url: str, statement: sql.Composable) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(statement)


def manage(env: dict[str, str], *arguments: str) -> str:
    done = subprocess.run(
        [PYTHON, "manage.py", *arguments],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {arguments[0]} failed:\n{done.stderr}")
    return done.stdout


def wait_until_up(base: str, server: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz in time")


@dataclass
class Burst:
    name: str
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    bodies: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if not 200 <= status < 300)

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def percentile(self, p: int) -> float:
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0]
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[p - 1]


def request(burst: Burst, req: urllib.request.Request) -> None:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    except OSError:
        status, body = 0, b""  # no answer at all (refused, reset, timed out)
    elapsed = (time.perf_counter() - started) * 1000
    with burst.lock:
        burst.latencies_ms.append(elapsed)
        burst.statuses[status] += 1
        if body.startswith(b"{"):
            burst.bodies.append(json.loads(body))


def run_burst(burst: Burst, requests: list[urllib.request.Request], threads: int) -> Burst:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(lambda req: request(burst, req), requests))
    burst.seconds = time.perf_counter() - started
    return burst


def sign_up_request(base: str, activity_id: int, n: int) -> urllib.request.Request:
    body = {
        "contact_name": f"Inwoner {n}",
        "email": f"inwoner{n}@example.org",
        "party_size": 1,
        "consent": True,
    }
    return urllib.request.Request(
        f"{base}/api/v1/activities/{activity_id}/registrations",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )


def counts(url: str, activity_id: int) -> dict[str, tuple[int, int]]:
    """Per status: (parties, persons), straight from the database."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT status, count(*), sum(party_size) FROM registrations_registration "
            "WHERE activity_id = %s GROUP BY status",
            (activity_id,),
        ).fetchall()
    return {status: (parties, int(persons)) for status, parties, persons in rows}


def stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


class DatabaseExists(Exception):
    pass


@dataclass(frozen=True)
class Served:
    base: str  # http://127.0.0.1:<port>
    env: dict[str, str]  # production-like settings, for `manage()` against the same database
    database_url: str


@contextmanager
def served_on_postgres(server_url: str, db_name: str, workers: int) -> Iterator[Served]:
    """A throwaway database `db_name`, migrated, served by gunicorn with production settings.

    gunicorn is stopped and the database dropped on the way out, whatever happened; raises
    DatabaseExists rather than touch a database of that name that is already there.
    """
    bench_url = database_url(server_url, db_name)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="jubileum-bench-") as var_dir:
        (Path(var_dir) / "static").mkdir()
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")},
            "DATABASE_URL": bench_url,
            "DJANGO_DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": base,
            "MAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "SECURE_SSL_REDIRECT": "0",
            "JUBILEUM_VAR_DIR": var_dir,
            "LOG_LEVEL": "WARNING",
        }
        try:
            admin(server_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db_name)))
        except psycopg.errors.DuplicateDatabase:
            raise DatabaseExists(db_name) from None
        server = None
        try:
            print(f"Migrating {db_name} ...", flush=True)
            manage(env, "migrate", "--no-input", "-v", "0")
            server = subprocess.Popen(
                [
                    str(GUNICORN),
                    "jubileum.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    str(workers),
                    "--log-level",
                    "warning",
                ],
                cwd=REPO,
                env=env,
            )
            wait_until_up(base, server)
            # Every worker opens its database connection before the clock starts.
            run_burst(Burst("warm-up"), [urllib.request.Request(f"{base}/healthz")] * 64, 16)
            yield Served(base, env, bench_url)
        finally:
            if server is not None:
                stop(server)
            admin(
                server_url,
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db_name)),
            )


def report(args: argparse.Namespace, healthz: Burst, signups: Burst, by_status: dict) -> bool:
    print(
        f"\nRegistration burst: {args.attempts} sign-ups (party of 1) for {args.capacity} places; "
        f"{args.threads} client threads; gunicorn with {args.workers} sync workers; PostgreSQL."
    )
    print(f"\n{'burst':<28} {'requests':>8} {'errors':>7} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>8}")
    for burst in (healthz, signups):
        print(
            f"{burst.name:<28} {len(burst.latencies_ms):>8} {burst.errors:>7} "
            f"{burst.percentile(50):>8.1f} {burst.percentile(95):>8.1f} {burst.throughput:>8.1f}"
        )
    ratio = signups.throughput / healthz.throughput
    print(f"\nsign-up throughput / healthz throughput: {ratio:.2f}")
    confirmed = by_status.get("confirmed", (0, 0))[1]
    waitlisted_parties, waitlisted = by_status.get("waitlisted", (0, 0))
    print(f"persons confirmed: {confirmed} of {args.capacity} places")
    print(f"waitlisted: {waitlisted_parties} parties, {waitlisted} persons")
    print("answers: " + ", ".join(f"{s} x{n}" for s, n in sorted(signups.statuses.items())))
    answered = Counter(body.get("status") or body.get("code") for body in signups.bodies)
    print("sign-up results: " + ", ".join(f"{k} x{n}" for k, n in sorted(answered.items())))
    expected_confirmed = min(args.capacity, args.attempts)
    ok = (
        confirmed == expected_confirmed
        and confirmed + waitlisted == args.attempts
        and signups.errors == 0
        and healthz.errors == 0
    )
    if not ok:
        print(
            f"UNEXPECTED: want {expected_confirmed} confirmed, the rest waitlisted, no errors.",
            file=sys.stderr,
        )
    return ok


def main() -> int:
    args = parse_args()
    try:
        with served_on_postgres(args.server_url, DB_NAME, args.workers) as served:
            code = CREATE_ACTIVITY.replace("{capacity}", str(args.capacity))
            activity_id = int(manage(served.env, "shell", "-c", code).strip().splitlines()[-1])
            healthz = run_burst(
                Burst("GET /healthz"),
                [urllib.request.Request(f"{served.base}/healthz")] * args.attempts,
                args.threads,
            )
            signups = run_burst(
                Burst("POST sign-up (API)"),
                [sign_up_request(served.base, activity_id, n) for n in range(args.attempts)],
                args.threads,
            )
            ok = report(args, healthz, signups, counts(served.database_url, activity_id))
    except DatabaseExists as exists:
        print(f"Database {exists} exists already; drop it first if it is a leftover.")
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
