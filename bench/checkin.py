"""Door check-in under load: 8 scanners redeeming tickets against gunicorn on PostgreSQL.

    .venv/bin/python bench/checkin.py [--tickets 2000] [--scanners 8] [--workers 4]
        [--db-name NAME] [--redis-url redis://127.0.0.1:6379/15] [--prepare-threshold 5]
        [--compare COMMIT [--compare-name NAME]]... [--json PATH]

Creates a throwaway PostgreSQL database (`jubileum_bench_checkin` or --db-name), migrates it,
makes one activity whose check-in is open with --tickets confirmed registrations (parties of
1-4) and --scanners scanner devices (each with its own token), and starts gunicorn (--workers
sync workers) on a free loopback port with production settings plus one bare endpoint
(`bench/settings.py`). It then times, each with --scanners client threads:

- `GET /api/bench/bare`, --tickets times: a plain Django view answering JSON without touching
  the database, through the same workers and middleware: the yardstick;
- `GET /healthz`, --tickets times: the health check (one query), as older runs compared with;
- `POST /api/v1/checkin/redeem` for every ticket once (all should answer `ok`);
- the same again, each ticket from another device (all should answer `already_checked_in`);
- the bare endpoint once more: the yardstick is both bare bursts together, so a machine that
  gets busier or quieter during the run moves it as much as the scans.

With --compare COMMIT (as often as wanted) the code of that git commit is served as well, beside
this tree's, on the same database (its own gunicorn, taken from git into a temporary directory),
with tickets and devices of its own. The first scans go this tree, then each commit; the repeats
in the opposite order, so that a machine getting busier or quieter weighs on all alike. The
notes give each version's scans/s ÷ each later one's.

and prints requests, errors (non-2xx), p50/p95/p99 latency in ms, requests per second and the
ratio of scans/s to the bare endpoint (and to /healthz), plus the results counted; it exits 1
when a result is not the expected one. gunicorn is stopped and the database dropped at the end.
The plumbing is `common.served_on_postgres`, as for the other benchmarks. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass

from common import (
    BARE,
    Burst,
    DatabaseExists,
    Served,
    add_stack_arguments,
    bare_burst,
    check_stack_arguments,
    combined,
    cpu_line,
    manage,
    run_burst,
    served_from_args,
    served_from_commit,
    short_commit,
    write_bursts_json,
)

DB_NAME = "jubileum_bench_checkin"
# The aim for the door (bench/README.md): at least half the bare endpoint's requests per second.
AIM = 0.5

SET_UP = """
import datetime as dt, json
from django.utils import timezone
from events.models import Activity, Programme
from registrations.checkin import devices
from registrations.models import Registration
today = timezone.localdate()
programme = Programme.objects.create(
    name="Benchmark", slug="{programme}", starts_on=today, ends_on=today + dt.timedelta(days=1),
    organiser_name="Gemeente Soest", organiser_email="jubileum@example.org", is_public=True,
)
starts = timezone.now() + dt.timedelta(minutes=30)
activity = Activity.objects.create(
    programme=programme, title="Open dag", slug="open-dag", summary="Benchmark",
    starts_at=starts, ends_at=starts + dt.timedelta(hours=3), location_name="Kazerne Soest",
    capacity=None, max_party_size=4, status=Activity.Status.PUBLISHED,
)
now = timezone.now()
rows = Registration.objects.bulk_create(
    Registration(
        activity=activity, status="confirmed", contact_name=f"Inwoner {n}",
        email=f"inwoner{n}@example.org", party_size=1 + n % 4, consent_at=now, confirmed_at=now,
    )
    for n in range({tickets})
)
tokens = [
    devices.create_device(programme, [activity.pk], name=f"Ingang {n}", with_token=True).token
    for n in range({scanners})
]
print(json.dumps({"activity": activity.pk, "codes": [r.ticket_code for r in rows],
                  "tokens": tokens}))
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000, help="tickets to redeem (2000)")
    parser.add_argument("--scanners", type=int, default=8, help="concurrent scanners (8)")
    parser.add_argument(
        "--compare",
        metavar="COMMIT",
        action="append",
        default=[],
        help="also redeem with the code of this git commit, in the same run (see above); "
        "may be given more than once",
    )
    parser.add_argument(
        "--compare-name",
        metavar="NAME",
        action="append",
        default=[],
        help="what to call the rows of the --compare commit in the same place (default: its "
        "abbreviated hash)",
    )
    add_stack_arguments(parser, db_name=DB_NAME)
    args = parser.parse_args()
    check_stack_arguments(parser, args)
    if not 1 <= args.tickets <= 20_000 or not 1 <= args.scanners <= 64:
        parser.error("--tickets 1-20000 and --scanners 1-64, please")
    if len(args.compare_name) > len(args.compare):
        parser.error("one --compare-name per --compare, please")
    try:
        commits = [short_commit(ref) for ref in args.compare]
    except ValueError as error:
        parser.error(f"--compare: {error}")
    args.compare_name += commits[len(args.compare_name) :]
    return args


