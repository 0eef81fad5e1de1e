"""What the benchmarks share.

- In process (listing.py, budget_dashboard.py): argument parsing and a throwaway SQLite set-up.
- Against the production shape (registration_burst.py, checkin.py, budget_dashboard.py --http):
  gunicorn with production settings on a throwaway PostgreSQL database (`served_on_postgres`),
  bursts of requests from client threads (`Burst`, `run_burst`), with the bare endpoint of
  bench/settings.py as the yardstick.
- For run_all.py: the figures of a run as JSON (`write_json`), one shape for every script.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = Path(PYTHON).with_name("gunicorn")
GUNICORN_CONF = REPO / "jubileum" / "gunicorn.conf.py"
MAX_ITERATIONS = 1000
# The site's settings plus the bare endpoint BARE (bench/settings.py, bench/urls.py).
SETTINGS = "bench.settings"
BARE = "/api/bench/bare"
DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres"


# In process ------------------------------------------------------------------------------------


def site_env(settings: str, base: str, var_dir: str, **extra: str) -> dict[str, str]:
    """The environment of a site a benchmark serves at `base`: production settings (no debug),
    a throwaway secret and var dir, mail kept in memory, no Redis or database from the caller's
    environment unless `extra` names one."""
    unset = ("REDIS_URL", "DATABASE_URL", "WEB_CONCURRENCY", "PAYMENTS_DEMO_MODE")
    return {
        **{k: v for k, v in os.environ.items() if k not in unset},
        "DJANGO_SETTINGS_MODULE": settings,
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": base,
        "MAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "SECURE_SSL_REDIRECT": "0",
        "JUBILEUM_VAR_DIR": var_dir,
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def add_size_arguments(
    parser: argparse.ArgumentParser, *, iterations: int, sizes: str, what: str
) -> None:
    parser.add_argument(
        "--iterations", type=int, default=iterations, help="timed runs per row (1-1000)"
    )
    parser.add_argument(
        "--sizes", default=sizes, help=f"comma-separated numbers of {what} (default {sizes})"
    )


def check_size_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Turns --sizes into a list of numbers, or stops with a usage error."""
    if not 1 <= args.iterations <= MAX_ITERATIONS:
        parser.error(f"--iterations must be between 1 and {MAX_ITERATIONS}")
    try:
        args.sizes = [int(size) for size in args.sizes.split(",")]
    except ValueError:
        parser.error("--sizes must be whole numbers separated by commas, e.g. 100,1000")
    if any(size < 1 for size in args.sizes):
        parser.error("--sizes must all be at least 1")


def parse_args(description: str, *, iterations: int, sizes: str, what: str) -> argparse.Namespace:
    """--iterations (timed runs per row) and --sizes (comma-separated numbers of `what`)."""
    parser = argparse.ArgumentParser(description=description)
    add_size_arguments(parser, iterations=iterations, sizes=sizes, what=what)
    args = parser.parse_args()
    check_size_arguments(parser, args)
    return args


def setup_django(var_dir: str) -> None:
    """Django on a fresh SQLite database in `var_dir`; configured servers are never touched."""
    os.environ["JUBILEUM_VAR_DIR"] = var_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jubileum.settings")
    sys.path.insert(0, str(REPO))

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


# Figures ---------------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: int) -> float:
    """The p-th percentile (1-99), interpolated between the measured values."""
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def figures(name: str, latencies_ms: Sequence[float], errors: int, seconds: float) -> dict:
    """One row of a table in the JSON that run_all.py collects."""
    return {
        "name": name,
        "requests": len(latencies_ms),
        "errors": errors,
        "p50_ms": round(percentile(latencies_ms, 50), 3),
        "p95_ms": round(percentile(latencies_ms, 95), 3),
        "p99_ms": round(percentile(latencies_ms, 99), 3),
        "per_second": round(len(latencies_ms) / seconds, 2),
    }


