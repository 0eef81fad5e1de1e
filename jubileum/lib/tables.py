"""Tables defined once and written three ways: on a page, in an XLSX workbook and as CSV.

A `Table` names its columns (a heading, how to read the value from a row, and its `Format`:
text, whole number, euros, percentage or date) and holds its rows and, if any, the object its
totals row reads. The page renders it with `templates/components/_table.html` (the first column
heads each row; a missing value reads as a dash); a workbook sheet and a CSV file get the same
cells as values (numbers as numbers in a workbook, Dutch-formatted text in CSV), written by
`jubileum.lib.spreadsheets`, which keeps formulas out.

A document for a workbook is a list of `Sheet`s, each a list of parts: a line of text, a table,
or a list of `Figure`s (a label and its value); `workbook_file` writes one sheet per `Sheet`
(a write-only workbook in a temporary file), `csv_document` writes them one after the other as
CSV in pieces.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.utils import formats

from jubileum.lib.money import format_euro
from jubileum.lib.spreadsheets import (
    DATE_FORMAT,
    EURO_FORMAT,
    PERCENT_FORMAT,
    append_row,
    csv_chunks,
    dutch_number,
    new_workbook,
    saved_workbook,
    set_widths,
)

DASH = "\u2013"


class Format(StrEnum):
    TEXT = "text"
    INT = "int"
    EURO = "euro"
    PERCENTAGE = "percentage"
    DATE = "date"


NUMERIC = {Format.INT, Format.EURO, Format.PERCENTAGE}
SHEET_FORMATS = {
    Format.EURO: EURO_FORMAT,
    Format.PERCENTAGE: PERCENT_FORMAT,
    Format.DATE: DATE_FORMAT,
}


def page_text(value: Any, format: Format) -> str:
    """A value as the page shows it, in the active language ("€ 1.234,50", "75,0 %")."""
    if format == Format.EURO:
        return format_euro(value)
    if format == Format.PERCENTAGE:
        return f"{formats.number_format(value, decimal_pos=1)} %"
    if format == Format.DATE:
        return formats.date_format(value, "j M Y")
    return str(formats.localize(value))


def csv_value(value: Any, format: Format) -> Any:
    """A value as the CSV writer takes it (`jubileum.lib.spreadsheets.csv_cell`, which keeps
    text safe from formulas): amounts with two decimals, percentages with one."""
    if value is None:
        return None
    if format == Format.EURO:
        return dutch_number(Decimal(value))
    if format == Format.PERCENTAGE:
        return dutch_number(Decimal(value), 1)
    if format == Format.DATE:
        return value
    return value if isinstance(value, int) else str(value)


@dataclass(frozen=True)
class Note:
    """A footnote mark: the id of the note on the page and its number."""

    id: str
    mark: str


@dataclass(frozen=True)
class Column:
    """One column. `value` reads a row (None: nothing to show); `total` reads the table's
    `totals` (no `total`: the totals row leaves the cell empty). On the page a missing value
    reads as `blank` (a text, or one made from the row). `link`, `flag` (a word after the value,
    such as "boven begroot") and `note` are the page's; `on_page` and `in_sheet` leave a column
    out of the page or out of workbooks and CSV, where one shows more detail than the other.
    `sheet_heading` is the heading in a workbook or CSV file when it must say more than on the
    page, where the table's caption tells the unit ("Aangemeld (personen)")."""

    heading: str
    value: Callable[[Any], Any]
    format: Format = Format.TEXT
    total: Callable[[Any], Any] | None = None
    blank: str | Callable[[Any], str] = DASH
    link: Callable[[Any], str | None] | None = None
    flag: Callable[[Any], str] | None = None
    note: Note | None = None
    on_page: bool = True
    in_sheet: bool = True
    sheet_heading: str = ""

    @property
    def numeric(self) -> bool:
        return self.format in NUMERIC


@dataclass(frozen=True)
class Cell:
    """A cell as the page shows it."""

    text: str
    numeric: bool = False
    nowrap: bool = False
    link: str | None = None
    flag: str = ""
    note: Note | None = None


