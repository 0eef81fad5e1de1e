"""Charts for the budget dashboard and the programme report, drawn on the server as inline SVG.

No chart library and nothing from another host. Python works out the geometry: where each
grid line, bar, line and label goes (the `Drawing` dataclasses below); the template
`components/charts/drawing.svg.html` draws it, escaping every text as any template does. Each
chart has role="img", a <title> and a <desc>, and carries its figures as a table
(`Chart.headers`, `Chart.rows`) that the page shows beside it, so a screen reader (or anyone who
prefers numbers) reads the same figures. Series differ by pattern and dash as well as colour,
and the legend and the table name them in words, so colour is never the only carrier of meaning.

Money stays Decimal in the data and the tables; it becomes float only to place pixels.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import formats, timezone
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from budget.models import Budget
from budget.summary import BudgetSummary
from jubileum.lib.money import format_euro

ZERO = Decimal("0.00")
DASH = " \u2013 "

# Width of every chart in SVG units; the page scales it to the column it sits in.
WIDTH = 640
TEMPLATE = "components/charts/drawing.svg.html"


# --- What a chart shows ------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryBar:
    """One category: its expenses by status and the amount planned for it (if any)."""

    label: str
    paid: Decimal
    committed: Decimal
    planned: Decimal
    budgeted: Decimal | None = None

    @property
    def forecast(self) -> Decimal:
        return self.paid + self.committed + self.planned


@dataclass(frozen=True)
class PersonsBar:
    label: str
    parts: tuple[int, int, int]  # attended, no-show, registered for an activity still to come
    figure: str  # the bar's figures in words, shown beside its label
    mark: int | None = None  # places, drawn as a line across the bar


@dataclass(frozen=True)
class Series:
    """A cumulative line: (day, running total on that day), in date order."""

    label: str
    css_class: str
    points: list[tuple[dt.date, Decimal]]


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    svg: SafeString
    caption: str
    headers: list[str]
    rows: list[list[str]]
    legend: list[tuple[str, str]] = field(default_factory=list)

    @property
    def rows_html(self) -> SafeString:
        """The table's rows, each headed by its first cell, as HTML for the template.

        Made here rather than in the template, where a loop costs a few microseconds per cell:
        over a few hundred dates, more than drawing the chart.
        """
        return mark_safe(  # every cell goes through conditional_escape(), as in a template
            "\n".join(
                f'<tr><th scope="row">{conditional_escape(head)}</th>'
                + "".join(f'<td class="num">{conditional_escape(cell)}</td>' for cell in cells)
                + "</tr>"
                for head, *cells in self.rows
            )
        )


# --- Where it goes: the geometry the template draws --------------------------------------------
# Coordinates are text already, as they appear in the SVG (one decimal for computed positions).


@dataclass(frozen=True)
class Label:
    x: str
    y: str
    text: str
    size: int
    fill: str
    anchor: str = ""
    css_class: str = ""
    weight: str = ""


@dataclass(frozen=True)
class Rule:
    """A straight line; with a `title`, one that says what it marks."""

    x1: str
    y1: str
    x2: str
    y2: str
    stroke: str
    width: str = "1"
    dash: str = ""
    css_class: str = ""
    title: str = ""


@dataclass(frozen=True)
class Tick:
    rule: Rule
    label: Label | None = None


@dataclass(frozen=True)
class Block:
    """One part of a bar: `key` names it for the legend (class `chart__<key>`)."""

    key: str
    x: str
    y: str
    width: str
    height: str
    fill: str
    title: str
    stroke: str = ""


@dataclass(frozen=True)
class BarRow:
    labels: list[Label]
    blocks: list[Block]
    mark: Rule | None = None


@dataclass(frozen=True)
class Path:
    css_class: str
    d: str
    stroke: str
    width: str
    title: str
    dash: str = ""


@dataclass(frozen=True)
class Drawing:
    id: str
    height: int
    title: str
    description: str
    width: int = WIDTH
    hatch: bool = False  # defines the pattern `<id>-hatch` that planned and no-show parts use
    grid: Sequence[Tick] = ()
    rows: Sequence[BarRow] = ()
    rules: Sequence[Rule] = ()
    labels: Sequence[Label] = ()
    paths: Sequence[Path] = ()

    def svg(self) -> SafeString:
        return render_to_string(TEMPLATE, {"drawing": self})


# --- Scales ------------------------------------------------------------------------------------


def _euros(amount: Decimal) -> str:
    """An axis label: whole euros without the cents ("€ 2.000"), else as everywhere."""
    text = format_euro(amount)
    if amount == amount.to_integral_value():
        text = text.rsplit(formats.get_format("DECIMAL_SEPARATOR"), 1)[0]
    return text


def _nice_step(maximum: Decimal, ticks: int = 5) -> Decimal:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about `ticks` grid lines."""
    if maximum <= 0:
        return Decimal(1)
    raw = maximum / ticks
    power = Decimal(10) ** (len(str(int(raw))) - 1) if raw >= 1 else Decimal(1)
    for factor in (1, 2, Decimal("2.5"), 5, 10):
        step = power * factor
        if step >= raw:
            return step
    return power * 10


