"""What a model's history (django-simple-history) says, for a page: each save, who made it, and
which fields went from what to what. The budget's expense page and the organiser's activity
page show it with templates/components/_history.html.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.utils.translation import gettext as _

# A change whose values are not worth showing (a long text): the page says only "gewijzigd".
NOT_SHOWN = None


def user_name(user: AbstractBaseUser | None) -> str:
    """How a page names the person behind a change: their full name, else their username."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()  # type: ignore[attr-defined]


def history_entries(
    records: Sequence[Any],
    model: type[models.Model],
    shown: Callable[[str, Any], str | None],
    *,
    skip: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """Each record (newest first, `history_user` selected) as `when`, `who`, `type` ("+", "~",
    "-") and `changes`: per changed field its verbose name and `old` and `new` as `shown` writes
    them (`NOT_SHOWN` for both: the page says the field changed, not how)."""
    excluded = list(skip)
    entries = []
    for index, record in enumerate(records):
        older = records[index + 1] if index + 1 < len(records) else None
        changes = []
        if older is not None:
            delta = record.diff_against(older, excluded_fields=excluded)
            for change in delta.changes:
                field = model._meta.get_field(change.field)
                assert isinstance(field, models.Field)
                old, new = shown(change.field, change.old), shown(change.field, change.new)
                if old is NOT_SHOWN or new is NOT_SHOWN:
                    old = new = NOT_SHOWN
                changes.append({"field": str(field.verbose_name), "old": old, "new": new})
        entries.append(
            {
                "when": record.history_date,
                "who": user_name(record.history_user) or _("het systeem"),
                "type": record.history_type,
                "changes": changes,
            }
        )
    return entries
