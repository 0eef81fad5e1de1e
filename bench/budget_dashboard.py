"""Time the budget summary, the budget API and the dashboard page with many expenses.

    DJANGO_DEBUG=1 .venv/bin/python bench/budget_dashboard.py [--iterations 20] [--sizes 100,1000]
    .venv/bin/python bench/budget_dashboard.py --http [--expenses 1000] [--requests 200]
        [--threads 8] [--workers 4] [--redis-url redis://127.0.0.1:6379/15] [--json PATH]

In process (the default), everything runs in this process against a throwaway SQLite database
in a temporary directory (DATABASE_URL is ignored, so a configured server is never written to).
Each size gets its own programme and budget; `/healthz` is timed in the same round as the
baseline, so the ratios hold across machines even where the milliseconds do not.

With --http, one budget of --expenses expenses is made in a throwaway PostgreSQL database served
by gunicorn with production settings (`common.served_on_postgres`, as for the check-in and
registration benchmarks), and --threads client threads send --bare-requests requests to the bare
endpoint (the yardstick), --requests each to the budget API and the first page of the expenses
API (with an API token) and to the organiser's dashboard page (with a logged-in session), and
--bare-requests to the bare endpoint again.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
import urllib.request

from common import (
    BARE,
    Burst,
    DatabaseExists,
    add_size_arguments,
    add_stack_arguments,
    bare_burst,
    check_size_arguments,
    check_stack_arguments,
    combined,
    figures,
    manage,
    run_burst,
    served_from_args,
    setup_django,
    table,
    write_bursts_json,
    write_json,
)

WARMUP = 2
DB_NAME = "jubileum_bench_budget"

# Run by `manage.py shell` against the served database: the budget, an API token and a session.
SET_UP = """
import json, sys
sys.path.insert(0, "bench")
from budget_dashboard import make_budget
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from jubileum.lib.apitokens import create_token
user = get_user_model().objects.create_user(username="bench", email="bench@example.org")
budget = make_budget({expenses}, user)
_, token = create_token(user, "benchmark")
client = Client()
client.force_login(user)
slug = budget.programme.slug
print(json.dumps({
    "slug": slug, "token": token,
    "session": client.cookies[settings.SESSION_COOKIE_NAME].value,
    "cookie": settings.SESSION_COOKIE_NAME,
    "dashboard": reverse("budget:dashboard", kwargs={"programme_slug": slug}),
}))
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--http",
        action="store_true",
        help="time the pages over HTTP against gunicorn on PostgreSQL (the production shape) "
        "instead of in this process",
    )
    add_size_arguments(parser, iterations=20, sizes="100,1000,10000", what="expenses (in process)")
    parser.add_argument(
        "--expenses", type=int, default=1000, help="expenses of the budget (--http; 1000)"
    )
    parser.add_argument("--requests", type=int, default=200, help="requests per row (--http; 200)")
    parser.add_argument(
        "--bare-requests",
        type=int,
        default=1000,
        help="requests in each burst of the bare endpoint (--http; 1000: a short burst is noisy)",
    )
    parser.add_argument("--threads", type=int, default=8, help="client threads (--http; 8)")
    add_stack_arguments(parser, db_name=DB_NAME)
    args = parser.parse_args()
    check_size_arguments(parser, args)
    check_stack_arguments(parser, args)
    if not 1 <= args.expenses <= 100_000:
        parser.error("--expenses 1-100000, please")
    if not 1 <= args.requests <= 10_000 or not 1 <= args.bare_requests <= 20_000:
        parser.error("--requests 1-10000 and --bare-requests 1-20000, please")
    if not 1 <= args.threads <= 64:
        parser.error("--threads 1-64, please")
    return args