@dataclass(frozen=True)
class Table:
    id: str  # the caption's id is "<id>-caption"
    caption: str
    columns: Sequence[Column]
    rows: Sequence[Any]
    totals: Any = None  # what the totals row reads; None: no totals row
    empty: str = ""  # the page's line when there are no rows
    caption_hidden: bool = False
    css_class: str = "organiser-table"

    # --- The page --------------------------------------------------------------------------

    @property
    def page_columns(self) -> list[Column]:
        return [column for column in self.columns if column.on_page]

    def _page_cell(self, column: Column, value: Any, row: Any) -> Cell:
        if value is None:
            text = column.blank(row) if callable(column.blank) else column.blank
        else:
            text = page_text(value, column.format)
        return Cell(
            text=text,
            numeric=column.numeric,
            nowrap=column.format == Format.DATE,
            link=column.link(row) if column.link else None,
            flag=column.flag(row) if column.flag else "",
        )

    @property
    def page_rows(self) -> list[list[Cell]]:
        return [
            [self._page_cell(column, column.value(row), row) for column in self.page_columns]
            for row in self.rows
        ]

    @property
    def page_totals(self) -> list[Cell] | None:
        if self.totals is None:
            return None
        cells = []
        for column in self.page_columns:
            if column.total is None:
                cells.append(Cell(text="", numeric=column.numeric))
                continue
            value = column.total(self.totals)
            text = DASH if value is None else page_text(value, column.format)
            cells.append(Cell(text=text, numeric=column.numeric, note=column.note))
        return cells

    # --- Workbooks and CSV -----------------------------------------------------------------

    @property
    def sheet_columns(self) -> list[Column]:
        return [column for column in self.columns if column.in_sheet]

    def sheet_lines(self) -> list[tuple[list[Any], bool]]:
        """The heading, each row and the totals as values, each with whether it is bold."""
        columns = self.sheet_columns
        lines: list[tuple[list[Any], bool]] = [
            ([str(column.sheet_heading or column.heading) for column in columns], True)
        ]
        lines += [([column.value(row) for column in columns], False) for row in self.rows]
        if self.totals is not None:
            totals = [column.total(self.totals) if column.total else None for column in columns]
            lines.append((totals, True))
        return lines

    def write_sheet(self, sheet: Any) -> None:
        columns = self.sheet_columns
        number_formats = {
            index: SHEET_FORMATS[column.format]
            for index, column in enumerate(columns, start=1)
            if column.format in SHEET_FORMATS
        }
        for index, (values, bold) in enumerate(self.sheet_lines()):
            append_row(sheet, values, formats=number_formats if index else None, bold=bold)

    def csv_rows(self) -> list[list[Any]]:
        columns = self.sheet_columns
        rows: list[list[Any]] = []
        for index, (values, _bold) in enumerate(self.sheet_lines()):
            if index == 0:
                rows.append(values)
            else:
                rows.append(
                    [
                        csv_value(value, column.format)
                        for value, column in zip(values, columns, strict=True)
                    ]
                )
        return rows


@dataclass(frozen=True)
class Figure:
    """One figure with its label; `total` marks the figure a list adds up to (in bold)."""

    label: str
    value: Any
    format: Format = Format.INT
    total: bool = False

    @property
    def page_text(self) -> str:
        return DASH if self.value is None else page_text(self.value, self.format)


@dataclass(frozen=True)
class Sheet:
    """One sheet of a workbook: its parts (a line of text, a `Table`, a list of `Figure`s)
    from the top, a blank line between two parts that follow a table or figures."""

    title: str
    parts: Sequence[str | Table | Sequence[Figure]]
    widths: Sequence[int] = field(default_factory=list)
    freeze: str | None = None


def _write_part(sheet: Any, part: str | Table | Sequence[Figure]) -> None:
    if isinstance(part, str):
        append_row(sheet, [part], bold=True)
    elif isinstance(part, Table):
        part.write_sheet(sheet)
    else:
        for figure in part:
            number_format = SHEET_FORMATS.get(figure.format)
            append_row(
                sheet,
                [figure.label, figure.value],
                formats={2: number_format} if number_format else None,
                bold=figure.total,
            )


def _part_rows(part: str | Table | Sequence[Figure]) -> list[list[Any]]:
    if isinstance(part, str):
        return [[part]]
    if isinstance(part, Table):
        return part.csv_rows()
    return [[figure.label, csv_value(figure.value, figure.format)] for figure in part]


def _spaced(parts: Sequence[Any]) -> list[Any]:
    """The parts with None (a blank line) after each table or list of figures but the last."""
    spaced: list[Any] = []
    for index, part in enumerate(parts):
        spaced.append(part)
        if not isinstance(part, str) and index + 1 < len(parts):
            spaced.append(None)
    return spaced


def workbook_file(sheets: Sequence[Sheet]) -> Iterator[bytes]:
    workbook = new_workbook()
    for spec in sheets:
        sheet = workbook.create_sheet(spec.title)
        # A write-only sheet takes its panes and widths before its first row.
        if spec.freeze:
            sheet.freeze_panes = spec.freeze
        set_widths(sheet, spec.widths)
        for part in _spaced(spec.parts):
            if part is None:
                append_row(sheet, [])
            else:
                _write_part(sheet, part)
    return saved_workbook(workbook)


def _document_rows(sheets: Sequence[Sheet]) -> Iterator[list[Any]]:
    for index, spec in enumerate(sheets):
        if index:
            yield []
        yield [spec.title]
        for part in _spaced(spec.parts):
            yield from [[]] if part is None else _part_rows(part)


def csv_document(sheets: Sequence[Sheet]) -> Iterator[bytes]:
    """Every sheet one after the other, each under its title, a blank line between them."""
    return csv_chunks(_document_rows(sheets))
