"""Door check-in, ours and pretix's: the same scans against both, on this machine, in one run.

    .venv/bin/python bench/peers/pretix_checkin.py [--tickets 2000] [--scanners 8] [--workers 4]
        [--server-url postgres://postgres@127.0.0.1:5432/postgres] [--db-name NAME]
        [--redis-url redis://127.0.0.1:6379/14] [--pretix-version 2026.8.0]
        [--no-keep-venv] [--json PATH]

pretix (installed from PyPI with pip into a virtual environment of its own under
var/bench-pretix/venv, with the same Python as ours and the gunicorn pinned in pyproject.toml;
reused while it holds the wanted versions) gets its own throwaway PostgreSQL database
`jubileum_bench_pretix` or --db-name (dropped and created anew each run), its configuration file
var/bench-pretix/pretix.cfg (debug off, data in var/bench-pretix/data, the cache and the task
queue in Redis at --redis-url, which is emptied at the start and the end: use a database number
nobody else uses; no celery worker runs, so pretix's tasks wait in the queue, as our mail tasks
wait in the database) and is migrated. A script run in pretix's environment then makes, with
pretix's models, one organizer, one live event, one product, --tickets paid orders of one ticket
each, one check-in list for all products and --scanners pretixSCAN devices (each with its own API
token, as the scanning app has after pairing).

Ours is served as bench/checkin.py serves it (`common.served_on_postgres`, database
`jubileum_bench_pretix_jubileum`, or --db-name with `_jubileum`, the same Redis), with its own
--tickets tickets and --scanners devices (checkin.make_tickets). Both are served by gunicorn with
--workers sync workers; only one of the two is ever under load: pretix is started after our
bursts and stopped before the last one (our server idles meanwhile). With --scanners client
threads it times:

- `GET /api/bench/bare` on our server, --tickets times: the yardstick;
- our `POST /api/v1/checkin/redeem` for every ticket (all `ok`), then every ticket again from
  another device (all `already_checked_in`), as bench/checkin.py does;
- pretix's `POST /api/v1/organizers/<organizer>/checkinrpc/redeem/` with {"secret", "lists",
  "nonce"} for every ticket (all `"status": "ok"`), then every ticket again from another device
  (all `"status": "error"`, `"reason": "already_redeemed"`, which pretix answers with HTTP 400);
- the bare endpoint once more: the yardstick is both bare bursts together.

It prints requests, errors (for the scans: every answer that is not the expected one, whatever
its HTTP status; for the bare endpoint: answers outside 2xx), p50/p95/p99 latency in ms, requests
per second and the ratio to the bare endpoint, and ours ÷ pretix's requests per second; it exits
1 when an answer was not the expected one. Servers are stopped and databases dropped at the end.

It lives in bench/peers/, apart from our own code, because it installs another product's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import tomllib
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

# checkin.py and common.py are in bench/, one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from checkin import make_tickets, redeem_bursts
from common import (
    BARE,
    DEFAULT_SERVER_URL,
    REPO,
    Burst,
    admin,
    bare_burst,
    combined,
    cpu_line,
    free_port,
    postgres_version,
    run_burst,
    served_on_postgres,
    stop,
    table,
    wait_until_up,
    write_json,
)
from psycopg import sql

PRETIX_VERSION = "2026.8.0"
HOME = REPO / "var" / "bench-pretix"
VENV = HOME / "venv"
CONFIG = HOME / "pretix.cfg"
DATA = HOME / "data"
PIP_LOG = HOME / "pip.log"
SERVER_LOG = HOME / "gunicorn.log"
SECRET_KEY = secrets.token_urlsafe(50)  # one per run
DB_NAME = "jubileum_bench_pretix"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
ORGANIZER = "bench"
EVENT = "open-dag"

# Run by pretix's Python with pretix's settings: the organizer, event, product, orders, check-in
# list and devices, made with pretix's models as its own import and device pairing make them.
# Prints one line of JSON at the end.
PRETIX_SET_UP = """
import datetime as dt, json, sys, time
from decimal import Decimal

import django

django.setup()

from django.conf import settings
from django.db import transaction
from django.utils.timezone import now
from django_scopes import scopes_disabled

from pretix.base.models import (
    Device, Event, Item, Order, OrderPayment, OrderPosition, Organizer,
)
from pretix.base.models.devices import generate_api_token