def make_budget(size: int, user):
    """A programme with a € 8,000 budget, 12 activities and `size` expenses in every status."""
    from decimal import Decimal

    from django.utils import timezone

    from budget.models import Budget, Expense, Income
    from demo.synthetic import synthetic_activities
    from events.models import Programme, ProgrammeRole

    today = timezone.localdate()
    programme = Programme.objects.create(
        name=f"Benchmark met {size} uitgaven",
        slug=f"bench-budget-{size}",
        starts_on=today,
        ends_on=today + dt.timedelta(days=365),
        organiser_name="Gemeente Soest",
        organiser_email="jubileum@example.org",
        is_public=True,
    )
    ProgrammeRole.objects.create(user=user, programme=programme, role="organiser")
    budget = Budget.objects.create(programme=programme, total=Decimal("8000.00"))
    activities = synthetic_activities(programme, 12)
    categories = list(budget.categories.all())
    statuses = list(Expense.Status)
    rates = [0, 9, 21]
    expenses = []
    for n in range(size):
        amount = Decimal(1 + n % 997) + Decimal(n % 100) / 100
        status = statuses[n % 4]
        expenses.append(
            Expense(
                budget=budget,
                category=categories[n % len(categories)],
                activity=activities[n % 12] if n % 5 else None,
                supplier=f"Leverancier {n % 40}",
                description=f"Regel {n}",
                date=today - dt.timedelta(days=n % 200),
                amount_excl_vat=amount,
                vat_rate=rates[n % 3],
                vat_amount=(amount * rates[n % 3] / 100).quantize(Decimal("0.01")),
                status=status,
                paid_on=today - dt.timedelta(days=n % 100) if status == "paid" else None,
                recorded_by=user,
            )
        )
    Expense.objects.bulk_create(expenses, batch_size=2000)
    Income.objects.bulk_create(
        Income(
            budget=budget,
            kind=Income.Kind.TICKETS,
            activity=activities[n % 12],
            description=f"Kaartverkoop {n}",
            date=today,
            amount=Decimal("27.50"),
            source=f"bench:{size}:{n}",
        )
        for n in range(max(1, size // 10))
    )
    return budget


def time_call(function, iterations: int, failed: list[str]) -> tuple[list[float], int, int]:
    """Timings in ms of `iterations` runs after the warm-up, the queries of one run, and the
    failures (answers other than the expected status) among the timed runs."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARMUP):
        function()
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        function()
    failures_before = len(failed)
    timings = []
    for _ in range(iterations):
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1000)
    return timings, len(queries), len(failed) - failures_before


def in_process(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="jubileum-bench-") as var_dir:
        setup_django(var_dir)

        from django.contrib.auth import get_user_model
        from django.test import Client
        from django.urls import NoReverseMatch, reverse

        from budget.summary import summarise

        user = get_user_model().objects.create_user(username="bench", email="bench@example.org")
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        rows = []
        tables = []
        failed: list[str] = []
        for size in args.sizes:
            budget = make_budget(size, user)
            slug = budget.programme.slug

            def get(url: str, *, expect: int = 200):
                def run() -> None:
                    response = client.get(url)
                    if response.status_code != expect:
                        failed.append(f"{url} answered {response.status_code}")

                return run

            measured = [
                ("baseline /healthz", get("/healthz")),
                ("summarise()", lambda budget=budget: summarise(budget)),
                ("budget API", get(f"/api/v1/programmes/{slug}/budget")),
                ("expenses API, page 1", get(f"/api/v1/programmes/{slug}/budget/expenses")),
            ]
            try:
                page = reverse("budget:dashboard", kwargs={"programme_slug": slug})
            except NoReverseMatch:
                page = None
            if page is not None:
                measured.append(("dashboard page", get(page)))
            baseline = None
            size_figures = []
            for name, function in measured:
                timings, queries, errors = time_call(function, args.iterations, failed)
                median = statistics.median(timings)
                baseline = baseline or median
                rows.append(
                    {
                        "row": name,
                        "size": size,
                        "median_ms": median,
                        "ratio": median / baseline,
                        "queries": queries,
                    }
                )
                one_by_one = figures(name, timings, errors, sum(timings) / 1000)
                size_figures.append({**one_by_one, "queries": queries})
            tables.append(
                table(
                    f"{size} expenses, in process, one request at a time",
                    size_figures[0],
                    size_figures,
                    yardstick="/healthz",
                )
            )

    print(f"{'row':<24} {'expenses':>8} {'median ms':>10} {'x baseline':>11} {'queries':>8}")
    for row in rows:
        print(
            f"{row['row']:<24} {row['size']:>8} {row['median_ms']:>10.2f} "
            f"{row['ratio']:>11.1f} {row['queries']:>8}"
        )
    print(f"\n{args.iterations} timed runs per row after {WARMUP} warm-up runs.")

    by_row: dict[str, list[int]] = {}
    for row in rows:
        by_row.setdefault(row["row"], []).append(row["queries"])
    growing = [name for name, counts in by_row.items() if len(set(counts)) > 1]
    for name in growing:
        print(f"Query count grows with N: {name} {by_row[name]}", file=sys.stderr)
    for failure in sorted(set(failed)):
        print(failure, file=sys.stderr)
    if args.json:
        write_json(
            args.json,
            benchmark="budget_in_process",
            title="Budget, in process",
            setup={"database": "SQLite", "iterations": args.iterations, "sizes": args.sizes},
            tables=tables,
            ok=not (growing or failed),
            notes=[f"query count grows with N: {name} {by_row[name]}" for name in growing],
        )
    return 1 if growing or failed else 0


def over_http(args: argparse.Namespace) -> int:
    with served_from_args(args) as served:
        print(f"Making a budget with {args.expenses} expenses ...", flush=True)
        code = SET_UP.replace("{expenses}", str(args.expenses))
        data = json.loads(manage(served.env, "shell", "-c", code).strip().splitlines()[-1])
        base, slug = served.base, data["slug"]
        by_token = {"Authorization": f"Bearer {data['token']}"}
        by_session = {"Cookie": f"{data['cookie']}={data['session']}"}

        def burst(name: str, path: str, headers: dict[str, str]) -> Burst:
            requests = [urllib.request.Request(f"{base}{path}", headers=headers)] * args.requests
            return run_burst(Burst(name), requests, args.threads)

        before = bare_burst(base, f"GET {BARE} (no query)", args.bare_requests, args.threads)
        api = burst("GET budget API (token)", f"/api/v1/programmes/{slug}/budget", by_token)
        expenses = burst(
            "GET expenses API, page 1 (token)",
            f"/api/v1/programmes/{slug}/budget/expenses",
            by_token,
        )
        page = burst("GET dashboard page (session)", data["dashboard"], by_session)
        after = bare_burst(base, f"GET {BARE} (no query), again", args.bare_requests, args.threads)
        bare = (before, after)
        measured = (before, api, expenses, page, after)
        print(
            f"\nBudget: {args.expenses} expenses; {args.requests} requests per row from "
            f"{args.threads} client threads; gunicorn with {args.workers} sync workers; PostgreSQL."
        )
        print(
            f"\n{'burst':<36} {'reqs':>6} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} "
            f"{'p99 ms':>7} {'req/s':>8} {'/ bare':>7}"
        )
        yardstick = combined("bare", bare).throughput
        for one in measured:
            print(
                f"{one.name:<36} {len(one.latencies_ms):>6} {one.errors:>6} "
                f"{one.percentile(50):>7.1f} {one.percentile(95):>7.1f} "
                f"{one.percentile(99):>7.1f} {one.throughput:>8.1f} "
                f"{one.throughput / yardstick:>7.2f}"
            )
        print(f"\nbare endpoint, both bursts: {yardstick:.1f} req/s")
        answers = [
            f"{one.name}: " + ", ".join(f"{s} x{n}" for s, n in sorted(one.statuses.items()))
            for one in measured
            if one.errors
        ]
        ok = not answers
        for line in answers:
            print(f"UNEXPECTED: {line}", file=sys.stderr)
        if args.json:
            write_bursts_json(
                args,
                served,
                benchmark="budget",
                title="Budget dashboard and API",
                setup={
                    "expenses": args.expenses,
                    "requests per row": args.requests,
                    "client threads": args.threads,
                },
                caption=f"a budget with {args.expenses} expenses; {args.requests} requests per "
                f"row from {args.threads} client threads",
                bare=bare,
                rows=[api.figures(), expenses.figures(), page.figures()],
                ok=ok,
                notes=answers,
            )
    return 0 if ok else 1


def main() -> int:
    args = parse_args()
    if not args.http:
        return in_process(args)
    try:
        return over_http(args)
    except DatabaseExists as exists:
        print(f"Database {exists} exists already; drop it first if it is a leftover.")
        return 2


if __name__ == "__main__":
    sys.exit(main())
