"""Cells for spreadsheets: CSV for Dutch Excel and XLSX workbooks (openpyxl), safe from formulas.

A text that starts with = + - @, a tab or a carriage return is a formula to Excel and
LibreOffice: a supplier typed as `=HYPERLINK(...)` would run when an organiser opens the export
("CSV injection"). So every export writes its cells through one of the two writers here, which
make every text safe themselves, whoever built the rows: in CSV (`csv_chunks`) such a text gets a
leading apostrophe (`safe_cell`), which Excel shows as nothing and LibreOffice reads as "this is
text"; in a workbook (`append_row`) every text cell is stored as text, as openpyxl would
otherwise store "=…" as a formula.

CSV for Dutch Excel is UTF-8 with a byte-order mark (else Excel guesses the encoding), `;`
between fields and a decimal comma (`csv_cell`, `dutch_number`).

Exports can hold ten thousand rows, so both writers take rows one at a time: `csv_chunks` yields
the file in pieces for a `StreamingHttpResponse`, and workbooks are openpyxl's write-only kind
(`new_workbook`), which writes each row to a temporary file as it is appended and never looks
back at earlier rows (`sheet.max_row` on a normal sheet runs over every cell: an export that
asked for it per row took time quadratic in its rows). A write-only sheet takes its column
widths and frozen panes before its first row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import IO, Any

from django.http import StreamingHttpResponse
from django.utils.cache import patch_cache_control
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_CHUNK_ROWS = 500  # rows per piece of a streamed CSV file
# A workbook is built in memory up to this size and in a temporary file beyond it.
SPOOL_BYTES = 4 * 1024 * 1024
XLSX_BLOCK_BYTES = 64 * 1024

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


def csv_chunks(rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """Rows of values as CSV for Dutch Excel, every cell through `csv_cell`, in pieces of
    `CSV_CHUNK_ROWS` rows: the byte-order mark first, then the rows as they are read."""
    yield "\ufeff".encode()
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for count, row in enumerate(rows, start=1):
        writer.writerow([csv_cell(value) for value in row])
        if count % CSV_CHUNK_ROWS == 0:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
    if out.tell():
        yield out.getvalue().encode("utf-8")


def csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    """The whole of `csv_chunks` at once, for a small file."""
    return b"".join(csv_chunks(rows))


def new_workbook() -> Workbook:
    """A write-only workbook with no sheet yet (`workbook.create_sheet(title)`)."""
    return Workbook(write_only=True)


def append_row(
    sheet: WriteOnlyWorksheet,
    values: Sequence[Any],
    *,
    formats: Mapping[int, str] | None = None,
    bold: bool = False,
) -> None:
    """Add a row to a write-only sheet: numbers and dates as they are, every text as text, the
    number format of each column in `formats` (1-based), in bold if asked. An empty row leaves a
    blank line."""
    font = Font(bold=True) if bold else None
    cells = []
    for column, value in enumerate(values, start=1):
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            cell.data_type = "s"
        if formats and column in formats:
            cell.number_format = formats[column]
        if font is not None:
            cell.font = font
        cells.append(cell)
    sheet.append(cells)


def set_widths(sheet: WriteOnlyWorksheet, widths: Sequence[int]) -> None:
    """The width of each column, from the first, in characters (before the sheet's first row)."""
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def saved_workbook(workbook: Workbook) -> Iterator[bytes]:
    """The workbook saved now (in memory while small, on disk beyond `SPOOL_BYTES`), read back
    in blocks; the file is closed when the blocks are read or left."""
    spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    workbook.save(spooled)
    spooled.seek(0)
    blocks = _blocks(spooled)
    # A response that is never read (a HEAD, a client gone) leaves the generator unstarted,
    # which would leave the file open until the interpreter's warning.
    weakref.finalize(blocks, spooled.close)
    return blocks


def _blocks(file: IO[bytes]) -> Iterator[bytes]:
    with file:
        while block := file.read(XLSX_BLOCK_BYTES):
            yield block


def csv_download(chunks: Iterator[bytes], filename: str) -> StreamingHttpResponse:
    """A CSV file sent as it is written, as an attachment no cache keeps (exports hold names of
    people and money)."""
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    patch_cache_control(response, private=True, no_store=True)
    return response


def xlsx_download(blocks: Iterator[bytes], filename: str) -> StreamingHttpResponse:
    """A saved workbook (`saved_workbook`) sent in blocks, as an attachment no cache keeps."""
    response = StreamingHttpResponse(blocks, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    patch_cache_control(response, private=True, no_store=True)
    return response