tickets, scanners = int(sys.argv[1]), int(sys.argv[2])
started = time.perf_counter()
with scopes_disabled():
    organizer = Organizer.objects.create(name="Gemeente Soest", slug="{organizer}")
    starts = now() + dt.timedelta(minutes=30)
    event = Event.objects.create(
        organizer=organizer, name="Open dag", slug="{event}", date_from=starts,
        date_to=starts + dt.timedelta(hours=3), live=True, currency="EUR",
    )
    # What the control panel's event wizard does for a new event.
    plugins = settings.PRETIX_PLUGINS_DEFAULT.split(",")
    event.set_active_plugins(plugins, allow_restricted=plugins)
    event.save(update_fields=["plugins"])
    event.set_defaults()
    checkin_list = event.checkin_lists.create(name="Ingang", all_products=True)
    item = Item.objects.create(
        event=event, name="Toegang", default_price=Decimal("10.00"), admission=True,
    )
    web = organizer.sales_channels.get(identifier="web")
    codes = []
    # As pretix's order import makes a paid order: the order, its confirmed payment, its
    # position (the ticket, with its random secret) and its transactions.
    with transaction.atomic():
        for n in range(tickets):
            order = Order(
                event=event, status=Order.STATUS_PAID, email=f"inwoner{n}@example.org",
                locale="en", total=Decimal("10.00"), sales_channel=web,
            )
            order.save()
            OrderPayment.objects.create(
                local_id=1, order=order, amount=order.total, provider="manual", info="{}",
                payment_date=now(), state=OrderPayment.PAYMENT_STATE_CONFIRMED,
            )
            position = OrderPosition(
                order=order, positionid=1, item=item, price=Decimal("10.00"),
                attendee_name_parts={
                    "_scheme": "given_family", "given_name": "Inwoner", "family_name": str(n),
                },
            )
            position.save()
            order.create_transactions(is_new=True, positions=[position], fees=[])
            codes.append(position.secret)
    tokens = []
    for n in range(scanners):
        # A pretixSCAN device after pairing: initialised, with its own API token, limited to
        # the event, with the security profile the app asks for.
        device = Device.objects.create(
            organizer=organizer, name=f"Ingang {n}", all_events=False,
            security_profile="pretixscan", initialized=now(), api_token=generate_api_token(),
            hardware_brand="Benchmark", software_brand="pretixSCAN", software_version="2.0.0",
        )
        device.limit_events.add(event)
        tokens.append(device.api_token)
print(json.dumps({
    "list": checkin_list.pk, "codes": codes, "tokens": tokens,
    "seconds": round(time.perf_counter() - started, 2),
}))
""".replace("{organizer}", ORGANIZER).replace("{event}", EVENT)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000, help="tickets to redeem (2000)")
    parser.add_argument("--scanners", type=int, default=8, help="concurrent scanners (8)")
    parser.add_argument(
        "--workers", type=int, default=4, help="gunicorn sync workers, for each server (4)"
    )
    parser.add_argument(
        "--server-url",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_SERVER_URL),
        help="a PostgreSQL database to connect to for creating and dropping the throwaway "
        "databases (default: postgres on 127.0.0.1; or BENCH_POSTGRES_URL)",
    )
    parser.add_argument(
        "--db-name",
        default=DB_NAME,
        help=f"pretix's throwaway database ({DB_NAME}); ours is this name with _jubileum added",
    )
    parser.add_argument(
        "--redis-url",
        default=DEFAULT_REDIS_URL,
        help="the Redis database for both servers' cache and pretix's task queue "
        f"({DEFAULT_REDIS_URL}); it is EMPTIED at the start and the end, so use a number "
        "nobody else uses. Required: without a cache pretix is not in its production shape "
        "(its health check fails)",
    )
    parser.add_argument(
        "--pretix-version",
        default=PRETIX_VERSION,
        help=f"the pretix release to install ({PRETIX_VERSION})",
    )
    parser.add_argument(
        "--keep-venv",
        action=argparse.BooleanOptionalAction,
        default=True,
        help=f"keep pretix's virtual environment ({VENV.relative_to(REPO)}) for the next run "
        "(default); --no-keep-venv removes it at the end",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures to PATH as JSON")
    args = parser.parse_args()
    if not args.redis_url.startswith(("redis://", "rediss://", "unix://")):
        parser.error("--redis-url: a Redis URL, please (redis://HOST:PORT/DB)")
    if not 1 <= args.tickets <= 20_000 or not 1 <= args.scanners <= 64:
        parser.error("--tickets 1-20000 and --scanners 1-64, please")
    if not 1 <= args.workers <= 64:
        parser.error("--workers 1-64, please")
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,53}", args.db_name):
        parser.error("--db-name: lower-case letters, digits and _, please")
    if not re.fullmatch(r"[0-9][0-9A-Za-z.]*", args.pretix_version):
        parser.error("--pretix-version: a release number such as 2026.8.0, please")
    return args


# pretix's virtual environment ------------------------------------------------------------------


def gunicorn_pin() -> str:
    """The gunicorn version pinned in our pyproject.toml, so both servers run the same one."""
    with (REPO / "pyproject.toml").open("rb") as f:
        dependencies = tomllib.load(f)["project"]["dependencies"]
    for dependency in dependencies:
        if match := re.fullmatch(r"gunicorn==([^;\s]+)", dependency.strip()):
            return match.group(1)
    raise RuntimeError("pyproject.toml pins no gunicorn version")


def base_python() -> Path:
    """The interpreter our .venv was made from (the same Python version, not our packages)."""
    name = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return Path(sys.base_prefix) / "bin" / name


def venv_python() -> Path:
    return VENV / "bin" / "python"


def installed() -> dict[str, str]:
    """Python and package versions in pretix's environment; empty when there is none."""
    if not venv_python().exists():
        return {}
    probe = (
        "import importlib.metadata as m, json, platform\n"
        "out = {'python': platform.python_version()}\n"
        "for name in ('pretix', 'gunicorn', 'psycopg2-binary', 'Django', 'celery', 'redis'):\n"
        "    try:\n"
        "        out[name] = m.version(name)\n"
        "    except m.PackageNotFoundError:\n"
        "        pass\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run(
        [str(venv_python()), "-c", probe], capture_output=True, text=True, check=False
    )
    return json.loads(done.stdout) if done.returncode == 0 else {}


