"""Cells for spreadsheets: text that a spreadsheet would run as a formula stays text."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from jubileum.lib.spreadsheets import (
    EURO_FORMAT,
    append_row,
    csv_bytes,
    csv_chunks,
    dutch_date,
    dutch_number,
    new_workbook,
    safe_cell,
    saved_workbook,
)


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=1+2", "'=1+2"),
        ("+31 6 12345678", "'+31 6 12345678"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("\rCR", "'\rCR"),
        ("Bakkerij = lekker", "Bakkerij = lekker"),
        ("", ""),
    ],
)
def test_safe_cell_keeps_formulas_out(text, written):
    assert safe_cell(text) == written


def test_dutch_numbers_and_dates():
    assert dutch_number(Decimal("1234.5")) == "1234,50"
    assert dutch_number(Decimal("76.92"), 1) == "76,9"
    assert dutch_date(dt.date(2027, 1, 5)) == "05-01-2027"


def test_csv_bytes_is_for_dutch_excel():
    assert csv_bytes([["a;b", "c"], []]) == '\ufeff"a;b";c\r\n\r\n'.encode()


def test_csv_bytes_writes_no_formula_whoever_built_the_rows():
    """The writer itself keeps formulas out (issue 15 case 11), so no export relies on calling
    `safe_cell` on each cell; numbers and dates it is given are written for Dutch Excel."""
    rows = [
        ['=HYPERLINK("http://x")', "@SUM(1)", "+1", "-", "\t=1", "\r=1", "Bakkerij"],
        [Decimal("-12.50"), dutch_number(Decimal("-7.25"), 1), -3, dt.date(2027, 1, 5), None],
    ]
    text = csv_bytes(rows).decode("utf-8").removeprefix("\ufeff")
    assert list(csv.reader(io.StringIO(text), delimiter=";")) == [
        ['\'=HYPERLINK("http://x")', "'@SUM(1)", "'+1", "'-", "'\t=1", "'\r=1", "Bakkerij"],
        ["-12,50", "-7,2", "-3", "05-01-2027", ""],
    ]


def test_append_row_stores_text_as_text_with_formats_and_bold():
    workbook = new_workbook()
    sheet = workbook.create_sheet("Blad")
    append_row(sheet, ["=HYPERLINK(1)", Decimal("12.50")], formats={2: EURO_FORMAT}, bold=True)
    append_row(sheet, [])
    append_row(sheet, ["-5", 3])
    cells = list(load_workbook(io.BytesIO(b"".join(saved_workbook(workbook)))).active.iter_rows())
    assert [(cell.value, cell.data_type) for cell in cells[0]] == [
        ("=HYPERLINK(1)", "s"),
        (12.5, "n"),
    ]
    assert cells[0][1].number_format == EURO_FORMAT
    assert cells[0][0].font.b and cells[0][1].font.b
    assert [cell.value for cell in cells[1]] == [None, None]  # the blank line
    assert [(cell.value, cell.data_type) for cell in cells[2]] == [("-5", "s"), (3, "n")]


def test_workbooks_are_write_only():
    """A write-only sheet writes each row as it comes and cannot be asked for earlier ones: the
    exports cannot fall back into reading `max_row` a row (issue 20)."""
    workbook = new_workbook()
    assert workbook.write_only
    assert not hasattr(workbook.create_sheet("Blad"), "max_row")


def test_csv_chunks_are_the_file_in_pieces(monkeypatch):
    monkeypatch.setattr("jubileum.lib.spreadsheets.CSV_CHUNK_ROWS", 2)
    rows = [["=1", n] for n in range(5)]
    pieces = list(csv_chunks(iter(rows)))
    assert len(pieces) == 4  # the byte-order mark, then two rows, two rows and one
    assert b"".join(pieces) == csv_bytes(rows)
    assert pieces[1] == b"'=1;0\r\n'=1;1\r\n"
