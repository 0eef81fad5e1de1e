"""Forms for the public pages."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from events.listing import ActivityFilter
from events.models import Activity

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# Far enough either way for any programme, near enough that date arithmetic cannot overflow.
_FIRST_YEAR, _LAST_YEAR = 1900, 2999
_TRUE, _FALSE = {"1", "on", "true", "ja"}, {"", "0", "off", "false", "nee"}


class _FlagInput(forms.CheckboxInput):
    """A checkbox that passes the raw value on, so the field can refuse nonsense."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, check_test=lambda value: str(value).lower() in _TRUE)

    def value_from_datadict(self, data, files, name) -> str:
        return data.get(name, "")

    def format_value(self, value: Any) -> str:
        return "1"


class _FlagField(forms.Field):
    widget = _FlagInput
    default_error_messages = {
        "invalid": _("Kies of je alleen activiteiten met vrije plaatsen wilt zien."),
    }

    def to_python(self, value: Any) -> bool:
        text = str(value if value is not None else "").strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


def _month_choice(month: dt.date) -> tuple[str, str]:
    return month.strftime("%Y-%m"), formats.date_format(month, "YEAR_MONTH_FORMAT")


class ActivityFilterForm(forms.Form):
    """The filters above the activity list, read from the query string.

    A value that makes no sense is reported and then ignored, so a mangled link still shows the
    programme rather than an error page.
    """

    audience = forms.ChoiceField(
        label=_("Voor wie"),
        required=False,
        choices=[("", _("Alle activiteiten")), *Activity.Audience.choices],
        error_messages={"invalid_choice": _("Kies voor wie de activiteit is uit de lijst.")},
    )
    month = forms.CharField(label=_("Maand"), required=False, widget=forms.Select)
    available = _FlagField(label=_("Alleen met plaatsen vrij"), required=False)

    def __init__(self, data: Any = None, *, months: Sequence[dt.date] = (), **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(data, **kwargs)
        self._months = list(months)
        self.fields["month"].widget.choices = [
            ("", _("Alle maanden")),
            *(_month_choice(m) for m in self._months),
        ]

    def clean_month(self) -> dt.date | None:
        value = self.cleaned_data["month"].strip()
        if not value:
            return None
        match = _MONTH.match(value)
        if match:
            year, month = int(match[1]), int(match[2])
            if _FIRST_YEAR <= year <= _LAST_YEAR and 1 <= month <= 12:
                chosen = dt.date(year, month, 1)
                if chosen not in self._months:
                    # A month without activities (from an old link): show it as chosen anyway.
                    self.fields["month"].widget.choices.append(_month_choice(chosen))
                return chosen
        raise forms.ValidationError(
            _("Kies een maand als JJJJ-MM, bijvoorbeeld 2026-12."), code="invalid"
        )

    def to_filter(self) -> ActivityFilter:
        """The filter to apply: the valid fields only (call after is_valid())."""
        cleaned = getattr(self, "cleaned_data", {})
        return ActivityFilter(
            audience=cleaned.get("audience") or "",
            month=cleaned.get("month"),
            available=bool(cleaned.get("available")),
        )