def ensure_venv(version: str) -> dict[str, str]:
    """pretix `version` and our gunicorn in VENV, made anew unless it already holds them."""
    python = base_python()
    python_version = f"{sys.version_info.major}.{sys.version_info.minor}"
    gunicorn = gunicorn_pin()
    have = installed()
    if (
        have.get("pretix") == version
        and have.get("gunicorn") == gunicorn
        and "psycopg2-binary" in have
        and have.get("python", "").startswith(python_version + ".")
    ):
        print(f"Reusing pretix {version} in {VENV.relative_to(REPO)}.", flush=True)
        return have
    print(
        f"Installing pretix {version} with gunicorn {gunicorn} into {VENV.relative_to(REPO)} "
        f"({python}) ...",
        flush=True,
    )
    started = time.perf_counter()
    HOME.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(python), "-m", "venv", "--clear", str(VENV)], check=True)
    with PIP_LOG.open("w") as log:
        done = subprocess.run(
            [
                str(venv_python()),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                f"pretix=={version}",
                f"gunicorn=={gunicorn}",
                # pretix's own requirement for PostgreSQL (it uses psycopg2, not psycopg 3).
                "psycopg2-binary",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode != 0:
        tail = PIP_LOG.read_text(errors="replace").splitlines()[-20:]
        raise RuntimeError(f"pip could not install pretix {version}:\n" + "\n".join(tail))
    have = installed()
    print(f"  installed in {time.perf_counter() - started:.0f} s: {have}", flush=True)
    return have


# pretix's configuration, database and data -----------------------------------------------------


def pretix_env() -> dict[str, str]:
    """Our environment less anything pretix or Django would read instead of the config file."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PRETIX_", "FILE__PRETIX_"))
        and key not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "PYTHONPATH")
        and key not in ("VIRTUAL_ENV", "DATA_DIR")
    }
    env["PRETIX_CONFIG_FILE"] = str(CONFIG)
    env["DJANGO_SETTINGS_MODULE"] = "pretix.settings"
    return env


def write_config(server_url: str, db_name: str, port: int, redis_url: str) -> None:
    """pretix.cfg: production-like (debug off), PostgreSQL, Redis for the cache and tasks."""
    server = urllib.parse.urlsplit(server_url)
    lines = [
        "[pretix]",
        "instance_name=Jubileum benchmark",
        f"url=http://127.0.0.1:{port}",
        "currency=EUR",
        f"datadir={DATA}",
        "",
        "[locale]",
        "timezone=Europe/Amsterdam",
        "",
        "[django]",
        f"secret={SECRET_KEY}",
        "debug=off",
        "",
        "[database]",
        "backend=postgresql",
        f"name={db_name}",
        f"user={urllib.parse.unquote(server.username or '')}",
        f"password={urllib.parse.unquote(server.password or '')}",
        f"host={server.hostname or ''}",
        f"port={server.port or ''}",
        "",
        "[mail]",
        "from=jubileum@example.org",
        # As pretix's installation guide sets it up: Redis for the cache and for celery's
        # queue. No celery worker runs, so a task is queued and waits (as our mail tasks wait in
        # the database): a redeem pays for queueing its webhook task, not for running it.
        "",
        "[redis]",
        f"location={redis_url}",
        "",
        "[celery]",
        f"broker={redis_url}",
        f"backend={redis_url}",
    ]
    CONFIG.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_pretix(*arguments: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [str(venv_python()), *arguments],
        cwd=HOME,
        env=pretix_env(),
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"pretix {' '.join(arguments)} failed:\n{done.stderr[-4000:]}")
    return done.stdout


def drop_database(server_url: str, name: str) -> None:
    admin(
        server_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    )


def empty_redis(redis_url: str) -> bool:
    """Empties the Redis database at `redis_url`; False when it does not answer."""
    import redis

    try:
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
        client.flushdb()
        client.close()
    except redis.RedisError:
        return False
    return True


@dataclass(frozen=True)
class PretixTickets:
    checkin_list: int
    codes: list[str]
    tokens: list[str]


def prepare_pretix(args: argparse.Namespace) -> PretixTickets:
    """A fresh database, migrated, with the event, orders and devices; prints the time taken."""
    if DATA.exists():
        shutil.rmtree(DATA)
    DATA.mkdir(parents=True)
    # The port is chosen when pretix is served (served_pretix writes the file again).
    write_config(args.server_url, args.db_name, 8000, args.redis_url)
    drop_database(args.server_url, args.db_name)
    admin(args.server_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(args.db_name)))
    started = time.perf_counter()
    print(f"Migrating {args.db_name} (pretix) ...", flush=True)
    run_pretix("-m", "pretix", "migrate", "--no-input", "-v", "0")
    migrated = time.perf_counter()
    print(f"Making {args.tickets} pretix orders ...", flush=True)
    out = run_pretix("-", str(args.tickets), str(args.scanners), stdin=PRETIX_SET_UP)
    data = json.loads(out.strip().splitlines()[-1])
    print(
        f"  pretix set-up took {time.perf_counter() - started:.1f} s: migrate "
        f"{migrated - started:.1f} s, organizer, event, {args.tickets} orders and "
        f"{args.scanners} devices {time.perf_counter() - migrated:.1f} s "
        f"({data['seconds']:.1f} s of it in the models)",
        flush=True,
    )
    return PretixTickets(data["list"], data["codes"], data["tokens"])


@contextlib.contextmanager
def served_pretix(args: argparse.Namespace, warm_up_token: str) -> Iterator[str]:
    """pretix's WSGI app under gunicorn as ours runs (sync workers, 30 s timeout, no worker
    recycled, no control socket), without an access log, on a free port; stopped on the way out.
    What gunicorn and pretix print (pretix logs each 4xx answer, so every repeated scan) goes to
    SERVER_LOG."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # pretix's own URL, with the port
    write_config(args.server_url, args.db_name, port, args.redis_url)
    log = SERVER_LOG.open("w")
    server = subprocess.Popen(
        [
            str(VENV / "bin" / "gunicorn"),
            "pretix.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            "sync",
            "--timeout",
            "30",
            "--graceful-timeout",
            "20",
            "--max-requests",
            "0",
            "--log-level",
            "warning",
            "--no-control-socket",
        ],
        cwd=HOME,
        env=pretix_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_up(base, server, timeout=90, path="/healthcheck/")
        # As for ours: every worker opens its database (and Redis) connection before the clock
        # starts; and the API's code is loaded in each, with a call the scanning app makes.
        run_burst(Burst("warm-up"), [urllib.request.Request(f"{base}/healthcheck/")] * 64, 16)
        lists = f"{base}/api/v1/organizers/{ORGANIZER}/events/{EVENT}/checkinlists/"
        auth = {"Authorization": f"Device {warm_up_token}"}
        warm = run_burst(Burst("warm-up"), [urllib.request.Request(lists, headers=auth)] * 64, 16)
        if warm.errors:
            raise RuntimeError(f"pretix's API answered {dict(warm.statuses)} to the warm-up")
        yield base
    except RuntimeError:
        tail = SERVER_LOG.read_text(errors="replace").splitlines()[-20:]
        print("\n".join(["pretix's gunicorn said, last:", *tail]), file=sys.stderr)
        raise
    finally:
        stop(server)
        log.close()


# The scans -------------------------------------------------------------------------------------


@dataclass
class Answered(Burst):
    """A burst of scans: its errors are the answers that are not the expected one."""

    expected: Callable[[dict], bool] = lambda body: True

    @property
    def errors(self) -> int:
        return len(self.latencies_ms) - sum(1 for body in self.bodies if self.expected(body))


def answered(burst: Burst, name: str, expected: Callable[[dict], bool]) -> Answered:
    return Answered(
        name,
        latencies_ms=burst.latencies_ms,
        statuses=burst.statuses,
        bodies=burst.bodies,
        seconds=burst.seconds,
        cpu=burst.cpu,
        expected=expected,
    )


def pretix_redeem_request(
    base: str, token: str, checkin_list: int, secret: str
) -> urllib.request.Request:
    # What pretixSCAN sends in online mode, less the optional fields: no force, no
    # ignore_unpaid, an entry scanned from a barcode, a fresh nonce per scan (as ours).
    body = {"secret": secret, "lists": [checkin_list], "nonce": str(uuid.uuid4())}
    return urllib.request.Request(
        f"{base}/api/v1/organizers/{ORGANIZER}/checkinrpc/redeem/",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Device {token}"},
        method="POST",
    )


def pretix_bursts(base: str, tickets: PretixTickets, threads: int) -> tuple[Answered, Answered]:
    tokens, scanners = tickets.tokens, len(tickets.tokens)
    first = run_burst(
        Answered("pretix redeem, first scan", expected=lambda b: b.get("status") == "ok"),
        [
            pretix_redeem_request(base, tokens[n % scanners], tickets.checkin_list, code)
            for n, code in enumerate(tickets.codes)
        ],
        threads,
    )
    again = run_burst(
        Answered(
            "pretix redeem, repeat (other device)",
            expected=lambda b: b.get("status") == "error" and b.get("reason") == "already_redeemed",
        ),
        [
            pretix_redeem_request(base, tokens[(n + 1) % scanners], tickets.checkin_list, code)
            for n, code in enumerate(tickets.codes)
        ],
        threads,
    )
    return first, again


def ours_result(body: dict) -> str | None:
    return body.get("result") or body.get("code")


def pretix_result(body: dict) -> str | None:
    status = body.get("status")
    return f"{status}: {body['reason']}" if body.get("reason") else status


# Figures ---------------------------------------------------------------------------------------


def row(burst: Burst, yardstick: float) -> str:
    return (
        f"{burst.name:<40} {len(burst.latencies_ms):>7} {burst.errors:>6} "
        f"{burst.percentile(50):>7.1f} {burst.percentile(95):>7.1f} {burst.percentile(99):>7.1f} "
        f"{burst.throughput:>8.1f} {burst.throughput / yardstick:>6.2f}"
    )


def report(
    args: argparse.Namespace,
    setup: dict[str, object],
    bare: tuple[Burst, Burst],
    ours: tuple[Answered, Answered],
    pretix: tuple[Answered, Answered],
) -> tuple[bool, list[str]]:
    """Prints the figures; returns whether every answer was the expected one, and notes."""
    print(
        f"\nCheck-in, Jubileum and pretix {setup['pretix']} (Python {setup['pretix_python']}): "
        f"{args.tickets} tickets each, {args.scanners} concurrent scanners (one device each); "
        f"gunicorn {setup['gunicorn']} with {args.workers} sync workers for each, one server "
        f"under load at a time; PostgreSQL {setup['postgresql']}; cache: {setup['cache']}."
    )
    print(
        f"\n{'burst':<40} {'reqs':>7} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'req/s':>8} {'÷ bare':>6}"
    )
    yardstick = combined("bare", bare).throughput
    for burst in (bare[0], *ours, *pretix, bare[1]):
        print(row(burst, yardstick))
    for burst in (bare[0], *ours, *pretix, bare[1]):
        if line := cpu_line(burst):
            print(f"{burst.name}\n{line}")
    print(f"\nbare endpoint (ours), both bursts: {yardstick:.1f} req/s")
    print(
        f"load average (1, 5, 15 min) at the start: {setup['load_start']}, at the end: "
        f"{setup['load_end']}"
    )
    notes = []
    for burst, result in (
        (ours[0], ours_result),
        (ours[1], ours_result),
        (pretix[0], pretix_result),
        (pretix[1], pretix_result),
    ):
        counted = Counter(result(body) for body in burst.bodies)
        statuses = ", ".join(f"{status} x{n}" for status, n in sorted(burst.statuses.items()))
        answers = ", ".join(f"{k} x{n}" for k, n in sorted(counted.items(), key=str))
        print(f"  {burst.name}: {answers} (HTTP {statuses})")
        notes.append(f"{burst.name}: {answers} (HTTP {statuses})")
    ratios = (ours[0].throughput / pretix[0].throughput, ours[1].throughput / pretix[1].throughput)
    ratio_line = f"Jubileum ÷ pretix: {ratios[0]:.2f}× (first), {ratios[1]:.2f}× (repeat)"  # noqa: RUF001
    print(ratio_line)
    notes.append(ratio_line)
    ok = not any(burst.errors for burst in (*bare, *ours, *pretix))
    if not ok:
        print(
            "UNEXPECTED: want every first scan ok, every repeat already checked in/redeemed, "
            "and every bare request answered.",
            file=sys.stderr,
        )
    return ok, notes


def main() -> int:
    args = parse_args()
    load_start = " ".join(f"{x:.2f}" for x in os.getloadavg())
    redis_url = args.redis_url
    if not empty_redis(redis_url):
        print(f"Redis at {redis_url} does not answer; pretix needs it (--redis-url).")
        return 2
    versions = ensure_venv(args.pretix_version)
    setup: dict[str, object] = {
        "workers": args.workers,
        "postgresql": postgres_version(args.server_url),
        "cache": f"Redis {redis_url}",
        "prepare_threshold": None,
        "tickets": args.tickets,
        "scanners": args.scanners,
        "pretix": versions.get("pretix"),
        "pretix_python": versions.get("python"),
        "gunicorn": versions.get("gunicorn"),
        "pretix_credential": "pretixSCAN device token (security profile pretixscan)",
        "pretix_tasks": "queued in Redis (celery), no worker runs them",
    }
    try:
        pretix_tickets = prepare_pretix(args)
        our_db = f"{args.db_name}_jubileum"
        drop_database(args.server_url, our_db)  # a leftover of an interrupted run
        with served_on_postgres(
            args.server_url, our_db, args.workers, redis_url=redis_url
        ) as served:
            print(f"Making {args.tickets} Jubileum tickets ...", flush=True)
            our_tickets = make_tickets(served, args.tickets, args.scanners)
            before = bare_burst(served.base, f"GET {BARE} (no query)", args.tickets, args.scanners)
            first, again = redeem_bursts(served.base, our_tickets, args.scanners)
            ours = (
                answered(first, "Jubileum redeem, first scan", lambda b: b.get("result") == "ok"),
                answered(
                    again,
                    "Jubileum redeem, repeat (other device)",
                    lambda b: b.get("result") == "already_checked_in",
                ),
            )
            print("Starting pretix ...", flush=True)
            with served_pretix(args, pretix_tickets.tokens[0]) as pretix_base:
                pretix = pretix_bursts(pretix_base, pretix_tickets, args.scanners)
            after = bare_burst(
                served.base, f"GET {BARE} (no query), again", args.tickets, args.scanners
            )
    except psycopg.Error as error:
        print(f"PostgreSQL: {error}", file=sys.stderr)
        return 2
    finally:
        with contextlib.suppress(psycopg.Error):
            drop_database(args.server_url, args.db_name)
        empty_redis(redis_url)
        if not args.keep_venv:
            shutil.rmtree(VENV, ignore_errors=True)
    bare = (before, after)
    setup["load_start"] = load_start
    setup["load_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    ok, notes = report(args, setup, bare, ours, pretix)
    if args.json:
        write_json(
            args.json,
            benchmark="pretix_checkin",
            title="Check-in: our redeem and pretix's",
            setup=setup,
            tables=[
                table(
                    f"{args.tickets} tickets redeemed by {args.scanners} scanners at once, then "
                    "scanned again from another device: ours, then pretix's "
                    f"{setup['pretix']} checkinrpc/redeem, one server under load at a time",
                    combined(f"GET {BARE}, both bursts", bare).figures(),
                    [
                        before.figures(yardstick=True),
                        *(burst.figures() for burst in (*ours, *pretix)),
                        after.figures(yardstick=True),
                    ],
                )
            ],
            ok=ok,
            notes=notes,
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
