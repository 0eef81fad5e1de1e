"""`make bench`: the production-shape benchmarks one after another, and bench/RESULTS.md.

    .venv/bin/python bench/run_all.py [--workers 4] [--signups 1000] [--tickets 2000]
        [--expenses 1000] [--page-requests 200] [--redis-url URL] [--output bench/RESULTS.md]
        [--db-prefix jubileum_bench] [--checkin-compare COMMIT [--checkin-compare-name NAME]]

Runs registration_burst.py, checkin.py and budget_dashboard.py --http in turn, all with the same
settings: gunicorn with --workers sync workers and production settings (DEBUG off) on loopback,
each on a throwaway PostgreSQL database of its own (so one benchmark's rows never weigh on the
next), Redis at --redis-url for cache and rate limits when it answers (else local memory per
worker, and RESULTS.md says so). Each script writes its figures as JSON, with the bare endpoint
measured in its own run as the yardstick; this script writes them, the machine and a few lines of
reading into --output. Exits 1 when a benchmark failed or found an unexpected answer. The sizes
keep the whole run to about two minutes on two cores; raise them for steadier figures.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import psycopg
import redis
from common import DEFAULT_SERVER_URL, PYTHON, REPO, postgres_version
from results import aims, kept_sections, render, with_section

BENCH = Path(__file__).resolve().parent
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
DEFAULT_DB_PREFIX = "jubileum_bench"
# It installs another product, so it lives apart from our own code.
PRETIX = "peers/pretix_checkin.py"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output", default=str(BENCH / "RESULTS.md"), help="where to write (bench/RESULTS.md)"
    )
    parser.add_argument("--keep-json", metavar="DIR", help="keep each benchmark's JSON in DIR")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (4)")
    parser.add_argument(
        "--server-url",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_SERVER_URL),
        help="a PostgreSQL database on a server where the throwaway databases may be made "
        "(default: postgres on 127.0.0.1; or BENCH_POSTGRES_URL)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
        help=f"Redis for cache and rate limits (REDIS_URL, else {DEFAULT_REDIS_URL}); "
        "local memory per worker when it does not answer or is empty",
    )
    parser.add_argument(
        "--prepare-threshold",
        type=int,
        default=None,
        help="prepared statements after this many runs of a query (default: off, as production)",
    )
    parser.add_argument(
        "--db-prefix",
        default=DEFAULT_DB_PREFIX,
        help="the throwaway databases are this name and it with _checkin, _budget and _pretix "
        f"added ({DEFAULT_DB_PREFIX}); pick another when someone else benchmarks on the server",
    )
    parser.add_argument(
        "--checkin-compare",
        metavar="COMMIT",
        action="append",
        default=[],
        help="the check-in also redeems with the code of this git commit, in the same run "
        "(checkin.py --compare); may be given more than once",
    )
    parser.add_argument(
        "--checkin-compare-name",
        metavar="NAME",
        action="append",
        default=[],
        help="what to call the rows of the --checkin-compare commit in the same place "
        "(default: its abbreviated hash)",
    )
    parser.add_argument("--signups", type=int, default=1000, help="sign-ups in the burst (1000)")
    parser.add_argument("--capacity", type=int, default=250, help="places for them (250)")
    parser.add_argument("--tickets", type=int, default=2000, help="tickets to check in (2000)")
    parser.add_argument("--scanners", type=int, default=8, help="concurrent scanners (8)")
    parser.add_argument("--expenses", type=int, default=1000, help="expenses in the budget (1000)")
    parser.add_argument(
        "--page-requests", type=int, default=200, help="requests per budget row (200)"
    )
    parser.add_argument(
        "--pretix",
        action="store_true",
        help="also redeem the same tickets against pretix (peers/pretix_checkin.py: installs "
        "pretix into var/bench-pretix on first use; about five minutes more)",
    )
    args = parser.parse_args()
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,50}", args.db_prefix):
        parser.error("--db-prefix: lower-case letters, digits and _, please")
    if len(args.checkin_compare_name) > len(args.checkin_compare):
        parser.error("one --checkin-compare-name per --checkin-compare, please")
    return args


def benchmarks(args: argparse.Namespace) -> list[tuple[str, str, list[str]]]:
    """(name, script, its own arguments), in the order they run and appear in RESULTS.md."""
    compare = [part for commit in args.checkin_compare for part in ("--compare", commit)]
    compare += [part for name in args.checkin_compare_name for part in ("--compare-name", name)]
    return [
        (
            "Registration burst",
            "registration_burst.py",
            ["--attempts", str(args.signups), "--capacity", str(args.capacity)],
        ),
        (
            "Check-in at the door",
            "checkin.py",
            ["--tickets", str(args.tickets), "--scanners", str(args.scanners), *compare],
        ),
        (
            "Budget dashboard and API",
            "budget_dashboard.py",
            ["--http", "--expenses", str(args.expenses), "--requests", str(args.page_requests)],
        ),
        *(
            [
                (
                    "Check-in: Jubileum and pretix",
                    PRETIX,
                    ["--tickets", str(args.tickets), "--scanners", str(args.scanners)],
                )
            ]
            if args.pretix
            else []
        ),
    ]


# pretix_checkin.py keeps its own Redis database (it empties it) and has no prepared statements.
OWN_STACK = {PRETIX: ("--workers", "--server-url")}
# Each script's throwaway database: --db-prefix and this.
DB_SUFFIX = {
    "registration_burst.py": "",
    "checkin.py": "_checkin",
    "budget_dashboard.py": "_budget",
    PRETIX: "_pretix",
}


def stack_for(script: str, stack: list[str]) -> list[str]:
    """The stack options (flag, value pairs) that `script` takes."""
    wanted = OWN_STACK.get(script)
    pairs = list(zip(stack[::2], stack[1::2], strict=True))
    return [
        part for flag, value in pairs if wanted is None or flag in wanted for part in (flag, value)
    ]


def redis_answers(url: str) -> str:
    """'' when Redis answers at `url`, else why not."""
    if not url:
        return "no Redis URL given"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except (redis.exceptions.RedisError, OSError, ValueError) as error:
        return str(error) or type(error).__name__
    return ""


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "CPU model unknown"


def machine(
    args: argparse.Namespace, postgres: str, cache: str, loads: tuple[float, float], seconds: float
) -> dict[str, str]:
    prepared = (
        "off (production's default)"
        if args.prepare_threshold is None
        else f"after {args.prepare_threshold} runs of a query"
    )
    return {
        "CPU": f"{os.cpu_count()} cores, {cpu_model()}",
        "Load average (1 min)": f"{loads[0]:.2f} at the start, {loads[1]:.2f} at the end",
        "System": platform.platform(terse=True),
        "Python": platform.python_version(),
        "Django": version("django"),
        "gunicorn": f"{version('gunicorn')}, {args.workers} sync workers, "
        "jubileum/gunicorn.conf.py (access log written to /dev/null, no worker recycling)",
        "Settings": "production (DEBUG off) plus the bare endpoint, bench/settings.py; "
        "per-address rate limits raised out of reach (every client is 127.0.0.1)",
        "PostgreSQL": f"{postgres}, one throwaway database per benchmark",
        "Cache and rate limits": cache,
        "Prepared statements": prepared,
        "Run time": f"{seconds:.0f} s for all {len(benchmarks(args))}",
    }


def closing(
    documents: list[dict], cores: int | None, loads: tuple[float, float], redis_url: str
) -> list[str]:
    lines = [
        f"gunicorn, PostgreSQL, Redis and the client threads all ran on these {cores} cores, "
        f"beside whatever else the machine was doing (load average {loads[0]:.1f} at the start, "
        f"{loads[1]:.1f} at the end): ratios hold better than milliseconds, and figures compare "
        "only with runs on the same machine.",
    ]
    if not redis_url:
        lines.append(
            "Without Redis each worker counted rate limits in its own memory, with no round trip: "
            "the scans and sign-ups did a little less than in production."
        )
    if any(reached < aim for document in documents for _, reached, aim in aims(document)):
        lines.append(
            "Where the check-in stays under its aim, and what it would take: bench/README.md, "
            "“What a redeem costs, and where the time went”."
        )
    return lines


def main() -> int:
    args = parse_args()
    try:
        postgres = postgres_version(args.server_url)
    except psycopg.Error as error:
        print(f"PostgreSQL does not answer at {args.server_url}: {error}", file=sys.stderr)
        return 2
    why_not = redis_answers(args.redis_url)
    redis_url = "" if why_not else args.redis_url
    if why_not:
        cache = f"local memory per worker (Redis at {args.redis_url}: {why_not})"
    else:
        cache = f"Redis {redis_url}"
    print(f"PostgreSQL {postgres}; cache and rate limits: {cache}", flush=True)
    stack = ["--workers", str(args.workers), "--server-url", args.server_url]
    stack += ["--redis-url", redis_url]
    if args.prepare_threshold is not None:
        stack += ["--prepare-threshold", str(args.prepare_threshold)]

    load_at_start = os.getloadavg()[0]
    started = time.monotonic()
    when = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    documents, failures = [], []
    with tempfile.TemporaryDirectory(prefix="jubileum-bench-json-") as scratch:
        folder = Path(args.keep_json or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        for name, script, own in benchmarks(args):
            path = folder / f"{Path(script).stem}.json"
            path.unlink(missing_ok=True)
            print(f"\n== {name}: bench/{script} {' '.join(own)}", flush=True)
            command = [PYTHON, str(BENCH / script), *own, *stack_for(script, stack)]
            command += ["--db-name", args.db_prefix + DB_SUFFIX[script], "--json", str(path)]
            done = subprocess.run(command, cwd=REPO, check=False)
            if path.exists():
                documents.append(json.loads(path.read_text(encoding="utf-8")))
            else:
                failures.append(
                    f"{name}: bench/{script} exited with status {done.returncode} before writing "
                    "its figures (its output says why)."
                )
    loads = (load_at_start, os.getloadavg()[0])
    text = render(
        documents,
        when=when,
        machine=machine(args, postgres, cache, loads, time.monotonic() - started),
        failures=failures,
        closing=closing(documents, os.cpu_count(), loads, redis_url),
    )
    # The sections of bench/scale.py --write and bench/scanner_field.py --write stay as they were.
    output = Path(args.output)
    if output.exists():
        for kept, start, end in kept_sections(output.read_text(encoding="utf-8")):
            text = with_section(text, kept, start, end)
    output.write_text(text, encoding="utf-8")
    print(f"\nWrote {args.output}.")
    return 0 if not failures and all(document["ok"] for document in documents) else 1


if __name__ == "__main__":
    sys.exit(main())
