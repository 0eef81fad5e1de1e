"""Charts for the budget dashboard, drawn on the server as inline SVG.

No chart library and nothing from another host: each chart is a small SVG string with
role="img", a <title> and a <desc>, and carries its figures as a table (`Chart.headers`,
`Chart.rows`) that the page shows beside it, so a screen reader (or anyone who prefers numbers)
reads the same figures. Series differ by pattern and dash as well as colour, and the legend and
the table name them in words, so colour is never the only carrier of meaning.

Money stays Decimal in the data and the tables; it becomes float only to place pixels.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import formats, timezone
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from jubileum.lib.money import format_euro

ZERO = Decimal("0.00")
_DASH = " \u2013 "

# Width of every chart in SVG units; the page scales it to the column it sits in.
WIDTH = 640


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


def _svg_open(chart_id: str, height: int, title: str, description: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart__svg" id="{chart_id}-svg" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" focusable="false">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]


def _f(value: float) -> str:
    return f"{value:.1f}"


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
    parts = _svg_open(chart_id, height, title, description)
    parts.append(
        f'<defs><pattern id="{chart_id}-hatch" width="6" height="6" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="6" height="6" fill="#ffffff"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#1b4f72" stroke-width="2.5"/>'
        "</pattern></defs>"
    )
    # Grid and axis labels along the top.
    tick = ZERO
    parts.append('<g class="chart__grid" aria-hidden="true">')
    while tick <= top:
        tx = _f(x(tick))
        parts.append(
            f'<line x1="{tx}" y1="{top_margin - 6}" x2="{tx}" y2="{height - 8}" '
            'stroke="#d0d0d0" stroke-width="1"/>'
            f'<text x="{tx}" y="{top_margin - 12}" text-anchor="middle" '
            f'class="chart__tick" font-size="12" fill="#4d4d4d">{escape(_euros(tick))}</text>'
        )
        tick += step
    parts.append("</g>")

    segments = [
        ("paid", _("betaald"), "#1b4f72", None),
        ("committed", _("besteld"), "#5b9bd5", None),
        ("planned", _("gepland"), f"url(#{chart_id}-hatch)", "#1b4f72"),
    ]
    for index, bar in enumerate(bars):
        row_top = top_margin + index * row_height
        bar_top = row_top + (row_height - bar_height) / 2
        parts.append('<g class="chart__row">')
        parts.append(
            f'<text x="{label_width - 10}" y="{_f(row_top + row_height / 2 - 3)}" '
            f'text-anchor="end" font-size="14" fill="#1b1b1b">{escape(bar.label)}</text>'
        )
        figure = format_euro(bar.forecast)
        if bar.budgeted is not None:
            figure = _("%(forecast)s van %(budgeted)s") % {
                "forecast": figure,
                "budgeted": format_euro(bar.budgeted),
            }
        parts.append(
            f'<text x="{label_width - 10}" y="{_f(row_top + row_height / 2 + 13)}" '
            f'text-anchor="end" font-size="12" fill="#4d4d4d">{escape(figure)}</text>'
        )
        start = ZERO
        for name, label, fill, stroke in segments:
            amount = getattr(bar, name)
            if amount <= 0:
                continue
            left, width = x(start), x(start + amount) - x(start)
            outline = f' stroke="{stroke}" stroke-width="1.5"' if stroke else ""
            parts.append(
                f'<rect class="chart__{name}" x="{_f(left)}" y="{_f(bar_top)}" '
                f'width="{_f(max(width, 1.5))}" height="{bar_height}" fill="{fill}"{outline}>'
                f"<title>{escape(bar.label)}{_DASH}{escape(label)}: "
                f"{escape(format_euro(amount))}</title></rect>"
            )
            start += amount
        if bar.budgeted is not None:
            mark = _f(x(bar.budgeted))
            parts.append(
                f'<line class="chart__target" x1="{mark}" y1="{_f(bar_top - 6)}" x2="{mark}" '
                f'y2="{_f(bar_top + bar_height + 6)}" stroke="#1b1b1b" stroke-width="3">'
                f"<title>{escape(bar.label)}{_DASH}{escape(_('begroot'))}: "
                f"{escape(format_euro(bar.budgeted))}</title></line>"
            )
        parts.append("</g>")
    parts.append("</svg>")

    headers = [_("Categorie"), _("Betaald"), _("Besteld"), _("Gepland"), _("Begroot")]
    rows = [
        [
            bar.label,
            format_euro(bar.paid),
            format_euro(bar.committed),
            format_euro(bar.planned),
            format_euro(bar.budgeted) if bar.budgeted is not None else _DASH.strip(),
        ]
        for bar in bars
    ]
    return Chart(
        id=chart_id,
        title=title,
        description=description,
        svg=mark_safe("".join(parts)),  # every text above went through escape()
        caption=_("Uitgaven per categorie in cijfers"),
        headers=headers,
        rows=rows,
        legend=[
            ("paid", _("Betaald")),
            ("committed", _("Besteld (nog niet betaald)")),
            ("planned", _("Gepland")),
            ("target", _("Begroot bedrag van de categorie")),
        ],
    )


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
    parts = _svg_open(chart_id, height, title, description)

    parts.append('<g class="chart__grid" aria-hidden="true">')
    tick = ZERO
    while tick <= top:
        ty = _f(y(tick))
        parts.append(
            f'<line x1="{left_margin}" y1="{ty}" x2="{WIDTH - right}" y2="{ty}" '
            'stroke="#d0d0d0" stroke-width="1"/>'
            f'<text x="{left_margin - 8}" y="{_f(y(tick) + 4)}" text-anchor="end" '
            f'font-size="12" fill="#4d4d4d">{escape(_euros(tick))}</text>'
        )
        tick += step
    for month in _month_ticks(first, last):
        mx = _f(x(month))
        parts.append(
            f'<line x1="{mx}" y1="{top_margin + plot_height}" x2="{mx}" '
            f'y2="{top_margin + plot_height + 5}" stroke="#4d4d4d" stroke-width="1"/>'
            f'<text x="{mx}" y="{top_margin + plot_height + 20}" text-anchor="middle" '
            f'font-size="12" fill="#4d4d4d">{escape(formats.date_format(month, "M Y"))}</text>'
        )
    parts.append(
        f'<line x1="{left_margin}" y1="{top_margin + plot_height}" x2="{WIDTH - right}" '
        f'y2="{top_margin + plot_height}" stroke="#4d4d4d" stroke-width="1"/>'
    )
    parts.append("</g>")

    budget_y = _f(y(total))
    parts.append(
        f'<line class="chart__budget" x1="{left_margin}" y1="{budget_y}" x2="{WIDTH - right}" '
        f'y2="{budget_y}" stroke="#a4161a" stroke-width="2.5" stroke-dasharray="10 5">'
        f"<title>{escape(_('Budget'))}: {escape(format_euro(total))}</title></line>"
        f'<text x="{WIDTH - right}" y="{_f(y(total) - 7)}" text-anchor="end" font-size="13" '
        f'font-weight="600" fill="#a4161a">'
        f"{escape(_('Budget %(total)s') % {'total': format_euro(total)})}</text>"
    )

    strokes = {
        "paid": 'stroke="#1b4f72" stroke-width="3"',
        "forecast": 'stroke="#5b9bd5" stroke-width="3" stroke-dasharray="6 4"',
    }
    for line in series:
        if not line.points:
            continue
        stroke = strokes.get(line.css_class, 'stroke="#4d4d4d" stroke-width="2"')
        (day, amount), rest = line.points[0], line.points[1:]
        path = [f"M{_f(x(day))},{_f(y(ZERO))}", f"V{_f(y(amount))}"]
        for day, amount in rest:
            path.append(f"H{_f(x(day))}")
            path.append(f"V{_f(y(amount))}")
        path.append(f"H{_f(x(last))}")
        parts.append(
            f'<path class="chart__line chart__line--{escape(line.css_class)}" '
            f'd="{" ".join(path)}" fill="none" {stroke} stroke-linejoin="round">'
            f"<title>{escape(line.label)}</title></path>"
        )
    parts.append("</svg>")

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
        svg=mark_safe("".join(parts)),  # every text above went through escape()
        caption=_("Opgeteld bedrag per datum"),
        headers=headers,
        rows=rows,
        legend=[
            *((line.css_class, line.label) for line in series),
            ("budget", _("Totaal budget (%(total)s)") % {"total": format_euro(total)}),
        ],
    )
