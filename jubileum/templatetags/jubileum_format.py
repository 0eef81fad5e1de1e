"""Formatting for every page: money, moments and time spans, in the active language."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import template
from django.utils import formats, timezone

from jubileum.lib.money import format_euro

register = template.Library()

_DAY = "D j F Y"
_DASH = "\u2013"  # en dash, as Dutch and English typography use between times
_TIME = "H:i"


@register.filter
def euro(value: Decimal | int | str | None) -> str:
    """Euros in the active language's style: "€ 12,50" in Dutch, "€12.50" in English."""
    if value in (None, ""):
        return ""
    return format_euro(value)


@register.filter
def money(value: Decimal | None, currency: str = "eur") -> str:
    """An amount in its currency: euros as `euro` does, another currency by its code (money
    that came in as it was not asked for may be in any)."""
    if (currency or "eur").lower() == "eur":
        return euro(value)
    return f"{formats.number_format(value, 2)} {currency.upper()}"


def format_timespan(starts: dt.datetime, ends: dt.datetime) -> str:
    """Like "za 12 december 2026, 14:00-16:00" (with an en dash), in Amsterdam time.

    When the activity runs past midnight both moments are given in full.
    """
    starts, ends = timezone.localtime(starts), timezone.localtime(ends)
    start_text = formats.date_format(starts, f"{_DAY}, {_TIME}")
    if starts.date() == ends.date():
        return f"{start_text}{_DASH}{formats.date_format(ends, _TIME)}"
    return f"{start_text} {_DASH} {formats.date_format(ends, f'{_DAY}, {_TIME}')}"


@register.simple_tag
def timespan(starts: dt.datetime, ends: dt.datetime) -> str:
    return format_timespan(starts, ends)


@register.filter
def moment(value: dt.datetime | None) -> str:
    """One moment in the site's format: "za 12 december 2026, 14:00"."""
    if value is None:
        return ""
    return formats.date_format(timezone.localtime(value), f"{_DAY}, {_TIME}")


@register.filter
def machine_moment(value: dt.datetime | None) -> str:
    """A moment for `<time datetime>`, in Amsterdam time to the second: "2026-12-12T14:00:00+01:00".
    Not `date:'c'`: its six digits of a second's fraction are invalid HTML (three at most)."""
    if value is None:
        return ""
    return timezone.localtime(value).isoformat(timespec="seconds")
