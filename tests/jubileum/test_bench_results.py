"""bench/results.py turns the benchmarks' JSON into bench/RESULTS.md; no timing is asserted."""

from __future__ import annotations

from bench.results import (
    SCALE_END,
    SCALE_START,
    SCANNER_END,
    SCANNER_START,
    kept_sections,
    render,
    scale_section,
    with_scale_section,
    with_section,
)


def _row(name: str, per_second: float, p50_ms: float, **marks: object) -> dict:
    return {
        "name": name,
        "requests": 2000,
        "errors": 0,
        "p50_ms": p50_ms,
        "p95_ms": p50_ms * 2,
        "p99_ms": p50_ms * 3,
        "per_second": per_second,
        **marks,
    }


def _checkin(*, scans_per_second: float, ok: bool = True) -> dict:
    return {
        "benchmark": "checkin",
        "title": "Check-in at the door",
        "setup": {"workers": 4, "postgresql": "15.20", "tickets": 2000, "scanners": 8},
        "tables": [
            {
                "caption": "2000 tickets redeemed by 8 scanners",
                "baseline": _row("bare, both bursts", 1250.0, 4.0),
                "rows": [
                    _row("bare", 1200.0, 4.2, yardstick=True),
                    _row("redeem | first scan", scans_per_second, 16.0, aim=0.5),
                    _row("bare, again", 1300.0, 3.8, yardstick=True),
                ],
            }
        ],
        "ok": ok,
        "notes": ["POST redeem, first scan: ok x2000"],
    }


MACHINE = {"CPU": "2 cores", "PostgreSQL": "15.20"}


def test_renders_each_row_with_its_ratios_to_the_bare_endpoint():
    text = render([_checkin(scans_per_second=312.5)], when="2026-11-26 08:00 UTC", machine=MACHINE)

    table = """\
## Check-in at the door

Setup: tickets 2000, scanners 8.

2000 tickets redeemed by 8 scanners:

| request | requests | errors | p50 ms | p95 ms | p99 ms | req/s | req/s ÷ bare | p50 ÷ bare |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| **yardstick:** bare, both bursts | 2,000 | 0 | 4.0 | 8.0 | 12.0 | 1,250.0 | 1.00x | 1.00x |
| bare | 2,000 | 0 | 4.2 | 8.4 | 12.6 | 1,200.0 | 0.96x | 1.05x |
| redeem \\| first scan | 2,000 | 0 | 16.0 | 32.0 | 48.0 | 312.5 | 0.25x | 4.00x |
| bare, again | 2,000 | 0 | 3.8 | 7.6 | 11.4 | 1,300.0 | 1.04x | 0.95x |

- POST redeem, first scan: ok x2000
"""
    assert table in text
    assert text.startswith("# Benchmark results\n\nWritten by `make bench`")
    assert "on 2026-11-26 08:00 UTC." in text
    assert "| CPU | 2 cores |\n| PostgreSQL | 15.20 |\n" in text
    # The stack's settings are shown once, with the machine, not under every benchmark.
    assert "workers 4" not in text


def test_says_whether_the_aim_was_met():
    missed = render([_checkin(scans_per_second=500.0)], when="-", machine=MACHINE)
    met = render([_checkin(scans_per_second=625.0)], when="-", machine=MACHINE)

    assert (
        "- Check-in at the door — redeem | first scan: 0.40x the bare endpoint's requests "
        "per second; aim ≥ 0.50x: **not met**.\n"
    ) in missed
    assert "aim ≥ 0.50x: met.\n" in met


def test_reading_gives_the_yardstick_spread_and_the_slowest_row():
    text = render([_checkin(scans_per_second=312.5)], when="-", machine=MACHINE)

    assert (
        "Reading: Every answer was the expected one. The bare endpoint answered "
        "1,200.0-1,300.0 req/s in its bursts (8% apart): ratios closer than that are noise. "
        "Slowest: redeem | first scan, 0.25x the bare endpoint's requests per second, "
        "p50 16.0 ms.\n"
    ) in text


