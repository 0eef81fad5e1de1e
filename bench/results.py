"""bench/RESULTS.md from the JSON the benchmarks write (`common.write_json`); no measuring here.

Each benchmark's JSON holds tables. A table has a yardstick (`baseline`: the bare endpoint
measured in the same run; `yardstick`: its short name for the column headings) and the rows
measured, each with requests, errors, p50/p95/p99 in ms and requests per second. A row may carry
`yardstick: true` (a burst of the bare endpoint itself), `aim` (the least ratio of its
requests per second to the yardstick's that it should reach) and `cpu_ms` (milliseconds of CPU
per request by kind of process: server, database, cache, client, other).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

# Shown once, under "Machine and stack", rather than under every benchmark.
STACK_KEYS = ("workers", "postgresql", "cache", "prepare_threshold")


def _number(value: float, decimals: int = 1) -> str:
    return f"{value:,.{decimals}f}"


def _ratio(value: float) -> str:
    return f"{value:.2f}x"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|")


def table_lines(table: Mapping) -> list[str]:
    """One Markdown table: the yardstick first, then every row with its ratios to it."""
    baseline = table["baseline"]
    short = table.get("yardstick", "bare")
    lines = [
        "| request | requests | errors | p50 ms | p95 ms | p99 ms | req/s "
        f"| req/s ÷ {short} | p50 ÷ {short} |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row, label in [
        (baseline, f"**yardstick:** {_cell(baseline['name'])}"),
        *((row, _cell(row["name"])) for row in table["rows"]),
    ]:
        lines.append(
            f"| {label} | {row['requests']:,} | {row['errors']:,} | {_number(row['p50_ms'])} "
            f"| {_number(row['p95_ms'])} | {_number(row['p99_ms'])} "
            f"| {_number(row['per_second'])} "
            f"| {_ratio(row['per_second'] / baseline['per_second'])} "
            f"| {_ratio(row['p50_ms'] / baseline['p50_ms'])} |"
        )
    return lines


def cpu_lines(table: Mapping) -> list[str]:
    """Where each request's CPU went, by kind of process, for rows that measured it; [] when
    none did. The kinds are those of `common.CPU_KINDS`, in their order."""
    rows = [table["baseline"], *table["rows"]]
    kinds = list(dict.fromkeys(kind for row in rows for kind in row.get("cpu_ms", {})))
    if not kinds:
        return []
    lines = [
        "| CPU ms per request | " + " | ".join(kinds) + " | all |",
        "| --- |" + " ---: |" * (len(kinds) + 1),
    ]
    for row in rows:
        if "cpu_ms" not in row:
            continue
        cpu = row["cpu_ms"]
        cells = [_number(cpu.get(kind, 0.0), 2) for kind in kinds]
        lines.append(
            f"| {_cell(row['name'])} | "
            + " | ".join(cells)
            + f" | {_number(sum(cpu.values()), 2)} |"
        )
    return lines


def aims(document: Mapping) -> list[tuple[str, float, float]]:
    """(row name, ratio reached, aim) for every row that has an aim."""
    return [
        (row["name"], row["per_second"] / table["baseline"]["per_second"], row["aim"])
        for table in document["tables"]
        for row in table["rows"]
        if "aim" in row
    ]


def aim_line(name: str, reached: float, aim: float) -> str:
    verdict = "met" if reached >= aim else "**not met**"
    return (
        f"{name}: {_ratio(reached)} the bare endpoint's requests per second; "
        f"aim ≥ {_ratio(aim)}: {verdict}."
    )


def reading(document: Mapping) -> list[str]:
    """A few lines computed from one benchmark's figures: correctness, noise, the slowest row."""
    if document["ok"]:
        lines = ["Every answer was the expected one."]
    else:
        lines = ["**Some answers were not the expected ones** (see the notes above)."]
    for table in document["tables"]:
        baseline = table["baseline"]["per_second"]
        bare = [row["per_second"] for row in table["rows"] if row.get("yardstick")]
        if len(bare) > 1:
            spread = (max(bare) - min(bare)) / baseline
            lines.append(
                f"The bare endpoint answered {_number(min(bare))}-{_number(max(bare))} req/s "
                f"in its bursts ({spread:.0%} apart): ratios closer than that are noise."
            )
        measured = [row for row in table["rows"] if not row.get("yardstick")]
        if measured:
            slowest = min(measured, key=lambda row: row["per_second"])
            lines.append(
                f"Slowest: {slowest['name']}, {_ratio(slowest['per_second'] / baseline)} "
                f"the bare endpoint's requests per second, p50 {_number(slowest['p50_ms'])} ms."
            )
    return lines


