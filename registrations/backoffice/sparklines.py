"""Sparklines for the organiser's programme overview: confirmed persons per activity, day by day.

One query serves every activity of a programme: the confirmed parties grouped by activity and
by the day (in Amsterdam) they got their places, summed in the database. Each line runs from
the first of those days to today, or to the activity's day once it has passed; its figures are
stated in words in the SVG's aria-label, so nothing is only drawn.

A party counts on the day it was confirmed (or, when it never waited, the day it signed up); a
party that cancelled since no longer counts at all, so the line ends at today's figure.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import formats, timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from events.models import Activity, Programme
from registrations.models import Registration

WIDTH, HEIGHT, PAD = 120, 32, 2


@dataclass(frozen=True)
class Sparkline:
    first: dt.date
    last: dt.date
    total: int
    label: str
    svg: SafeString


def confirmed_per_day(programme: Programme) -> dict[int, list[tuple[dt.date, int]]]:
    """Activity id → [(day, persons confirmed that day)] in date order, in one query."""
    day = TruncDate(Coalesce("confirmed_at", "created_at"), tzinfo=timezone.get_default_timezone())
    rows = (
        Registration.objects.filter(
            activity__programme=programme, status=Registration.Status.CONFIRMED
        )
        .annotate(day=day)
        .values("activity_id", "day")
        .annotate(persons=Sum("party_size"))
        .order_by("activity_id", "day")
    )
    days: dict[int, list[tuple[dt.date, int]]] = defaultdict(list)
    for row in rows:
        days[row["activity_id"]].append((row["day"], row["persons"]))
    return days


def _day(value: dt.date, other: dt.date) -> str:
    # "3 mei"; with the year only when the line crosses into another year.
    return formats.date_format(value, "j F" if value.year == other.year else "j F Y")


def _f(value: float) -> str:
    return f"{value:.1f}"


def sparkline(
    activity: Activity, per_day: list[tuple[dt.date, int]], *, today: dt.date | None = None
) -> Sparkline | None:
    """The line for one activity (None when nobody is confirmed yet)."""
    if not per_day:
        return None
    today = today or timezone.localdate()
    first = per_day[0][0]
    last = max(min(today, timezone.localdate(activity.starts_at)), per_day[-1][0], first)
    total = sum(persons for _when, persons in per_day)
    span = max((last - first).days, 1)

    def x(day: dt.date) -> float:
        return PAD + (day - first).days / span * (WIDTH - 2 * PAD)

    def y(persons: int) -> float:
        return HEIGHT - PAD - persons / total * (HEIGHT - 2 * PAD)

    # A step line: flat between days, up on each day people were confirmed.
    path = [f"M{_f(x(first))},{_f(y(0))}"]
    running = 0
    for day, persons in per_day:
        running += persons
        path.append(f"H{_f(x(day))}V{_f(y(running))}")
    # A line of one day is drawn across the whole width, so it is not a mere tick.
    end = x(last) if last > first else WIDTH - PAD
    path.append(f"H{_f(end)}")
    label = _("Aanmeldingen per dag: van %(start)s op %(first)s tot %(total)s op %(last)s") % {
        "start": 0,
        "first": _day(first, last),
        "total": total,
        "last": _day(last, first),
    }
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sparkline" viewBox="0 0 {WIDTH} '
        f'{HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(label)}" '
        'focusable="false">'
        f'<line x1="{PAD}" y1="{_f(y(0))}" x2="{WIDTH - PAD}" y2="{_f(y(0))}" '
        'stroke="#c8c8c8" stroke-width="1"/>'
        f'<path d="{"".join(path)}" fill="none" stroke="currentColor" stroke-width="2" '
        'stroke-linejoin="round"/>'
        f'<circle cx="{_f(end)}" cy="{_f(y(total))}" r="2.5" fill="currentColor"/>'
        "</svg>"
    )
    # Every text in the SVG went through escape(); the rest are numbers.
    return Sparkline(first=first, last=last, total=total, label=label, svg=mark_safe(svg))


def sparklines(programme: Programme, activities: list[Activity]) -> dict[int, Sparkline | None]:
    """Activity id → its sparkline, for every activity given, from one query."""
    days = confirmed_per_day(programme)
    today = timezone.localdate()
    return {item.pk: sparkline(item, days.get(item.pk, []), today=today) for item in activities}
