"""A burst of concurrent sign-ups against the app served by gunicorn on PostgreSQL.

    .venv/bin/python bench/registration_burst.py [--attempts 400] [--capacity 100] [--threads 32]
        [--workers 4] [--redis-url redis://127.0.0.1:6379/15] [--json PATH]

Creates a throwaway PostgreSQL database (`jubileum_bench` on the server of --server-url),
migrates it, makes one activity with --capacity places, and starts gunicorn (--workers sync
workers, production settings: DJANGO_DEBUG=0) on a free loopback port. It then times, each from
a pool of --threads client threads, --attempts requests to the bare endpoint (a plain Django
view, no query: the yardstick), to GET /healthz (one query), --attempts sign-ups through
POST /api/v1/activities/{id}/registrations and the bare endpoint once more, and prints persons
confirmed against capacity, the waitlist, errors (non-2xx answers), p50/p95 latency, throughput
and its ratio to /healthz and to the bare endpoint (both of its bursts together). gunicorn is
stopped and the database dropped at the end, whatever happens. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from collections import Counter

import psycopg
from common import (
    BARE,
    Burst,
    DatabaseExists,
    add_stack_arguments,
    bare_burst,
    check_stack_arguments,
    combined,
    manage,
    run_burst,
    served_from_args,
    write_bursts_json,
)

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
    add_stack_arguments(parser, db_name=DB_NAME)
    args = parser.parse_args()
    check_stack_arguments(parser, args)
    if not 1 <= args.attempts <= MAX_ATTEMPTS:
        parser.error(f"--attempts must be between 1 and {MAX_ATTEMPTS}")
    if not 1 <= args.threads <= 256 or args.capacity < 1:
        parser.error("--threads 1-256 and --capacity >= 1, please")
    return args


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


def report(
    args: argparse.Namespace,
    bare: tuple[Burst, Burst],
    healthz: Burst,
    signups: Burst,
    by_status: dict,
) -> tuple[bool, list[str]]:
    """Prints the figures; returns whether the outcome was the expected one, and its lines."""
    print(
        f"\nRegistration burst: {args.attempts} sign-ups (party of 1) for {args.capacity} places; "
        f"{args.threads} client threads; gunicorn with {args.workers} sync workers; PostgreSQL."
    )
    print(f"\n{'burst':<34} {'requests':>8} {'errors':>7} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>8}")
    for burst in (bare[0], healthz, signups, bare[1]):
        print(
            f"{burst.name:<34} {len(burst.latencies_ms):>8} {burst.errors:>7} "
            f"{burst.percentile(50):>8.1f} {burst.percentile(95):>8.1f} {burst.throughput:>8.1f}"
        )
    yardstick = combined("bare", bare).throughput
    ratio = signups.throughput / healthz.throughput
    print(f"\nsign-up throughput / healthz throughput: {ratio:.2f}")
    print(f"sign-up throughput / bare endpoint throughput: {signups.throughput / yardstick:.2f}")
    confirmed = by_status.get("confirmed", (0, 0))[1]
    waitlisted_parties, waitlisted = by_status.get("waitlisted", (0, 0))
    # Every sign-up taken answers alike (the outcome goes by e-mail): the error codes, or taken.
    answered = Counter(body.get("code", "taken") for body in signups.bodies)
    lines = [
        f"persons confirmed: {confirmed} of {args.capacity} places",
        f"waitlisted: {waitlisted_parties} parties, {waitlisted} persons",
        "answers: " + ", ".join(f"{s} x{n}" for s, n in sorted(signups.statuses.items())),
        "sign-up results: " + ", ".join(f"{k} x{n}" for k, n in sorted(answered.items())),
    ]
    print("\n".join(lines))
    expected_confirmed = min(args.capacity, args.attempts)
    ok = (
        confirmed == expected_confirmed
        and confirmed + waitlisted == args.attempts
        and not any(burst.errors for burst in (*bare, healthz, signups))
    )
    if not ok:
        print(
            f"UNEXPECTED: want {expected_confirmed} confirmed, the rest waitlisted, no errors.",
            file=sys.stderr,
        )
    return ok, lines


def main() -> int:
    args = parse_args()
    try:
        with served_from_args(args) as served:
            code = CREATE_ACTIVITY.replace("{capacity}", str(args.capacity))
            activity_id = int(manage(served.env, "shell", "-c", code).strip().splitlines()[-1])
            before = bare_burst(served.base, f"GET {BARE} (no query)", args.attempts, args.threads)
            healthz = run_burst(
                Burst("GET /healthz (one query)"),
                [urllib.request.Request(f"{served.base}/healthz")] * args.attempts,
                args.threads,
            )
            signups = run_burst(
                Burst("POST sign-up (API)"),
                [sign_up_request(served.base, activity_id, n) for n in range(args.attempts)],
                args.threads,
            )
            after = bare_burst(served.base, f"GET {BARE}, again", args.attempts, args.threads)
            bare = (before, after)
            ok, lines = report(
                args, bare, healthz, signups, counts(served.database_url, activity_id)
            )
            if args.json:
                write_bursts_json(
                    args,
                    served,
                    benchmark="registration_burst",
                    title="Registration burst",
                    setup={
                        "sign-ups": args.attempts,
                        "places": args.capacity,
                        "client threads": args.threads,
                    },
                    caption=f"{args.attempts} sign-ups of one person for {args.capacity} places, "
                    f"{args.threads} client threads",
                    bare=bare,
                    rows=[healthz.figures(), signups.figures()],
                    ok=ok,
                    notes=lines,
                )
    except DatabaseExists as exists:
        print(f"Database {exists} exists already; drop it first if it is a leftover.")
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