def render(
    documents: Sequence[Mapping],
    *,
    when: str,
    machine: Mapping[str, str],
    failures: Sequence[str] = (),
    closing: Sequence[str] = (),
) -> str:
    """The whole of RESULTS.md. `failures`: benchmarks that wrote no figures, and why;
    `closing`: lines about the run as a whole, after the aims."""
    out = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (bench/run_all.py) on {when}. The figures are from one run on "
        "one machine; bench/README.md says what each benchmark does and how to read it.",
        "",
        "## Machine and stack",
        "",
        "| | |",
        "| --- | --- |",
        *(f"| {_cell(label)} | {_cell(value)} |" for label, value in machine.items()),
    ]
    for document in documents:
        out += ["", f"## {document['title']}", ""]
        setup = {k: v for k, v in document["setup"].items() if k not in STACK_KEYS}
        if setup:
            out += ["Setup: " + ", ".join(f"{k} {v}" for k, v in setup.items()) + ".", ""]
        for table in document["tables"]:
            out += [f"{table['caption'][:1].upper()}{table['caption'][1:]}:", ""]
            out += [*table_lines(table), ""]
            if cpu := cpu_lines(table):
                out += [*cpu, ""]
        if document["notes"]:
            out += [*(f"- {note}" for note in document["notes"]), ""]
        out += ["Reading: " + " ".join(reading(document))]
    if failures:
        out += ["", "## Not measured", "", *(f"- {failure}" for failure in failures)]
    summary = [
        aim_line(f"{document['title']} \N{EM DASH} {name}", reached, aim)
        for document in documents
        for name, reached, aim in aims(document)
    ]
    summary += closing
    if summary:
        out += ["", "## Reading the run", "", *(f"- {line}" for line in summary)]
    return "\n".join(out) + "\n"


# bench/scale.py and bench/scanner_field.py write their tables between these lines, each into a
# section of its own; `make bench` keeps both when it rewrites the file.
SCALE_START = "<!-- bench/scale.py -->"
SCALE_END = "<!-- /bench/scale.py -->"
SCANNER_START = "<!-- bench/scanner_field.py -->"
SCANNER_END = "<!-- /bench/scanner_field.py -->"
SECTIONS = ((SCALE_START, SCALE_END), (SCANNER_START, SCANNER_END))


def section(text: str, start: str, end: str) -> str:
    """The section between the markers `start` and `end` in `text`, markers included; "" if
    none."""
    first, last = text.find(start), text.find(end)
    if first < 0 or last < first:
        return ""
    return text[first : last + len(end)] + "\n"


def with_section(text: str, new: str, start: str, end: str) -> str:
    """`text` with its section between `start` and `end` (if any) replaced by `new`, at the
    end."""
    old = section(text, start, end)
    if old:
        text = text.replace(old, "").rstrip("\n") + "\n"
    return f"{text.rstrip(chr(10))}\n\n{new}" if new else text


def kept_sections(text: str) -> list[tuple[str, str, str]]:
    """(section, start, end) of every section a script of its own wrote into `text`."""
    return [(section(text, start, end), start, end) for start, end in SECTIONS]


def scale_section(text: str) -> str:
    """The section bench/scale.py wrote into `text`, markers included; "" if none."""
    return section(text, SCALE_START, SCALE_END)


def with_scale_section(text: str, new: str) -> str:
    """`text` with its scale section (if any) replaced by `new`, at the end."""
    return with_section(text, new, SCALE_START, SCALE_END)