def redeem_request(base: str, token: str, activity: int, code: str) -> urllib.request.Request:
    body = {"code": f"JUB1:{code}", "activity": activity, "nonce": str(uuid.uuid4())}
    return urllib.request.Request(
        f"{base}/api/v1/checkin/redeem",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )


@dataclass(frozen=True)
class Tickets:
    """What make_tickets made: the activity, a ticket code per registration, a token per device."""

    activity: int
    codes: list[str]
    tokens: list[str]


def make_tickets(
    served: Served, tickets: int, scanners: int, *, programme: str = "benchmark"
) -> Tickets:
    """One activity with `tickets` confirmed registrations and `scanners` devices (SET_UP), in
    a programme of its own with the slug `programme`."""
    code = (
        SET_UP.replace("{tickets}", str(tickets))
        .replace("{scanners}", str(scanners))
        .replace("{programme}", programme)
    )
    data = json.loads(manage(served.env, "shell", "-c", code).strip().splitlines()[-1])
    return Tickets(data["activity"], data["codes"], data["tokens"])


FIRST = "POST redeem, first scan"
AGAIN = "POST redeem, repeat (other device)"


def redeem_burst(name: str, base: str, tickets: Tickets, threads: int, *, device: int) -> Burst:
    """Every ticket redeemed once, the n-th from device n + `device`, from `threads` client
    threads."""
    tokens, scanners = tickets.tokens, len(tickets.tokens)
    return run_burst(
        Burst(name),
        [
            redeem_request(base, tokens[(n + device) % scanners], tickets.activity, code)
            for n, code in enumerate(tickets.codes)
        ],
        threads,
    )


def redeem_bursts(base: str, tickets: Tickets, threads: int) -> tuple[Burst, Burst]:
    """Every ticket redeemed once (all `ok`), then again from the next device (all
    `already_checked_in`), each burst from `threads` client threads."""
    first = redeem_burst(FIRST, base, tickets, threads, device=0)
    again = redeem_burst(AGAIN, base, tickets, threads, device=1)
    return first, again


def row(burst: Burst, width: int = 40) -> str:
    return (
        f"{burst.name:<{width}} {len(burst.latencies_ms):>7} {burst.errors:>6} "
        f"{burst.percentile(50):>7.1f} {burst.percentile(95):>7.1f} {burst.percentile(99):>7.1f} "
        f"{burst.throughput:>8.1f}"
    )


@dataclass
class Version:
    """The code whose scans are timed: this tree (`commit` None) or a --compare commit."""

    name: str
    commit: str | None
    tickets: Tickets
    base: str = ""
    first: Burst | None = None
    again: Burst | None = None

    def label(self, burst: str) -> str:
        return burst if self.commit is None else f"{burst} ({self.name})"


