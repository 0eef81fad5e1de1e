"""How the organiser's pages, exports and the scan manifest grow with the size of the data.

    .venv/bin/python bench/scale.py [--sizes S,M,L] [--requests 5] [--workers 2]
        [--db-prefix jubileum_bench_scale] [--keep] [--write] [--server-url URL]

For each size a database of its own (`<db-prefix>_s`, `_m`, `_l`), migrated and filled:

- S: the demo (`load_demo`);
- M: 5,000 registrations over 21 activities, 500 expenses, 700 check-ins;
- L: 50,000 registrations over 100 activities in 3 programmes, 5,000 expenses, 7,000 check-ins.

M and L are bulk rows (`demo.synthetic.scale_rows`, with their history rows) around a realistic
core made through the services: a few sign-ups (paid ones paid on the demo payment page) and
scans at the door of the biggest activity. Then 3 tickets of the biggest activity change after a
moment `since`, for the incremental manifest.

Each size is served by gunicorn with the production configuration (jubileum/gunicorn.conf.py,
production settings, `--workers` sync workers; `bench/scale_settings.py`: bench/settings.py plus
a query counter), and every endpoint is asked once to warm up, then `--requests` times one after
another. Per endpoint: the median time, the response's bytes, its database queries (counted in
the worker for tagged requests, streamed bodies included: `bench/querycount.py`) and the peak
RSS of the gunicorn workers while it was asked (`VmHWM` after resetting it through
`/proc/<pid>/clear_refs`, the largest over the workers). The bare endpoint, asked the same way
in the same run, is the yardstick. A request that runs into gunicorn's timeout is reported as a
timeout and the endpoint's other requests are skipped. At the end the sizes side by side, with
the ratio of the largest two beside the ratio of their registrations.

`--write` puts that table into bench/RESULTS.md as a section of its own (`make bench` keeps it).
The databases are dropped at the end unless `--keep`. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from common import (
    BARE,
    DEFAULT_SERVER_URL,
    REPO,
    admin,
    database_url,
    free_port,
    manage,
    postgres_version,
    short_commit,
    site_env,
    start_gunicorn,
    stop,
    warm_up,
)
from psycopg import sql
from results import SCALE_END, SCALE_START, with_scale_section

SETTINGS = "bench.scale_settings"
# gunicorn's timeout (jubileum/gunicorn.conf.py); a request cut off near it ran into it.
GUNICORN_TIMEOUT = 30
CLIENT_TIMEOUT = 90
# After a warm-up slower than this, two timed requests rather than --requests.
SLOW_SECONDS = 5.0

SIZES: dict[str, dict[str, int] | None] = {
    "S": None,  # the demo
    "M": {
        "programmes": 1,
        "activities": 21,
        "registrations": 5_000,
        "expenses": 500,
        "checkins": 700,
    },
    "L": {
        "programmes": 3,
        "activities": 100,
        "registrations": 50_000,
        "expenses": 5_000,
        "checkins": 7_000,
    },
}

# Run by `manage.py shell` against the size's database; prints what the requests need as JSON.
BUILD = """
import datetime as dt, json, time, uuid
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.test import Client
from django.utils import timezone
from budget.models import Expense
from demo.centenary import load_demo
from demo.loading import sign_up
from demo.synthetic import ScaleSize, scale_rows
from events.models import Activity, Programme, ProgrammeRole
from registrations.checkin import devices
from registrations.checkin.services import Scan, redeem
from registrations.models import CheckIn, Registration
from registrations.services import SignUp

size = {size}
user = get_user_model().objects.create_user(username="bench-schaal", email="schaal@example.org")
if size is None:
    load_demo()
    for programme in Programme.objects.all():
        ProgrammeRole.objects.get_or_create(user=user, programme=programme, role="organiser")
else:
    programmes = scale_rows(ScaleSize(**size), user)
    # The realistic core: people signing up (and paying) through the site's services.
    public = Activity.objects.filter(
        programme__in=programmes, audience=Activity.Audience.PUBLIC
    ).order_by("pk")
    free = public.filter(price=0).first()
    paid = public.filter(price__gt=0).first()
    for n, activity in enumerate([free] * 5 + [paid] * 3):
        if activity is not None:
            sign_up(activity, SignUp(contact_name=f"Kern {n}", email=f"kern{n}@example.org",
                                     party_size=1 + n % 3))
