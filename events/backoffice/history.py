"""An activity's history for the organiser's activity page: who changed which field when."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from events.models import Activity
from jubileum.lib.history import NOT_SHOWN, history_entries
from jubileum.lib.money import format_euro
from jubileum.templatetags.jubileum_format import moment

# Longer than a line of history should carry: the page says such a field changed, not how.
LONG_TEXT = 120
SKIPPED = ("created_at", "updated_at")


def _shown(field_name: str, value: Any) -> str | None:
    field = Activity._meta.get_field(field_name)
    assert isinstance(field, models.Field)
    if isinstance(field, models.TextField):
        return NOT_SHOWN
    if value in (None, ""):
        return "\u2013"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("ja") if value else _("nee")
    if isinstance(value, Decimal):
        return format_euro(value)
    if isinstance(value, dt.datetime):
        return moment(value)
    text = str(value)
    return NOT_SHOWN if len(text) > LONG_TEXT else text


def activity_history(activity: Activity) -> list[dict[str, Any]]:
    """Each save of the activity, newest first: when, who, and which fields changed."""
    records = list(activity.history.select_related("history_user").order_by("-history_date"))
    return history_entries(records, Activity, _shown, skip=SKIPPED)
