"""Cells for spreadsheets: CSV for Dutch Excel and XLSX workbooks (openpyxl), safe from formulas.

A text that starts with = + - @, a tab or a carriage return is a formula to Excel and
LibreOffice: a supplier typed as `=HYPERLINK(...)` would run when an organiser opens the export
("CSV injection"). So every export writes its cells through one of the two writers here, which
make every text safe themselves, whoever built the rows: in CSV (`csv_bytes`) such a text gets a
leading apostrophe (`safe_cell`), which Excel shows as nothing and LibreOffice reads as "this is
text"; in a workbook (`append_row`) every text cell is stored as text, as openpyxl would
otherwise store "=…" as a formula.

CSV for Dutch Excel is UTF-8 with a byte-order mark (else Excel guesses the encoding), `;`
between fields and a decimal comma (`csv_cell`, `dutch_number`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# Number formats of workbook cells.
EURO_FORMAT = '"€" #,##0.00;[Red]"€" -#,##0.00'
DATE_FORMAT = "DD-MM-YYYY"
PERCENT_FORMAT = '0.0" %"'


def safe_cell(text: str) -> str:
    """Text a spreadsheet will not run: a leading formula character gets an apostrophe."""
    return f"'{text}" if text.startswith(FORMULA_START) else text


class Number(str):
    """A number written out for Dutch Excel (`dutch_number`): the CSV writer keeps it as it is,
    where a text starting with "-" gets an apostrophe."""


def dutch_number(amount: Decimal, places: int = 2) -> Number:
    """Plain digits with a decimal comma and no thousands separator: what Dutch Excel reads as a
    number (a "." would be taken for a thousands separator)."""
    return Number(f"{amount:.{places}f}".replace(".", ","))


def dutch_date(day: dt.date) -> str:
    return day.strftime("%d-%m-%Y")


def csv_cell(value: Any) -> str:
    """One CSV cell for Dutch Excel: an amount (Decimal) with a decimal comma and two places, a
    date as DD-MM-YYYY, a whole number as digits, None as nothing, a `Number` as written, and
    any other value as text safe from formulas."""
    if value is None:
        return ""
    if isinstance(value, Number):
        return value
    if isinstance(value, Decimal):
        return dutch_number(value)
    if isinstance(value, dt.date):
        return dutch_date(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return safe_cell(str(value))


def csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    """Rows of values as CSV for Dutch Excel, every cell through `csv_cell`."""
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(
        [csv_cell(value) for value in row] for row in rows
    )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def append_row(
    sheet: Worksheet,
    values: Sequence[Any],
    *,
    formats: Mapping[int, str] | None = None,
    bold: bool = False,
) -> None:
    """Add a row to a workbook sheet: numbers and dates as they are, every text as text, the
    number format of each column in `formats` (1-based), in bold if asked. An empty row leaves a
    blank line."""
    sheet.append(list(values))
    if not values:
        return
    font = Font(bold=True) if bold else None
    for column, cell in enumerate(sheet[sheet.max_row], start=1):
        if isinstance(cell.value, str):
            cell.data_type = "s"
        if formats and column in formats:
            cell.number_format = formats[column]
        if font is not None:
            cell.font = font


def set_widths(sheet: Worksheet, widths: Sequence[int]) -> None:
    """The width of each column, from the first, in characters."""
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
