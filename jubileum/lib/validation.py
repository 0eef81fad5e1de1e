"""The problems of a 422 `validation_error` in the request's language.

pydantic words its problems in English whatever the request's language, so a Dutch `message`
came with English `msg` details. Each problem keeps its `type`, `loc` and `ctx` (what a program
reads); its `msg` is ours, by `type`, in the active language. A type without a message of its own
gets the general one rather than pydantic's English.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

_NUMBER = _("Moet een getal zijn.")
_WHOLE_NUMBER = _("Moet een geheel getal zijn.")
_BOOLEAN = _("Moet true of false zijn.")
_DATE = _("Moet een datum zijn, als JJJJ-MM-DD.")
_DATETIME = _("Moet een tijdstip zijn in ISO 8601, bijvoorbeeld 2027-04-10T14:00:00+02:00.")
_CHOICE = _("Moet een van deze waarden zijn: %(expected)s.")
_OBJECT = _("Moet een object zijn.")
_JSON = _("Dit is geen geldige JSON.")

# pydantic's error types (https://docs.pydantic.dev/latest/errors/validation_errors/) that our
# schemas can give, with the `ctx` keys their messages name.
MESSAGES: dict[str, Promise] = {
    "missing": _("Dit veld is verplicht."),
    "extra_forbidden": _("Dit veld kennen we hier niet."),
    "string_type": _("Moet tekst zijn."),
    "string_unicode": _("Moet tekst in UTF-8 zijn."),
    "string_too_short": ngettext_lazy(
        "Te kort: minstens %(min_length)s teken.",
        "Te kort: minstens %(min_length)s tekens.",
        "min_length",
    ),
    "string_too_long": ngettext_lazy(
        "Te lang: hoogstens %(max_length)s teken.",
        "Te lang: hoogstens %(max_length)s tekens.",
        "max_length",
    ),
    "string_pattern_mismatch": _("Heeft niet de vorm die hier hoort."),
    "int_type": _WHOLE_NUMBER,
    "int_parsing": _WHOLE_NUMBER,
    "int_from_float": _WHOLE_NUMBER,
    "int_parsing_size": _("Dit getal is te groot."),
    "float_type": _NUMBER,
    "float_parsing": _NUMBER,
    "greater_than": _("Moet groter zijn dan %(gt)s."),
    "greater_than_equal": _("Moet %(ge)s of meer zijn."),
    "less_than": _("Moet kleiner zijn dan %(lt)s."),
    "less_than_equal": _("Mag hoogstens %(le)s zijn."),
    "bool_type": _BOOLEAN,
    "bool_parsing": _BOOLEAN,
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "datetime_type": _DATETIME,
    "datetime_parsing": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "datetime_object_invalid": _DATETIME,
    "enum": _CHOICE,
    "literal_error": _CHOICE,
    "list_type": _("Moet een lijst zijn."),
    "too_short": _("Te weinig: minstens %(min_length)s."),
    "too_long": _("Te veel: hoogstens %(max_length)s."),
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "dict_type": _OBJECT,
    "json_invalid": _JSON,
    "json_type": _JSON,
}
GENERAL = _("Deze waarde is ongeldig.")


def _message(problem: dict[str, Any]) -> str:
    ctx = dict(problem.get("ctx") or {})
    if problem["type"] in {"value_error", "assertion_error"} and ctx.get("error"):
        # Our own validators raise their message translated (pydantic adds "Value error, ").
        return str(ctx["error"])
    if "expected" in ctx:
        # pydantic lists choices as "'nl' or 'en'"; without its English "or".
        ctx["expected"] = str(ctx["expected"]).replace(" or ", ", ")
    message = MESSAGES.get(problem["type"], GENERAL)
    try:
        # A lazy plural picks its form by the ctx value it names.
        return str(message % ctx)
    except (KeyError, TypeError, ValueError):
        # A ctx without the value the message names: the message without the value.
        return str(GENERAL)


def translated(problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The problems with `msg` in the active language; everything else as it was."""
    return [{**problem, "msg": _message(problem)} for problem in problems]


def form_problems(form: Any, loc: tuple[str | int, ...] = ("body",)) -> list[dict[str, Any]]:
    """A Django form's errors as 422 problems, one per message, at `[*loc, field]` (`__all__`
    for a rule between fields). Typed `value_error` with the message in `ctx.error`, as pydantic
    gives our own validators' messages (which `translated` keeps), and the form's error code in
    `ctx.code` for a program to read."""
    return [
        {
            "type": "value_error",
            "loc": [*loc, field],
            "msg": error["message"],
            "ctx": {"error": error["message"], "code": error["code"] or "invalid"},
        }
        for field, errors in form.errors.get_json_data().items()
        for error in errors
    ]