def _scale_top(maximum: Decimal) -> tuple[Decimal, Decimal]:
    step = _nice_step(maximum)
    top = step
    while top < maximum:
        top += step
    return top, step


def _ticks(top: Decimal, step: Decimal) -> list[Decimal]:
    ticks, tick = [], ZERO
    while tick <= top:
        ticks.append(tick)
        tick += step
    return ticks


def _f(value: float) -> str:
    return f"{value:.1f}"


def _short(text: str, length: int = 58) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


# --- Charts ------------------------------------------------------------------------------------


def category_chart(bars: list[CategoryBar], *, chart_id: str = "chart-categories") -> Chart:
    """Horizontal stacked bars per category (paid, committed, planned) with a mark at the
    category's planned amount."""
    label_width, right, top_margin, row_height, bar_height = 190, 24, 34, 46, 20
    plot = WIDTH - label_width - right
    height = top_margin + row_height * max(len(bars), 1) + 8
    maximum = max([bar.forecast for bar in bars] + [bar.budgeted or ZERO for bar in bars] + [ZERO])
    top, step = _scale_top(maximum)

    def x(amount: Decimal) -> float:
        return label_width + float(amount / top) * plot

    title = _("Uitgaven per categorie")
    over = [bar.label for bar in bars if bar.budgeted is not None and bar.forecast > bar.budgeted]
    description = _(
        "Liggende balken per categorie: betaald, besteld en gepland op elkaar gestapeld, "
        "met een streep bij het begrote bedrag van de categorie."
    )
    if over:
        description += " " + _("Boven het begrote bedrag: %(names)s.") % {"names": ", ".join(over)}
    grid = [
        Tick(
            Rule(_f(x(tick)), str(top_margin - 6), _f(x(tick)), str(height - 8), "#d0d0d0"),
            Label(
                _f(x(tick)),
                str(top_margin - 12),
                _euros(tick),
                12,
                "#4d4d4d",
                anchor="middle",
                css_class="chart__tick",
            ),
        )
        for tick in _ticks(top, step)
    ]
    segments = [
        ("paid", _("betaald"), "#1b4f72", ""),
        ("committed", _("besteld"), "#5b9bd5", ""),
        ("planned", _("gepland"), f"url(#{chart_id}-hatch)", "#1b4f72"),
    ]
    target = _("begroot")
    rows = []
    for index, bar in enumerate(bars):
        row_top = top_margin + index * row_height
        bar_top = row_top + (row_height - bar_height) / 2
        figure = format_euro(bar.forecast)
        if bar.budgeted is not None:
            figure = _("%(forecast)s van %(budgeted)s") % {
                "forecast": figure,
                "budgeted": format_euro(bar.budgeted),
            }
        labels = [
            Label(
                str(label_width - 10),
                _f(row_top + row_height / 2 - 3),
                bar.label,
                14,
                "#1b1b1b",
                anchor="end",
            ),
            Label(
                str(label_width - 10),
                _f(row_top + row_height / 2 + 13),
                figure,
                12,
                "#4d4d4d",
                anchor="end",
            ),
        ]
        blocks, start = [], ZERO
        for name, label, fill, stroke in segments:
            amount = getattr(bar, name)
            if amount <= 0:
                continue
            blocks.append(
                Block(
                    key=name,
                    x=_f(x(start)),
                    y=_f(bar_top),
                    width=_f(max(x(start + amount) - x(start), 1.5)),
                    height=str(bar_height),
                    fill=fill,
                    stroke=stroke,
                    title=f"{bar.label}{DASH}{label}: {format_euro(amount)}",
                )
            )
            start += amount
        mark = None
        if bar.budgeted is not None:
            mark = Rule(
                _f(x(bar.budgeted)),
                _f(bar_top - 6),
                _f(x(bar.budgeted)),
                _f(bar_top + bar_height + 6),
                "#1b1b1b",
                width="3",
                css_class="chart__target",
                title=f"{bar.label}{DASH}{target}: {format_euro(bar.budgeted)}",
            )
        rows.append(BarRow(labels, blocks, mark))
    drawing = Drawing(chart_id, height, title, description, hatch=True, grid=grid, rows=rows)

    rows_table = [
        [
            bar.label,
            format_euro(bar.paid),
            format_euro(bar.committed),
            format_euro(bar.planned),
            format_euro(bar.budgeted) if bar.budgeted is not None else DASH.strip(),
        ]
        for bar in bars
    ]
    return Chart(
        id=chart_id,
        title=title,
        description=description,
        svg=drawing.svg(),
        caption=_("Uitgaven per categorie in cijfers"),
        headers=[_("Categorie"), _("Betaald"), _("Besteld"), _("Gepland"), _("Begroot")],
        rows=rows_table,
        legend=[
            ("paid", _("Betaald")),
            ("committed", _("Besteld (nog niet betaald)")),
            ("planned", _("Gepland")),
            ("target", _("Begroot bedrag van de categorie")),
        ],
    )