biggest = (
    Activity.objects.annotate(n=Count("registrations")).order_by("-n", "pk").first()
)
programme = biggest.programme
device = devices.create_device(programme, [biggest.pk], name="Ingang", with_token=True)
# Scans at the door through the service, at a moment the check-in is open.
door = biggest.starts_at - dt.timedelta(minutes=5)
for registration in biggest.registrations.filter(status="confirmed", checkins=None)[:5]:
    redeem(device.device, Scan(activity_id=biggest.pk, nonce=str(uuid.uuid4()),
                               code=registration.ticket_code), now=door)
since = timezone.now()
time.sleep(0.05)
changed = list(biggest.registrations.order_by("pk").values_list("pk", flat=True)[:3])
Registration.objects.filter(pk__in=changed).update(updated_at=timezone.now())
client = Client()
client.force_login(user)
history = sum(
    model.history.count() for model in (Registration, Expense)
)
print(json.dumps({
    "programme": programme.slug, "activity": biggest.slug, "activity_id": biggest.pk,
    "token": device.token, "since": since.isoformat(),
    "cookie": settings.SESSION_COOKIE_NAME,
    "session": client.cookies[settings.SESSION_COOKIE_NAME].value,
    "data": {
        "programmes": Programme.objects.count(), "activities": Activity.objects.count(),
        "registrations": Registration.objects.count(), "in biggest": biggest.n,
        "expenses": Expense.objects.count(), "check-ins": CheckIn.objects.count(),
        "activities in programme": programme.activities.count(),
        "registrations in programme": Registration.objects.filter(
            activity__programme=programme).count(),
        "expenses in programme": Expense.objects.filter(budget__programme=programme).count(),
        "history rows": history,
    },
}))
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="S,M,L", help="which sizes, of S, M and L (S,M,L)")
    parser.add_argument("--requests", type=int, default=5, help="timed requests per endpoint (5)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2)")
    parser.add_argument(
        "--db-prefix",
        default="jubileum_bench_scale",
        help="the databases are <prefix>_s, _m and _l (jubileum_bench_scale)",
    )
    parser.add_argument(
        "--server-url",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_SERVER_URL),
        help="a PostgreSQL database to connect to for creating and dropping the databases",
    )
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument(
        "--write", action="store_true", help="write the table into bench/RESULTS.md"
    )
    args = parser.parse_args()
    args.sizes = [size.strip().upper() for size in args.sizes.split(",") if size.strip()]
    if not args.sizes or any(size not in SIZES for size in args.sizes):
        parser.error("--sizes: some of S, M and L, separated by commas")
    args.sizes = [size for size in SIZES if size in args.sizes]
    if not 1 <= args.requests <= 100 or not 1 <= args.workers <= 16:
        parser.error("--requests 1-100 and --workers 1-16, please")
    if not args.db_prefix.replace("_", "a").isalnum() or not args.db_prefix.islower():
        parser.error("--db-prefix: lower-case letters, digits and _, please")
    return args


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    auth: str  # "", "session" or "token"
    grows_with: str = ""  # the figure of the size's data (BUILD) it should grow with


def endpoints(built: dict) -> list[Endpoint]:
    p, a = built["programme"], built["activity"]
    activity = f"/beheer/{p}/activiteit/{a}"
    manifest = f"/api/v1/checkin/manifest?activity={built['activity_id']}"
    since = urllib.parse.quote(built["since"])
    biggest, programme, ledger = (
        "in biggest",
        "registrations in programme",
        "expenses in programme",
    )
    return [
        Endpoint("bare endpoint (yardstick)", BARE, ""),
        Endpoint("organiser programme overview", f"/beheer/{p}/", "session", programme),
        Endpoint("organiser activity page (biggest)", f"{activity}/", "session", biggest),
        Endpoint("attendees XLSX", f"{activity}/deelnemers.xlsx", "session", biggest),
        Endpoint(
            "attendees XLSX ?status=all",
            f"{activity}/deelnemers.xlsx?status=all",
            "session",
            biggest,
        ),
        Endpoint("attendees CSV", f"{activity}/deelnemers.csv", "session", biggest),
        Endpoint(
            "attendees CSV ?status=all", f"{activity}/deelnemers.csv?status=all", "session", biggest
        ),
        Endpoint(
            "budget ledger XLSX", f"/beheer/{p}/budget/export/grootboek.xlsx", "session", ledger
        ),
        Endpoint(
            "budget ledger CSV", f"/beheer/{p}/budget/export/grootboek.csv", "session", ledger
        ),
        Endpoint("report page", f"/beheer/{p}/verantwoording/", "session", ledger),
        Endpoint("budget dashboard", f"/beheer/{p}/budget/", "session", ledger),
        Endpoint("public programme page", f"/programma/{p}/", "", "activities in programme"),
        Endpoint("scan manifest, since (3 changed)", f"{manifest}&since={since}", "token"),
        Endpoint("scan manifest, full", manifest, "token", biggest),
    ]


