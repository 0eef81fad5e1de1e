"""Importing the member roster of a programme from a CSV file.

The file comes from whoever keeps the brigades' member administration, most likely through
Excel, so the reader is forgiving about form (`;` or `,` between columns, a UTF-8 byte-order
mark, Excel's Windows-1252 "CSV" without one, Dutch or English column names, blank lines) and
strict about content: every row is checked, every problem is reported with its line number, and
nothing is imported unless every row is right. A second import of the same list updates the
entries it finds by e-mail address (case-insensitively) instead of adding them again.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from events.models import Programme
from jubileum.lib.errors import DomainError
from registrations.models import Brigade, RosterEntry

MAX_YEARS = 80
NAME_MAX_LENGTH = RosterEntry._meta.get_field("name").max_length
EMAIL_MAX_LENGTH = RosterEntry._meta.get_field("email").max_length

# Each column by the names a spreadsheet may give it (compared in lower case).
COLUMNS = {
    "name": {"name", "naam"},
    "email": {"email", "e-mail", "e-mailadres", "emailadres", "mail"},
    "brigade": {"brigade", "korps", "post"},
    "years": {"years", "dienstjaren", "jaren"},
    "status": {"status", "soort"},
}
# How an error names a missing column: both names the file may use.
COLUMN_LABELS = {"name": "naam / name", "email": "e-mail / email", "brigade": "korps / brigade"}
REQUIRED_COLUMNS = ("name", "email", "brigade")
STATUSES = {"lid": False, "oud-lid": True, "oudlid": True, "oud lid": True}
BRIGADES = {choice.value: choice for choice in Brigade}


class RosterError(DomainError):
    """The file cannot be imported; `errors` says why, one line per problem."""

    code = "roster_invalid"
    status = 422
    message = gettext_lazy("De ledenlijst is niet ingelezen; er is niets veranderd.")

    def __init__(self, errors: list[str]) -> None:
        super().__init__(details={"errors": errors})
        self.errors = errors


@dataclass(frozen=True)
class RosterImport:
    created: int
    updated: int
    unchanged: int


@dataclass
class _Row:
    line: int
    name: str
    email: str
    brigade: str
    years: int | None
    is_former: bool


def _decode(data: bytes) -> str:
    # Excel's "CSV UTF-8" starts with a byte-order mark; its plain "CSV" is Windows-1252.
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _delimiter(text: str) -> str:
    """`;` (what Dutch Excel writes) or `,`: whichever the header line has more of."""
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def _column_positions(header: list[str]) -> tuple[dict[str, int], list[str]]:
    positions: dict[str, int] = {}
    errors = []
    for index, title in enumerate(header):
        title = title.strip().lower()
        for column, names in COLUMNS.items():
            if title in names and column not in positions:
                positions[column] = index
    for column in REQUIRED_COLUMNS:
        if column not in positions:
            errors.append(
                _("Kolom “%(column)s” ontbreekt in de eerste regel (de kolomnamen).")
                % {"column": COLUMN_LABELS[column]}
            )
    return positions, errors


def _parse_row(line: int, cells: dict[str, str], errors: list[str]) -> _Row | None:
    found: list[str] = []

    def problem(text: str) -> None:
        found.append(_("Regel %(line)s: %(problem)s") % {"line": line, "problem": text})

    name = cells.get("name", "")
    if not name:
        problem(_("naam ontbreekt"))
    elif len(name) > NAME_MAX_LENGTH:
        problem(_("naam is te lang (hoogstens %(max)s tekens)") % {"max": NAME_MAX_LENGTH})

    email = cells.get("email", "")
    if not email:
        problem(_("e-mailadres ontbreekt"))
    else:
        try:
            if len(email) > EMAIL_MAX_LENGTH:
                raise ValidationError("too long")
            validate_email(email)
        except ValidationError:
            problem(_("e-mailadres “%(email)s” is ongeldig") % {"email": email})

    brigade = cells.get("brigade", "").lower()
    if not brigade:
        problem(_("korps ontbreekt (Soest of Soesterberg)"))
    elif brigade not in BRIGADES:
        problem(
            _("korps “%(brigade)s” kennen we niet; kies Soest of Soesterberg")
            % {"brigade": cells["brigade"]}
        )

    years = None
    years_text = cells.get("years", "")
    if years_text:
        try:
            years = int(years_text)
        except ValueError:
            years = -1
        if not 0 <= years <= MAX_YEARS:
            problem(
                _("dienstjaren “%(years)s” moeten een heel getal van 0 tot en met %(max)s zijn")
                % {"years": years_text, "max": MAX_YEARS}
            )

    status = " ".join(cells.get("status", "").lower().split())
    if status and status not in STATUSES:
        problem(
            _("status “%(status)s” kennen we niet; kies lid of oud-lid")
            % {"status": cells["status"]}
        )

    errors.extend(found)
    if found:
        return None
    return _Row(line, name, email, brigade, years, STATUSES.get(status, False))


def parse_roster(data: bytes) -> tuple[list[_Row], set[str]]:
    """The rows of the file and which optional columns it has; RosterError when any is wrong."""
    text = _decode(data)
    if "\x00" in text:
        # No text column takes NUL (PostgreSQL refuses it); a file with one is seldom a CSV
        # file at all (a spreadsheet saved in its own format, say).
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise RosterError(
            [
                _("Regel %(line)s: %(problem)s")
                % {
                    "line": line,
                    "problem": _(
                        "bevat een NUL-teken, dat niet in tekst hoort; is dit wel een CSV-bestand?"
                    ),
                }
            ]
        )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    header = next(reader, None)
    if header is None:
        raise RosterError([_("Het bestand is leeg.")])
    positions, errors = _column_positions(header)
    if errors:
        raise RosterError(errors)

    rows: list[_Row] = []
    first_line_of: dict[str, int] = {}
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        # csv counts physical lines, so a quoted value spanning two lines keeps numbers right.
        line = reader.line_num
        values = {
            column: cells[index].strip() if index < len(cells) else ""
            for column, index in positions.items()
        }
        row = _parse_row(line, values, errors)
        if row is None:
            continue
        key = row.email.lower()
        if key in first_line_of:
            errors.append(
                _("Regel %(line)s: e-mailadres %(email)s staat ook al op regel %(first)s")
                % {"line": line, "email": row.email, "first": first_line_of[key]}
            )
            continue
        first_line_of[key] = line
        rows.append(row)
    if errors:
        raise RosterError(errors)
    if not rows:
        raise RosterError([_("Het bestand bevat geen leden, alleen kolomnamen.")])
    return rows, {column for column in ("years", "status") if column in positions}


def import_roster(programme_id: int, data: bytes) -> RosterImport:
    """Add the members in the CSV file `data` to the programme's roster, or update them.

    Entries are matched by e-mail address, case-insensitively. Columns the file lacks (years,
    status) leave what an entry already says alone. Entries missing from the file stay: a
    shorter list is no reason to take away someone's place on a members-only activity.
    """
    rows, optional_columns = parse_roster(data)
    with transaction.atomic():
        # Two imports at once would both try to create the same new entries.
        Programme.objects.select_for_update().get(pk=programme_id)
        existing = {
            entry.email.lower(): entry
            for entry in RosterEntry.objects.filter(programme_id=programme_id)
        }
        new, changed = [], []
        for row in rows:
            entry = existing.get(row.email.lower())
            if entry is None:
                new.append(
                    RosterEntry(
                        programme_id=programme_id,
                        name=row.name,
                        email=row.email,
                        brigade=row.brigade,
                        years_of_service=row.years,
                        is_former=row.is_former,
                    )
                )
                continue
            values = {"name": row.name, "email": row.email, "brigade": row.brigade}
            if "years" in optional_columns:
                values["years_of_service"] = row.years
            if "status" in optional_columns:
                values["is_former"] = row.is_former
            if any(getattr(entry, field) != value for field, value in values.items()):
                for field, value in values.items():
                    setattr(entry, field, value)
                changed.append(entry)
        RosterEntry.objects.bulk_create(new)
        RosterEntry.objects.bulk_update(
            changed, ["name", "email", "brigade", "years_of_service", "is_former"]
        )
    return RosterImport(
        created=len(new), updated=len(changed), unchanged=len(rows) - len(new) - len(changed)
    )
