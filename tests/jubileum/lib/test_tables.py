"""A table defined once, written on a page, in a workbook and as CSV."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

from django.template.loader import render_to_string
from openpyxl import load_workbook

from jubileum.lib.tables import (
    DASH,
    Column,
    Figure,
    Format,
    Note,
    Sheet,
    Table,
    csv_document,
    workbook_file,
)


@dataclass
class Line:
    name: str
    day: dt.date
    persons: int | None
    amount: Decimal
    share: Decimal | None


@dataclass
class Totals:
    persons: int
    amount: Decimal


LINES = [
    Line("=Taart", dt.date(2027, 1, 5), 12, Decimal("1234.50"), Decimal("75.0")),
    Line("Koffie", dt.date(2027, 2, 1), None, Decimal("0.05"), None),
]


def table(**kwargs) -> Table:
    kwargs = {"rows": LINES, "totals": Totals(persons=12, amount=Decimal("1234.55")), **kwargs}
    return Table(
        id="lines",
        caption="Regels",
        columns=[
            Column("Naam", lambda line: line.name, total=lambda _t: "Totaal"),
            Column("Datum", lambda line: line.day, Format.DATE),
            Column(
                "Personen",
                lambda line: line.persons,
                Format.INT,
                total=lambda t: t.persons,
                blank=lambda line: f"geen ({line.name})",
                note=Note("note-persons", "1"),
                sheet_heading="Personen (aantal)",
            ),
            Column("Bedrag", lambda line: line.amount, Format.EURO, total=lambda t: t.amount),
            Column(
                "Deel",
                lambda line: line.share,
                Format.PERCENTAGE,
                flag=lambda line: "veel" if line.share else "",
                in_sheet=False,
            ),
            Column("Alleen in het blad", lambda line: line.name.upper(), on_page=False),
        ],
        **kwargs,
    )


def test_page_cells_are_formatted_in_the_active_language():
    rows = table().page_rows
    assert [cell.text for cell in rows[0]] == ["=Taart", "5 Jan 2027", "12", "€ 1.234,50", "75,0 %"]
    assert [cell.text for cell in rows[1]] == [
        "Koffie",
        "1 Feb 2027",
        "geen (Koffie)",
        "€ 0,05",
        DASH,
    ]
    assert [cell.numeric for cell in rows[0]] == [False, False, True, True, True]
    assert rows[0][1].nowrap and rows[0][4].flag == "veel" and rows[1][4].flag == ""
    totals = table().page_totals
    assert [cell.text for cell in totals] == ["Totaal", "", "12", "€ 1.234,55", ""]
    assert totals[2].note == Note("note-persons", "1")
    assert table(totals=None).page_totals is None


def test_the_component_renders_the_table():
    html = render_to_string("components/_table.html", {"table": table()})
    assert '<caption id="lines-caption">Regels</caption>' in html
    assert 'aria-labelledby="lines-caption"' in html
    assert '<th scope="row">=Taart</th>' in html
    assert '<td class="num">75,0 % <strong class="over-label">veel</strong></td>' in html
    assert '<td class="nowrap">5 Jan 2027</td>' in html
    assert 'href="#note-persons"' in html
    assert "Alleen in het blad" not in html
    empty = render_to_string("components/_table.html", {"table": table(rows=[], empty="Niets.")})
    assert '<td colspan="5">Niets.</td>' in empty


def test_a_workbook_holds_values_and_the_sheet_columns():
    sheets = [
        Sheet("Regels", ["Een titel", table(), [Figure("Bedrag", Decimal("2.50"), Format.EURO)]])
    ]
    rows = list(load_workbook(io.BytesIO(b"".join(workbook_file(sheets))))["Regels"].iter_rows())
    values = [tuple(cell.value for cell in line) for line in rows]
    assert values[0][0] == "Een titel"
    assert values[1] == ("Naam", "Datum", "Personen (aantal)", "Bedrag", "Alleen in het blad")
    assert values[2] == ("=Taart", dt.datetime(2027, 1, 5), 12, 1234.5, "=TAART")
    assert rows[2][0].data_type == "s" and "€" in rows[2][3].number_format
    assert values[3][2] is None
    assert values[4][:4] == ("Totaal", None, 12, 1234.55)
    assert all(cell.value is None for cell in rows[5])  # a blank line before the figures
    assert values[6][:2] == ("Bedrag", 2.5)


def test_csv_writes_the_same_cells_for_dutch_excel():
    sheets = [Sheet("Regels", [table(), [Figure("Personen", 3)]]), Sheet("Leeg", ["Niets"])]
    text = b"".join(csv_document(sheets)).decode("utf-8").removeprefix("\ufeff")
    assert text.splitlines() == [
        "Regels",
        "Naam;Datum;Personen (aantal);Bedrag;Alleen in het blad",
        "'=Taart;05-01-2027;12;1234,50;'=TAART",
        "Koffie;01-02-2027;;0,05;KOFFIE",
        "Totaal;;12;1234,55;",
        "",
        "Personen;3",
        "",
        "Leeg",
        "Niets",
    ]
