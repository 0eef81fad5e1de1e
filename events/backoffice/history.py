"""An activity's history for the organiser's activity page: who changed which field when."""

from __future__ import annotations

from typing import Any

from events.models import Activity
from jubileum.lib.history import change_history

SKIPPED = ("created_at", "updated_at")


def activity_history(activity: Activity) -> list[dict[str, Any]]:
    """Each save of the activity, newest first: when, who, and which fields changed."""
    records = activity.history.select_related("history_user").order_by("-history_date")
    return change_history(records, skip=SKIPPED)