# The parts of a bar of persons: key (for the CSS legend key), fill, outline. Each differs by
# pattern or shade as well as colour, and the legend and the table say which is which.
PERSONS_PARTS = [
    ("attended", "#1b4f72", ""),
    ("no-show", "url(#{id}-hatch)", "#1b4f72"),
    ("upcoming", "#9cc3e6", "#1b4f72"),
]


def persons_svg(
    *,
    chart_id: str,
    title: str,
    description: str,
    bars: list[PersonsBar],
    part_labels: tuple[str, str, str],
    mark_label: str,
) -> SafeString:
    """Horizontal stacked bars of persons, each with its label above it (the report's charts of
    attendance)."""
    left, right, top_margin, row_height, bar_height = 8, 16, 30, 52, 18
    plot = WIDTH - left - right
    height = top_margin + row_height * max(len(bars), 1) + 6
    maximum = max([sum(bar.parts) for bar in bars] + [bar.mark or 0 for bar in bars] + [1])
    top, step = _scale_top(Decimal(maximum))

    def x(persons: Decimal | int) -> float:
        return left + float(Decimal(persons) / top) * plot

    grid = [
        Tick(
            Rule(_f(x(tick)), str(top_margin - 6), _f(x(tick)), str(height - 4), "#e0e0e0"),
            Label(
                _f(x(tick)),
                str(top_margin - 12),
                formats.number_format(int(tick), force_grouping=True),
                12,
                "#4d4d4d",
                anchor="middle",
            ),
        )
        for tick in _ticks(top, step)
    ]
    rows = []
    for index, bar in enumerate(bars):
        row_top = top_margin + index * row_height
        bar_top = row_top + 22
        labels = [
            Label(str(left), str(row_top + 15), _short(bar.label), 13, "#1b1b1b"),
            Label(str(WIDTH - right), str(row_top + 15), bar.figure, 12, "#4d4d4d", anchor="end"),
        ]
        blocks, start = [], 0
        for (key, fill, stroke), label, persons in zip(
            PERSONS_PARTS, part_labels, bar.parts, strict=True
        ):
            if persons <= 0:
                continue
            blocks.append(
                Block(
                    key=key,
                    x=_f(x(start)),
                    y=str(bar_top),
                    width=_f(max(x(start + persons) - x(start), 1.5)),
                    height=str(bar_height),
                    fill=fill.format(id=chart_id),
                    stroke=stroke,
                    title=f"{bar.label}{DASH}{label}: {persons}",
                )
            )
            start += persons
        mark = None
        if bar.mark is not None:
            mark = Rule(
                _f(x(bar.mark)),
                str(bar_top - 5),
                _f(x(bar.mark)),
                str(bar_top + bar_height + 5),
                "#1b1b1b",
                width="3",
                css_class="chart__target",
                title=f"{bar.label}{DASH}{mark_label}: {bar.mark}",
            )
        rows.append(BarRow(labels, blocks, mark))
    return Drawing(chart_id, height, title, description, hatch=True, grid=grid, rows=rows).svg()