# Where a request's CPU goes: the machine's processes by kind, read from /proc (Linux) before and
# after a burst. The client is this process; anything else counts as "other".
CPU_KINDS = ("server", "database", "cache", "client", "other")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _kind_of(pid: int, command: str) -> str:
    if pid == os.getpid():
        return "client"
    if "gunicorn" in command:
        return "server"
    if command.startswith("postgres"):
        return "database"
    if command.startswith("redis-server"):
        return "cache"
    return "other"


def cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by the processes now running, by kind (`CPU_KINDS`); {} where
    there is no /proc. A process that starts and ends within a burst is not seen."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return {}
    used = dict.fromkeys(CPU_KINDS, 0.0)
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # it ended meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])  # utime + stime
        used[_kind_of(int(entry.name), command.strip())] += ticks / _CLOCK_TICKS
    return used


def table(caption: str, baseline: dict, rows: list[dict], *, yardstick: str = "bare") -> dict:
    """`baseline` is the yardstick the rows are divided by, `yardstick` its short name in a
    column heading; `rows` are all that was measured."""
    return {"caption": caption, "yardstick": yardstick, "baseline": baseline, "rows": rows}


def write_json(
    path: str,
    *,
    benchmark: str,
    title: str,
    setup: dict[str, object],
    tables: list[dict],
    ok: bool,
    notes: Sequence[str] = (),
) -> None:
    """The figures of one run, for run_all.py (and anyone else) to read back."""
    document = {
        "benchmark": benchmark,
        "title": title,
        "setup": setup,
        "tables": tables,
        "ok": ok,
        "notes": list(notes),
    }
    Path(path).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


# The production shape --------------------------------------------------------------------------