def report(
    args: argparse.Namespace,
    bare: tuple[Burst, Burst],
    healthz: Burst,
    versions: list[Version],
) -> tuple[bool, list[str]]:
    """Prints the figures; returns whether every result was the expected one, and the lines
    for the JSON's notes: the results counted and, when commits were compared, each version's
    requests per second ÷ each later one's."""
    cache = f"Redis at {args.redis_url}" if args.redis_url else "local memory per worker"
    prepared = (
        f"prepared statements after {args.prepare_threshold} runs"
        if args.prepare_threshold is not None
        else "no prepared statements"
    )
    print(
        f"\nCheck-in: {args.tickets} tickets, {args.scanners} concurrent scanners (one device "
        f"each); gunicorn with {args.workers} sync workers; PostgreSQL, {prepared}; "
        f"cache: {cache}."
    )
    for version in versions[1:]:
        print(f"Compared with commit {version.commit} ({version.name}).")
    redeems = [burst for version in versions for burst in (version.first, version.again)]
    bursts = (bare[0], healthz, *redeems, bare[1])
    width = max(len(burst.name) for burst in bursts)
    print(
        f"\n{'burst':<{width}} {'reqs':>7} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'req/s':>8}"
    )
    for burst in bursts:
        print(row(burst, width))
    for burst in bursts:
        if line := cpu_line(burst):
            print(f"{burst.name}\n{line}")
    yardstick = combined("bare", bare).throughput
    print(f"\nbare endpoint, both bursts: {yardstick:.1f} req/s")
    lines = []
    for burst in redeems:
        print(
            f"{burst.name} / bare endpoint throughput: {burst.throughput / yardstick:.2f}"
            f"  (/ healthz: {burst.throughput / healthz.throughput:.2f})"
        )
        results = Counter(body.get("result") or body.get("code") for body in burst.bodies)
        counted = ", ".join(f"{k} x{n}" for k, n in sorted(results.items()))
        print(f"  results: {counted}")
        lines.append(f"{burst.name}: {counted}")
    for n, ours in enumerate(versions):
        for theirs in versions[n + 1 :]:
            first = ours.first.throughput / theirs.first.throughput
            again = ours.again.throughput / theirs.again.throughput
            ratio = f"{ours.name} ÷ {theirs.name}: {first:.2f}× (first), {again:.2f}× (repeat)"  # noqa: RUF001
            print(ratio)
            lines.append(ratio)
    ok = not any(burst.errors for burst in bursts) and all(
        Counter(b.get("result") for b in version.first.bodies) == {"ok": args.tickets}
        and Counter(b.get("result") for b in version.again.bodies)
        == {"already_checked_in": args.tickets}
        for version in versions
    )
    if not ok:
        print(
            "UNEXPECTED: want every first scan ok, every repeat already_checked_in.",
            file=sys.stderr,
        )
    return ok, lines


def main() -> int:
    args = parse_args()
    try:
        with served_from_args(args) as served, contextlib.ExitStack() as servers:
            print(f"Making {args.tickets} tickets ...", flush=True)
            versions = [
                Version("this tree", None, make_tickets(served, args.tickets, args.scanners))
            ]
            versions[0].base = served.base
            for n, (commit, name) in enumerate(zip(args.compare, args.compare_name, strict=True)):
                print(f"Making {args.tickets} tickets for {name} ...", flush=True)
                tickets = make_tickets(
                    served, args.tickets, args.scanners, programme=f"benchmark-{n + 1}"
                )
                print(f"Serving commit {commit} ({name}) ...", flush=True)
                version = Version(name, commit, tickets)
                version.base = servers.enter_context(served_from_commit(served, commit))
                versions.append(version)
            base = served.base

            before = bare_burst(base, f"GET {BARE} (no query)", args.tickets, args.scanners)
            healthz = run_burst(
                Burst("GET /healthz (one query)"),
                [urllib.request.Request(f"{base}/healthz")] * args.tickets,
                args.scanners,
            )
            # First scans in one order, repeats in the other (this tree, the commits, the
            # commits backwards, this tree): a drift in the machine's load weighs on all alike.
            for version in versions:
                version.first = redeem_burst(
                    version.label(FIRST), version.base, version.tickets, args.scanners, device=0
                )
            for version in reversed(versions):
                version.again = redeem_burst(
                    version.label(AGAIN), version.base, version.tickets, args.scanners, device=1
                )
            servers.close()
            after = bare_burst(base, f"GET {BARE} (no query), again", args.tickets, args.scanners)
            bare = (before, after)
            ok, lines = report(args, bare, healthz, versions)
            if args.json:
                ours = versions[0]
                write_bursts_json(
                    args,
                    served,
                    benchmark="checkin",
                    title="Check-in at the door",
                    setup={
                        "tickets": args.tickets,
                        "scanners": args.scanners,
                        **(
                            {"compared with": ", ".join(v.name for v in versions[1:])}
                            if len(versions) > 1
                            else {}
                        ),
                    },
                    caption=f"{args.tickets} tickets redeemed by {args.scanners} scanners "
                    "at once, then scanned again from another device",
                    bare=bare,
                    rows=[
                        healthz.figures(),
                        ours.first.figures(aim=AIM),
                        *(v.first.figures() for v in versions[1:]),
                        *(v.again.figures() for v in reversed(versions[1:])),
                        ours.again.figures(aim=AIM),
                    ],
                    ok=ok,
                    notes=lines,
                )
    except DatabaseExists as exists:
        print(f"Database {exists} exists already; drop it first if it is a leftover.")
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