@dataclass
class Row:
    name: str
    times_ms: list[float] = field(default_factory=list)
    bytes: int = 0
    queries: int | None = None
    peak_rss_mb: float | None = None
    problem: str = ""  # "timeout", "HTTP 500", ... ; empty when every answer was 200

    @property
    def median_ms(self) -> float | None:
        return statistics.median(self.times_ms) if self.times_ms else None


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(entry.name))
    return pids


def reset_peaks(pids: list[int]) -> None:
    """The kernel's peak RSS (VmHWM) of each process back to its current RSS."""
    for pid in pids:
        with contextlib.suppress(OSError):
            Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_mb(pids: list[int]) -> float | None:
    peaks = []
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return max(peaks) if peaks else None


def queries_of(log: Path, tag: str) -> int | None:
    """The count the worker wrote for `tag`; it writes when the response is closed, which may be
    a moment after the client has the body."""
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        for line in log.read_text().splitlines() if log.exists() else []:
            if line.startswith(f"{tag} "):
                return int(line.split()[1])
        time.sleep(0.02)
    return None


def ask(base: str, endpoint: Endpoint, built: dict, tag: str) -> tuple[int, int, float]:
    """(status, bytes, ms) of one request; status 0 when no answer came."""
    headers = {"X-Bench-Tag": tag}
    if endpoint.auth == "session":
        headers["Cookie"] = f"{built['cookie']}={built['session']}"
    elif endpoint.auth == "token":
        headers["Authorization"] = f"Bearer {built['token']}"
    req = urllib.request.Request(f"{base}{endpoint.path}", headers=headers)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=CLIENT_TIMEOUT) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    except OSError:
        status, body = 0, b""
    return status, len(body), (time.perf_counter() - started) * 1000


def measure(
    base: str, master: int, endpoint: Endpoint, built: dict, requests: int, log: Path
) -> Row:
    row = Row(endpoint.name)
    pids = worker_pids(master)
    reset_peaks(pids)
    timed = requests
    for n in range(requests + 1):  # the first warms up
        tag = uuid.uuid4().hex
        status, size, ms = ask(base, endpoint, built, tag)
        # gunicorn kills a worker past its timeout; the request ends unanswered or in a 500.
        if status in (0, 500) and ms >= (GUNICORN_TIMEOUT - 1) * 1000:
            row.problem = f"timeout (> {GUNICORN_TIMEOUT} s)"
            break
        if status == 0:
            row.problem = "no answer"
            break
        if status != 200:
            row.problem = f"HTTP {status}"
        if n == 0:
            row.bytes = size
            row.queries = queries_of(log, tag)
            if ms > SLOW_SECONDS * 1000:
                timed = min(requests, 2)
        else:
            row.times_ms.append(ms)
        if n >= timed:
            break
    # A timed-out worker is replaced; the new one's peak says nothing of the request.
    row.peak_rss_mb = peak_mb(worker_pids(master)) if not row.problem.startswith("t") else None
    return row


def build(env: dict[str, str], size: str) -> tuple[dict, float]:
    started = time.perf_counter()
    code = BUILD.replace("{size}", repr(SIZES[size]))
    # The core pays on the demo payment page; nothing leaves the machine.
    output = manage({**env, "PAYMENTS_DEMO_MODE": "1"}, "shell", "-c", code)
    return json.loads(output.strip().splitlines()[-1]), time.perf_counter() - started


def run_size(args: argparse.Namespace, size: str, var_dir: str) -> tuple[dict, list[Row], float]:
    name = f"{args.db_prefix}_{size.lower()}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = Path(var_dir) / f"queries-{size}.log"
    env = site_env(
        SETTINGS,
        base,
        var_dir,
        DATABASE_URL=database_url(args.server_url, name),
        BENCH_QUERY_LOG=str(log),
    )
    admin(args.server_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    server = None
    try:
        print(f"[{size}] migrating {name} ...", flush=True)
        manage(env, "migrate", "--no-input", "-v", "0")
        # Production's manifest storage needs the collected files for any HTML page.
        manage(env, "collectstatic", "--no-input", "-v", "0")
        print(f"[{size}] building ...", flush=True)
        built, seconds = build(env, size)
        print(f"[{size}] built in {seconds:.0f} s: {built['data']}", flush=True)
        server = start_gunicorn(REPO, env, port, args.workers)
        warm_up(base, server)
        rows = []
        for endpoint in endpoints(built):
            row = measure(base, server.pid, endpoint, built, args.requests, log)
            print(f"[{size}] {line(row, rows[0] if rows else row)}", flush=True)
            rows.append(row)
        return built, rows, seconds
    finally:
        if server is not None:
            stop(server)
        if not args.keep:
            admin(
                args.server_url,
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)),
            )


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def line(row: Row, bare: Row) -> str:
    ratio = (
        f"{row.median_ms / bare.median_ms:,.0f}x"
        if row.median_ms is not None and bare.median_ms
        else "-"
    )
    return (
        f"{row.name:<36} {ms(row.median_ms):>9} ms {ratio:>8} {row.bytes:>11,} B "
        f"{'-' if row.queries is None else row.queries:>5} q "
        f"{ms(row.peak_rss_mb):>7} MB {row.problem}"
    )