def _month_ticks(first: dt.date, last: dt.date) -> list[dt.date]:
    months: list[dt.date] = []
    day = first.replace(day=1)
    while day <= last:
        if day >= first:
            months.append(day)
        day = (day + dt.timedelta(days=32)).replace(day=1)
    # Keep at most seven labels so they never overlap.
    every = max(1, -(-len(months) // 7))
    return months[::every]


# How each series is drawn; any other is a thin grey line.
STROKES = {"paid": ("#1b4f72", "3", ""), "forecast": ("#5b9bd5", "3", "6 4")}


def cumulative_chart(
    series: list[Series], total: Decimal, *, chart_id: str = "chart-over-time"
) -> Chart:
    """Running totals over time as step lines, against a level line at the total budget."""
    left_margin, right, top_margin, bottom = 84, 24, 20, 44
    height = 300
    plot_width = WIDTH - left_margin - right
    plot_height = height - top_margin - bottom
    days = sorted({day for line in series for day, _amount in line.points})
    first = days[0] if days else timezone.localdate()
    last = days[-1] if days else first
    if last <= first:
        first, last = first - dt.timedelta(days=1), first + dt.timedelta(days=1)
    maximum = max([amount for line in series for _day, amount in line.points] + [total, ZERO])
    top, step = _scale_top(maximum * Decimal("1.05"))
    span = (last - first).days

    def x(day: dt.date) -> float:
        return left_margin + (day - first).days / span * plot_width

    def y(amount: Decimal) -> float:
        return top_margin + plot_height - float(amount / top) * plot_height

    title = _("Uitgaven in de tijd")
    description = _(
        "Lijnen met het opgetelde bedrag per datum, tegenover een vlakke lijn op het "
        "totale budget van %(total)s."
    ) % {"total": format_euro(total)}
    finals = [
        _("%(label)s komt uit op %(amount)s")
        % {"label": line.label, "amount": format_euro(line.points[-1][1])}
        for line in series
        if line.points
    ]
    if finals:
        description += " " + "; ".join(finals) + "."

    axis_y = str(top_margin + plot_height)
    grid = [
        Tick(
            Rule(str(left_margin), _f(y(tick)), str(WIDTH - right), _f(y(tick)), "#d0d0d0"),
            Label(str(left_margin - 8), _f(y(tick) + 4), _euros(tick), 12, "#4d4d4d", anchor="end"),
        )
        for tick in _ticks(top, step)
    ]
    grid += [
        Tick(
            Rule(_f(x(month)), axis_y, _f(x(month)), str(top_margin + plot_height + 5), "#4d4d4d"),
            Label(
                _f(x(month)),
                str(top_margin + plot_height + 20),
                formats.date_format(month, "M Y"),
                12,
                "#4d4d4d",
                anchor="middle",
            ),
        )
        for month in _month_ticks(first, last)
    ]
    grid.append(Tick(Rule(str(left_margin), axis_y, str(WIDTH - right), axis_y, "#4d4d4d")))

    budget_word = _("Budget")
    budget_line = Rule(
        str(left_margin),
        _f(y(total)),
        str(WIDTH - right),
        _f(y(total)),
        "#a4161a",
        width="2.5",
        dash="10 5",
        css_class="chart__budget",
        title=f"{budget_word}: {format_euro(total)}",
    )
    budget_label = Label(
        str(WIDTH - right),
        _f(y(total) - 7),
        _("Budget %(total)s") % {"total": format_euro(total)},
        13,
        "#a4161a",
        anchor="end",
        weight="600",
    )
    paths = []
    for line in series:
        if not line.points:
            continue
        stroke, width, dash = STROKES.get(line.css_class, ("#4d4d4d", "2", ""))
        (day, amount), rest = line.points[0], line.points[1:]
        steps = [f"M{_f(x(day))},{_f(y(ZERO))}", f"V{_f(y(amount))}"]
        for day, amount in rest:
            steps.append(f"H{_f(x(day))}")
            steps.append(f"V{_f(y(amount))}")
        steps.append(f"H{_f(x(last))}")
        paths.append(Path(line.css_class, " ".join(steps), stroke, width, line.label, dash))
    drawing = Drawing(
        chart_id,
        height,
        title,
        description,
        grid=grid,
        rules=[budget_line],
        labels=[budget_label],
        paths=paths,
    )

    # The table: one row per date, each line's running total carried forward. With a few
    # hundred dates, formatting is most of the chart's time: "j F Y" is the day before "F Y",
    # which is formatted (and translated) once per month.
    headers = [_("Datum"), *(line.label for line in series)]
    values = [dict(line.points) for line in series]
    running = [ZERO for _line in series]
    months: dict[tuple[int, int], str] = {}
    rows = []
    for day in days:
        for index, by_day in enumerate(values):
            running[index] = by_day.get(day, running[index])
        month = months.get((day.year, day.month))
        if month is None:
            month = months[day.year, day.month] = formats.date_format(day, "F Y")
        rows.append([f"{day.day} {month}", *(format_euro(v) for v in running)])
    return Chart(
        id=chart_id,
        title=title,
        description=description,
        svg=drawing.svg(),
        caption=_("Opgeteld bedrag per datum"),
        headers=headers,
        rows=rows,
        legend=[
            *((line.css_class, line.label) for line in series),
            ("budget", _("Totaal budget (%(total)s)") % {"total": format_euro(total)}),
        ],
    )


def budget_charts(summary: BudgetSummary, budget: Budget) -> list[Chart]:
    """The budget's two charts (the dashboard and the programme report): spending per
    category, and spending over time against the budget."""
    bars = [
        CategoryBar(
            label=row.name,
            paid=row.paid,
            committed=row.open_commitments,
            planned=row.planned,
            budgeted=row.planned_amount,
        )
        for row in summary.per_category
    ]
    series = [
        Series(_("Betaald"), "paid", [(point.date, point.paid) for point in summary.over_time]),
        Series(
            _("Verwacht (als alles gepland en besteld is betaald)"),
            "forecast",
            [(point.date, point.forecast) for point in summary.over_time],
        ),
    ]
    return [category_chart(bars), cumulative_chart(series, budget.total)]