def test_unexpected_answers_and_missing_benchmarks_are_reported():
    text = render(
        [_checkin(scans_per_second=312.5, ok=False)],
        when="-",
        machine=MACHINE,
        failures=["Budget dashboard and API: bench/budget_dashboard.py exited with status 2."],
        closing=["Everything ran on 2 cores."],
    )

    assert "**Some answers were not the expected ones**" in text
    assert (
        "## Not measured\n\n"
        "- Budget dashboard and API: bench/budget_dashboard.py exited with status 2.\n"
    ) in text
    assert text.endswith("- Everything ran on 2 cores.\n")


def test_shows_where_each_requests_cpu_went_when_it_was_measured():
    document = _checkin(scans_per_second=400.0)
    table = document["tables"][0]
    table["baseline"]["cpu_ms"] = {"server": 0.6, "database": 0.0, "client": 0.3}
    table["rows"][1]["cpu_ms"] = {"server": 2.25, "database": 0.9, "client": 0.35}

    text = render([document], when="-", machine=MACHINE)

    assert (
        "| CPU ms per request | server | database | client | all |\n"
        "| --- | ---: | ---: | ---: | ---: |\n"
        "| bare, both bursts | 0.60 | 0.00 | 0.30 | 0.90 |\n"
        "| redeem \\| first scan | 2.25 | 0.90 | 0.35 | 3.50 |\n"
    ) in text
    # Rows without the measurement are left out; a table without any has no CPU table.
    assert "| bare, again |" not in text.split("CPU ms per request")[1]
    assert "CPU ms per request" not in render(
        [_checkin(scans_per_second=1.0)], when="-", machine=MACHINE
    )


def test_the_scale_section_is_kept_at_the_end_when_the_rest_is_rewritten():
    section = f"{SCALE_START}\n## Scale\n\n| endpoint | S |\n{SCALE_END}\n"
    written = with_scale_section("# Results\n\nold figures\n", section)
    assert written == f"# Results\n\nold figures\n\n{section}"

    # make bench rewrites the file: the new text, with the section it had.
    rewritten = with_scale_section("# Results\n\nnew figures\n", scale_section(written))
    assert rewritten == f"# Results\n\nnew figures\n\n{section}"

    # scale.py --write again: its section replaced, not added twice.
    again = with_scale_section(rewritten, section.replace("| S |", "| S | M |"))
    assert again.count(SCALE_START) == 1
    assert "| S | M |" in again
    assert with_scale_section("# Results\n", "") == "# Results\n"


def test_the_scanner_section_lives_beside_the_scale_section_and_both_are_kept():
    scale = f"{SCALE_START}\n## Scale\n{SCALE_END}\n"
    scanner = f"{SCANNER_START}\n## Scanner\n\n| | 1x |\n{SCANNER_END}\n"
    written = with_section(
        with_scale_section("# Results\n\nold\n", scale), scanner, SCANNER_START, SCANNER_END
    )
    assert written == f"# Results\n\nold\n\n{scale}\n{scanner}"

    # scanner_field.py --write again: only its own section changes.
    again = with_section(
        written, scanner.replace("| 1x |", "| 1x | 4x CPU |"), SCANNER_START, SCANNER_END
    )
    assert again.count(SCANNER_START) == 1
    assert "| 1x | 4x CPU |" in again
    assert scale in again

    # make bench (run_all.py) rewrites the rest and keeps both sections.
    rewritten = "# Results\n\nnew\n"
    for kept, start, end in kept_sections(again):
        rewritten = with_section(rewritten, kept, start, end)
    assert rewritten.startswith("# Results\n\nnew\n\n")
    assert "old" not in rewritten
    assert scale in rewritten
    assert "| 1x | 4x CPU |" in rewritten
