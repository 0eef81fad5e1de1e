"""Time the budget summary, the budget API and the dashboard page with many expenses.

    DJANGO_DEBUG=1 .venv/bin/python bench/budget_dashboard.py [--iterations 20] [--sizes 100,1000]

Everything runs in this process against a throwaway SQLite database in a temporary directory
(DATABASE_URL is ignored, so a configured server is never written to). Each size gets its own
programme and budget; `/healthz` is timed in the same round as the baseline, so the ratios hold
across machines even where the milliseconds do not. See bench/README.md.
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import tempfile
import time

from common import parse_args, setup_django

WARMUP = 2


def make_budget(size: int, user):
    """A programme with a € 8,000 budget, 12 activities and `size` expenses in every status."""
    from decimal import Decimal

    from django.utils import timezone

    from budget.models import Budget, Expense, Income
    from events.models import Programme, ProgrammeRole
    from jubileum.demo import synthetic_activities

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


def time_call(function, iterations: int) -> tuple[float, int]:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARMUP):
        function()
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        function()
    timings = []
    for _ in range(iterations):
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), len(queries)


def main() -> int:
    args = parse_args(
        __doc__.splitlines()[0], iterations=20, sizes="100,1000,10000", what="expenses"
    )
    with tempfile.TemporaryDirectory(prefix="jubileum-bench-") as var_dir:
        setup_django(var_dir)

        from django.contrib.auth import get_user_model
        from django.test import Client
        from django.urls import NoReverseMatch, reverse

        from budget.services import summarise

        user = get_user_model().objects.create_user(username="bench", email="bench@example.org")
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        rows = []
        failed = []
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
            for name, function in measured:
                median, queries = time_call(function, args.iterations)
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
    return 1 if growing or failed else 0


if __name__ == "__main__":
    sys.exit(main())
