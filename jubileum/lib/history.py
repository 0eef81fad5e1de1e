"""A model's change history (django-simple-history) as organisers read it: who, when, and which
fields went from what to what. The budget's expense page, the programme's settings page and the
organiser's activity page show it through templates/components/_history.html."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.utils import formats
from django.utils.translation import gettext as _

from jubileum.lib.money import format_euro
from jubileum.templatetags.jubileum_format import moment

EMPTY = "\u2013"
# Longer than a line of history should carry (a description, a statement): the page says such
# a field changed, not how.
LONG_TEXT = 120


def user_name(user: AbstractBaseUser | None) -> str:
    """How a person is named in a history: full name, else username."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()  # type: ignore[attr-defined]


def shown_value(
    model: type[models.Model],
    field_name: str,
    value: Any,
    names: Mapping[str, Mapping[Any, str]] | None = None,
) -> str:
    """A stored value as a reader sees it: a related row by name (`names[field][pk]`), a
    choice by its label, money in euros, moments and dates written out, empty as a dash."""
    if value in (None, ""):
        return EMPTY
    if names and field_name in names:
        return names[field_name].get(value, str(value))
    field = model._meta.get_field(field_name)
    choices = getattr(field, "flatchoices", None)
    if choices:
        return str(dict(choices).get(value, value))
    if isinstance(field, models.BooleanField):
        return _("ja") if value else _("nee")
    if isinstance(value, Decimal):
        return format_euro(value)
    if isinstance(value, dt.datetime):
        return moment(value)
    if isinstance(value, dt.date):
        return formats.date_format(value, "j F Y")
    return str(value)


def change_history(
    records: Iterable[Any],
    *,
    skip: Iterable[str] = (),
    names: Mapping[str, Mapping[Any, str]] | None = None,
) -> list[dict[str, Any]]:
    """Each history record, newest first, as {"when", "who", "type", "changes"}; `changes` lists
    {"field", "old", "new"} against the record before it (old and new None for a long text).
    `records` must be ordered newest first and have `history_user` selected; `skip` names
    fields not to show."""
    records = list(records)
    skipped = list(skip)
    entries = []
    for index, record in enumerate(records):
        older = records[index + 1] if index + 1 < len(records) else None
        model = record.instance_type
        changes: list[dict[str, str | None]] = []
        if older is not None:
            delta = record.diff_against(older, excluded_fields=skipped)
            for change in delta.changes:
                field = model._meta.get_field(change.field)
                old: str | None = shown_value(model, change.field, change.old, names)
                new: str | None = shown_value(model, change.field, change.new, names)
                if (
                    isinstance(field, models.TextField)
                    or max(len(old or ""), len(new or "")) > LONG_TEXT
                ):
                    old = new = None  # the page says "gewijzigd"
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