def add_stack_arguments(parser: argparse.ArgumentParser, *, db_name: str) -> None:
    """The options of every benchmark served by gunicorn on PostgreSQL, plus --json."""
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (4)")
    parser.add_argument(
        "--server-url",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_SERVER_URL),
        help="a PostgreSQL database to connect to for creating and dropping --db-name "
        "(default: postgres on 127.0.0.1; or BENCH_POSTGRES_URL)",
    )
    parser.add_argument(
        "--db-name", default=db_name, help=f"the throwaway database to create ({db_name})"
    )
    parser.add_argument(
        "--redis-url",
        default="",
        help="keep the cache (rate-limit counters) in this Redis, as production does with "
        "REDIS_URL (use a database number nobody else uses); default: local memory per worker",
    )
    parser.add_argument(
        "--prepare-threshold",
        type=int,
        default=None,
        help="set DATABASE_PREPARE_THRESHOLD (psycopg's prepare_threshold; it prepares only "
        "statements bound on the server, and Django binds on the client); default: off, as "
        "in production",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures to PATH as JSON")


def check_stack_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", args.db_name):
        parser.error("--db-name: lower-case letters, digits and _, please")
    if not 1 <= args.workers <= 64:
        parser.error("--workers 1-64, please")
    if args.prepare_threshold is not None and not 0 <= args.prepare_threshold <= 100:
        parser.error("--prepare-threshold 0-100, please")


def served_from_args(args: argparse.Namespace) -> AbstractContextManager[Served]:
    """`served_on_postgres` with the options of `add_stack_arguments`."""
    return served_on_postgres(
        args.server_url,
        args.db_name,
        args.workers,
        redis_url=args.redis_url,
        prepare_threshold=args.prepare_threshold,
    )


def write_bursts_json(
    args: argparse.Namespace,
    served: Served,
    *,
    benchmark: str,
    title: str,
    setup: dict[str, object],
    caption: str,
    bare: tuple[Burst, Burst],
    rows: Sequence[dict],
    ok: bool,
    notes: Sequence[str],
) -> None:
    """--json for a benchmark on the production shape: one table of `rows` between the two
    bursts of the bare endpoint, which together are its yardstick."""
    before, after = bare
    write_json(
        args.json,
        benchmark=benchmark,
        title=title,
        setup={**stack_setup(args, served), **setup},
        tables=[
            table(
                caption,
                combined(f"GET {BARE}, both bursts", bare).figures(),
                [before.figures(yardstick=True), *rows, after.figures(yardstick=True)],
            )
        ],
        ok=ok,
        notes=notes,
    )


def stack_setup(args: argparse.Namespace, served: Served) -> dict[str, object]:
    """What the stack was, for the JSON."""
    return {
        "workers": args.workers,
        "postgresql": served.postgres_version,
        "cache": f"Redis {args.redis_url}" if args.redis_url else "local memory per worker",
        "prepare_threshold": args.prepare_threshold,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url(server_url: str, name: str) -> str:
    return server_url.rsplit("/", 1)[0] + "/" + name


def admin(server_url: str, statement: sql.Composable) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(statement)


def postgres_version(server_url: str) -> str:
    with psycopg.connect(server_url, connect_timeout=5) as conn:
        return str(conn.execute("SHOW server_version").fetchone()[0]).split()[0]


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


def wait_until_up(
    base: str, server: subprocess.Popen, timeout: float = 120, path: str = "/healthz"
) -> None:
    """Waits until `server` answers 200 at `path`; raises when it exits or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(f"{base}{path}", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer {path} in time")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect (to the login page, say) is an answer of its own, not a detour to follow.
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


_opener = urllib.request.build_opener(_NoRedirect)


@dataclass
class Burst:
    name: str
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    bodies: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds by kind, whole burst
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if not 200 <= status < 300)

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def percentile(self, p: int) -> float:
        return percentile(self.latencies_ms, p)

    def cpu_ms_per_request(self) -> dict[str, float]:
        """Milliseconds of CPU per request, by kind of process (empty without /proc)."""
        count = len(self.latencies_ms)
        return {kind: round(used * 1000 / count, 3) for kind, used in self.cpu.items()}

    def figures(self, **marks: object) -> dict:
        """The row for the JSON; `marks` add to it (`yardstick=True`, `aim=0.5`)."""
        row = figures(self.name, self.latencies_ms, self.errors, self.seconds)
        if self.cpu:
            row["cpu_ms"] = self.cpu_ms_per_request()
        return {**row, **marks}


def combined(name: str, bursts: Sequence[Burst]) -> Burst:
    """Several bursts counted as one: their requests over their time together."""
    total = Burst(name, seconds=sum(burst.seconds for burst in bursts))
    for burst in bursts:
        total.latencies_ms.extend(burst.latencies_ms)
        total.statuses.update(burst.statuses)
        for kind, used in burst.cpu.items():
            total.cpu[kind] = total.cpu.get(kind, 0.0) + used
    return total


def request(burst: Burst, req: urllib.request.Request) -> None:
    started = time.perf_counter()
    try:
        with _opener.open(req, timeout=60) as response:
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
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(lambda req: request(burst, req), requests))
    burst.seconds = time.perf_counter() - started
    cpu_after = cpu_seconds()
    burst.cpu = {kind: max(cpu_after[kind] - cpu_before[kind], 0.0) for kind in cpu_after}
    return burst


def cpu_line(burst: Burst) -> str:
    """ "CPU per request: server 1.23 ms, database 0.45 ms, ..." (empty without /proc)."""
    if not burst.cpu:
        return ""
    parts = ", ".join(f"{kind} {ms:.2f}" for kind, ms in burst.cpu_ms_per_request().items())
    return f"  CPU ms per request: {parts}"


def bare_burst(base: str, name: str, count: int, threads: int) -> Burst:
    """`count` requests to the bare endpoint: a plain Django view, no query."""
    return run_burst(Burst(name), [urllib.request.Request(f"{base}{BARE}")] * count, threads)


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
    postgres_version: str
    workers: int


def start_gunicorn(
    tree: Path, env: dict[str, str], port: int, workers: int, *, threads: int = 0
) -> subprocess.Popen:
    """gunicorn serving the code in `tree` with that tree's production configuration; with
    `threads`, gthread workers of that many threads each rather than sync workers."""
    threaded = ["--worker-class", "gthread", "--threads", str(threads)] if threads else []
    return subprocess.Popen(
        [
            str(GUNICORN),
            "--config",
            str(tree / GUNICORN_CONF.relative_to(REPO)),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            # The access log is written (as in production) but not shown; no worker is
            # recycled halfway through a burst.
            "--access-logfile",
            os.devnull,
            "--max-requests",
            "0",
            *threaded,
        ],
        cwd=tree,
        env=env,
    )


def warm_up(base: str, server: subprocess.Popen) -> None:
    """Waits until `server` answers; every worker opens its database connection before the
    clock starts."""
    wait_until_up(base, server)
    run_burst(Burst("warm-up"), [urllib.request.Request(f"{base}/healthz")] * 64, 16)


def short_commit(ref: str) -> str:
    """The abbreviated hash of git commit `ref` in this repository; ValueError if none."""
    done = subprocess.run(
        ["git", "rev-parse", "--verify", "--short", f"{ref}^{{commit}}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise ValueError(f"no commit {ref!r} in {REPO}")
    return done.stdout.strip()


@contextmanager
def served_from_commit(served: Served, ref: str) -> Iterator[str]:
    """The code of git commit `ref`, served beside `served` as it is served: the same
    settings, database and cache, its own gunicorn on another port; its base URL.

    For comparing two versions of the code in one run (checkin.py --compare): the database is
    the one this tree migrated, so the commit must need the same tables. Its files are taken
    from git into a temporary directory, which goes with the server at the end."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", short_commit(ref)],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout
    with tempfile.TemporaryDirectory(prefix="jubileum-bench-commit-") as tree:
        with tarfile.open(fileobj=io.BytesIO(archive)) as files:
            files.extractall(tree, filter="data")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_gunicorn(Path(tree), served.env, port, served.workers)
        try:
            warm_up(base, server)
            yield base
        finally:
            stop(server)


@contextmanager
def served_on_postgres(
    server_url: str,
    db_name: str,
    workers: int,
    *,
    redis_url: str = "",
    prepare_threshold: int | None = None,
) -> Iterator[Served]:
    """A throwaway database `db_name`, migrated, served by gunicorn with production settings.

    gunicorn runs with the production configuration (jubileum/gunicorn.conf.py) and the site's
    settings plus the bare endpoint (bench/settings.py); the static files are collected, as
    production's manifest storage needs. The cache is Redis at `redis_url`, or local memory in
    each worker when it is empty. gunicorn is stopped and the database dropped on the way out,
    whatever happened; raises DatabaseExists rather than touch a database of that name that is
    already there.
    """
    bench_url = database_url(server_url, db_name)
    version = postgres_version(server_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="jubileum-bench-") as var_dir:
        unset = ("REDIS_URL", "DATABASE_URL", "DATABASE_PREPARE_THRESHOLD", "WEB_CONCURRENCY")
        env = {
            **{k: v for k, v in os.environ.items() if k not in unset},
            "DJANGO_SETTINGS_MODULE": SETTINGS,
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
        if redis_url:
            env["REDIS_URL"] = redis_url
        if prepare_threshold is not None:
            env["DATABASE_PREPARE_THRESHOLD"] = str(prepare_threshold)
        try:
            admin(server_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db_name)))
        except psycopg.errors.DuplicateDatabase:
            raise DatabaseExists(db_name) from None
        server = None
        try:
            print(f"Migrating {db_name} ...", flush=True)
            manage(env, "migrate", "--no-input", "-v", "0")
            manage(env, "collectstatic", "--no-input", "-v", "0")
            server = start_gunicorn(REPO, env, port, workers)
            warm_up(base, server)
            yield Served(base, env, bench_url, version, workers)
        finally:
            if server is not None:
                stop(server)
            admin(
                server_url,
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db_name)),
            )