def cell(row: Row) -> str:
    if row.problem and not row.times_ms:
        return row.problem
    text = f"{ms(row.median_ms)} ms, {row.bytes / 1024:,.0f} KB, {row.queries} q, "
    text += f"{ms(row.peak_rss_mb)} MB"
    return f"{text} ({row.problem})" if row.problem else text


def markdown(args: argparse.Namespace, results: dict[str, tuple[dict, list[Row], float]]) -> str:
    sizes = list(results)
    commit = short_commit("HEAD")
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    lines = [
        SCALE_START,
        "## Scale: the organiser's pages, exports and scan manifest at sizes " + ", ".join(sizes),
        "",
        f"`bench/scale.py --sizes {','.join(sizes)}`, {time.strftime('%Y-%m-%d %H:%M %Z')}, "
        f"commit {commit}{' (with changes not committed)' if dirty else ''}; "
        f"PostgreSQL {postgres_version(args.server_url)}, gunicorn with {args.workers} sync "
        f"workers, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end. "
        f"Median of {args.requests} requests one after another after one warm-up; KB of the "
        "response; q: database queries of one request; MB: peak RSS of a gunicorn worker while "
        "the endpoint was asked.",
        "",
        "| size | " + " | ".join(sizes) + " |",
        "| --- | " + " | ".join("---" for _ in sizes) + " |",
    ]
    for key in next(iter(results.values()))[0]["data"]:
        lines.append(
            f"| {key} | " + " | ".join(f"{results[s][0]['data'][key]:,}" for s in sizes) + " |"
        )
    lines.append("| build (s) | " + " | ".join(f"{results[s][2]:.0f}" for s in sizes) + " |")
    big, small = (sizes[-1], sizes[-2]) if len(sizes) > 1 else (sizes[0], sizes[0])
    grows_with = {endpoint.name: endpoint.grows_with for endpoint in endpoints(results[big][0])}

    def data_ratio(name: str) -> str:
        key = grows_with[name]
        if not key:
            return "-"
        return f"{results[big][0]['data'][key] / results[small][0]['data'][key]:.1f} ({key})"

    lines += [
        "",
        "| endpoint | "
        + " | ".join(sizes)
        + f" | time {big}/{small} | bytes {big}/{small} | data {big}/{small} (of what) |",
        "| --- | " + " | ".join("---" for _ in sizes) + " | ---: | ---: | ---: |",
    ]
    for n, name in enumerate(row.name for row in results[sizes[0]][1]):
        rows = {s: results[s][1][n] for s in sizes}
        a, b = rows[big], rows[small]
        time_ratio = f"{a.median_ms / b.median_ms:.1f}" if a.median_ms and b.median_ms else "-"
        byte_ratio = f"{a.bytes / b.bytes:.1f}" if a.bytes and b.bytes else "-"
        lines.append(
            f"| {name} | "
            + " | ".join(cell(rows[s]) for s in sizes)
            + f" | {time_ratio} | {byte_ratio} | {data_ratio(name)} |"
        )
    lines.append(SCALE_END)
    return "\n".join(lines) + "\n"


def main() -> int:
    args = parse_args()
    results: dict[str, tuple[dict, list[Row], float]] = {}
    with tempfile.TemporaryDirectory(prefix="jubileum-bench-scale-") as var_dir:
        for size in args.sizes:
            results[size] = run_size(args, size, var_dir)
    text = markdown(args, results)
    print()
    print(text)
    if args.write:
        path = REPO / "bench" / "RESULTS.md"
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        path.write_text(with_scale_section(old, text), encoding="utf-8")
        print(f"Wrote {path}.")
    return 0 if all(not row.problem for _, rows, _ in results.values() for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
