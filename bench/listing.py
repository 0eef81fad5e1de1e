"""Time the programme listing and the activities API with few and with many activities.

    DJANGO_DEBUG=1 .venv/bin/python bench/listing.py [--iterations 30] [--sizes 8,500]

Everything runs in this process through Django's test client against a throwaway SQLite database
in a temporary directory (DATABASE_URL is ignored, so a configured server is never written to).
Each size gets its own programme; `/healthz` is timed in the same round as the baseline, so the
ratios hold across machines even where the milliseconds do not. See bench/README.md.
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import tempfile
import time

from common import parse_args, setup_django

WARMUP = 3


def make_programme(size: int):
    """A public programme with `size` published activities of mixed kinds, some partly booked."""
    from django.utils import timezone

    from demo.synthetic import synthetic_activities
    from events.models import Programme

    today = timezone.localdate()
    programme = Programme.objects.create(
        name=f"Benchmark met {size} activiteiten",
        slug=f"bench-{size}",
        starts_on=today,
        ends_on=today + dt.timedelta(days=365),
        organiser_name="Gemeente Soest",
        organiser_email="jubileum@example.org",
        is_public=True,
    )
    synthetic_activities(programme, size)
    return programme


def measure(client, url: str, iterations: int, headers: dict[str, str]) -> dict:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARMUP):
        client.get(url, headers=headers)
    # With DEBUG on, every request clears the query log it started with; start from empty so the
    # capture's bookkeeping does not count from a position the request wipes.
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    timings = []
    for _ in range(iterations):
        started = time.perf_counter()
        client.get(url, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "status": response.status_code,
        "bytes": len(response.content),
        "queries": len(queries),
        "median_ms": statistics.median(timings),
    }


def main() -> int:
    args = parse_args(__doc__.splitlines()[0], iterations=30, sizes="8,500", what="activities")
    with tempfile.TemporaryDirectory(prefix="jubileum-bench-") as var_dir:
        setup_django(var_dir)

        from django.test import Client
        from django.urls import reverse

        client = Client(HTTP_HOST="localhost")
        rows = []
        for size in args.sizes:
            programme = make_programme(size)
            page = reverse("events:programme", kwargs={"slug": programme.slug})
            endpoints = [
                ("baseline /healthz", "/healthz", {}),
                ("programme page", page, {}),
                ("programme page, htmx filter", f"{page}?audience=public", {"HX-Request": "true"}),
                ("activities API", f"/api/v1/programmes/{programme.slug}/activities", {}),
            ]
            baseline = None
            for name, url, headers in endpoints:
                result = measure(client, url, args.iterations, headers)
                baseline = baseline or result["median_ms"]
                rows.append({"endpoint": name, "size": size, "url": url, **result})
                rows[-1]["ratio"] = result["median_ms"] / baseline

    print(
        f"{'endpoint':<30} {'N':>5} {'median ms':>10} {'x baseline':>11} "
        f"{'queries':>8} {'bytes':>9}  status"
    )
    for row in rows:
        print(
            f"{row['endpoint']:<30} {row['size']:>5} {row['median_ms']:>10.2f} "
            f"{row['ratio']:>11.1f} {row['queries']:>8} {row['bytes']:>9}  {row['status']}"
        )
    print(f"\n{args.iterations} timed requests per row after {WARMUP} warm-up requests.")

    by_endpoint: dict[str, list[int]] = {}
    for row in rows:
        by_endpoint.setdefault(row["endpoint"], []).append(row["queries"])
    growing = [name for name, counts in by_endpoint.items() if len(set(counts)) > 1]
    failed = [f"{row['url']} answered {row['status']}" for row in rows if row["status"] != 200]
    for name in growing:
        print(f"Query count grows with N: {name} {by_endpoint[name]}", file=sys.stderr)
    for failure in failed:
        print(failure, file=sys.stderr)
    return 1 if growing or failed else 0


if __name__ == "__main__":
    sys.exit(main())
