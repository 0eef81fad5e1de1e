"""The ledger for the municipality's financial administration, as CSV and as XLSX.

Columns: date, supplier, description, invoice number, category, activity, amount excluding VAT,
VAT, amount including VAT, status, approved by. Every figure is a stored cent amount
(`Expense.vat_amount` is stored, not recomputed), so the totals row adds up to the cent with the
summary and the API. Which of the two amounts counts against the budget (the programme's
setting) is stated in the column heading, in a line above the table (XLSX) and in the file name.

CSV is written for Dutch Excel: UTF-8 with a byte-order mark (else Excel guesses the encoding),
`;` between fields and a decimal comma. The XLSX holds real numbers with a euro format and real
dates; a second sheet lists the income, and the CSV lists it below the expenses (after an empty
line, under the heading "Inkomsten"), with the same columns and total. Every cell goes through
`jubileum.lib.spreadsheets`, so a text such as a supplier "=..." stays text and never runs as a
formula. Both read the expenses in batches and write them as they come (the CSV streams, the
workbook is write-only), adding up the totals on the way: a ledger of thousands of lines takes
time in proportion and little memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from budget.models import Budget, Expense, Income
from jubileum.lib.spreadsheets import (
    DATE_FORMAT,
    EURO_FORMAT,
    append_row,
    csv_chunks,
    new_workbook,
    saved_workbook,
    set_widths,
)

BATCH = 2000  # expenses read from the database at a time


@dataclass(frozen=True)
class LedgerRow:
    date: dt.date
    supplier: str
    description: str
    invoice_number: str
    category: str
    activity: str
    amount_excl_vat: Decimal
    vat: Decimal
    amount_incl_vat: Decimal
    status: str
    approved_by: str

    def counted(self, includes_vat: bool) -> Decimal:
        return self.amount_incl_vat if includes_vat else self.amount_excl_vat


def _person(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def ledger_rows(budget: Budget) -> Iterator[LedgerRow]:
    """Every expense of the budget, by date (oldest first), in one query read in batches."""
    expenses = (
        Expense.objects.filter(budget=budget)
        .select_related("category", "activity", "approved_by")
        .order_by("date", "pk")
    )
    return (
        LedgerRow(
            date=expense.date,
            supplier=expense.supplier,
            description=expense.description,
            invoice_number=expense.invoice_number,
            category=expense.category.name,
            activity=expense.activity.title if expense.activity else "",
            amount_excl_vat=expense.amount_excl_vat,
            vat=expense.vat_amount,
            amount_incl_vat=expense.amount_excl_vat + expense.vat_amount,
            status=str(expense.get_status_display()),
            approved_by=_person(expense.approved_by),
        )
        for expense in expenses.iterator(chunk_size=BATCH)
    )


@dataclass
class LedgerTotals:
    """The sums of the rows `counting` has let through."""

    amount_excl_vat: Decimal = Decimal("0.00")
    vat: Decimal = Decimal("0.00")
    amount_incl_vat: Decimal = Decimal("0.00")

    def counting(self, rows: Iterable[LedgerRow]) -> Iterator[LedgerRow]:
        for row in rows:
            self.amount_excl_vat += row.amount_excl_vat
            self.vat += row.vat
            self.amount_incl_vat += row.amount_incl_vat
            yield row


def vat_mode_note(budget: Budget) -> str:
    if budget.includes_vat:
        return _("Het budget telt bedragen inclusief btw.")
    return _("Het budget telt bedragen exclusief btw.")


def headings(budget: Budget) -> list[str]:
    counts = _(" (telt voor het budget)")
    return [
        _("Datum"),
        _("Leverancier"),
        _("Omschrijving"),
        _("Factuurnummer"),
        _("Categorie"),
        _("Activiteit"),
        _("Bedrag excl. btw") + ("" if budget.includes_vat else counts),
        _("Btw"),
        _("Bedrag incl. btw") + (counts if budget.includes_vat else ""),
        _("Status"),
        _("Goedgekeurd door"),
    ]


def ledger_filename(budget: Budget, extension: str) -> str:
    """e.g. `grootboek-brandweer-100-jaar-incl-btw-2023-10-31.csv`."""
    mode = "incl-btw" if budget.includes_vat else "excl-btw"
    today = timezone.localdate().isoformat()
    return f"grootboek-{budget.programme.slug}-{mode}-{today}.{extension}"


def _cells(row: LedgerRow) -> list[object]:
    return [
        row.date,
        row.supplier,
        row.description,
        row.invoice_number,
        row.category,
        row.activity,
        row.amount_excl_vat,
        row.vat,
        row.amount_incl_vat,
        row.status,
        row.approved_by,
    ]


def income_headings() -> list[str]:
    return [_("Datum"), _("Soort"), _("Omschrijving"), _("Activiteit"), _("Bedrag")]


def income_cells(budget: Budget) -> tuple[list[list[object]], Decimal]:
    """Every income line of the budget by date (oldest first), as cells, and their total; in one
    query (a budget has a few sponsors, not thousands)."""
    income = Income.objects.filter(budget=budget).select_related("activity").order_by("date", "pk")
    cells: list[list[object]] = [
        [
            line_item.date,
            str(line_item.get_kind_display()),
            line_item.description,
            line_item.activity.title if line_item.activity else "",
            line_item.amount,
        ]
        for line_item in income
    ]
    return cells, sum((line_item.amount for line_item in income), Decimal("0.00"))


def _totals_cells(budget: Budget, totals: LedgerTotals) -> list[object]:
    return [
        _("Totaal"),
        "",
        vat_mode_note(budget),
        "",
        "",
        "",
        totals.amount_excl_vat,
        totals.vat,
        totals.amount_incl_vat,
        "",
        "",
    ]


def _ledger_csv_rows(budget: Budget) -> Iterator[list[object]]:
    yield headings(budget)
    totals = LedgerTotals()
    for row in totals.counting(ledger_rows(budget)):
        yield _cells(row)
    yield _totals_cells(budget, totals)
    income, income_total = income_cells(budget)
    yield []
    yield [_("Inkomsten")]
    yield income_headings()
    yield from income
    yield [_("Totaal"), "", "", "", income_total]


def ledger_csv(budget: Budget) -> Iterator[bytes]:
    """The ledger as CSV for Dutch Excel: BOM, `;`, decimal comma, dates as DD-MM-YYYY, and a
    totals row below the expenses; then, after an empty line, the income under its own heading
    with its total (as the XLSX's second sheet). Which amount counts is marked in its column
    heading. Written as the expenses are read."""
    return csv_chunks(_ledger_csv_rows(budget))


def ledger_xlsx(budget: Budget) -> Iterator[bytes]:
    """The ledger as an Excel workbook: numbers as numbers in a euro format, dates as dates, a
    totals row, the VAT mode stated above the table; a second sheet lists the income."""
    workbook = new_workbook()
    sheet = workbook.create_sheet(_("Uitgaven"))
    sheet.freeze_panes = "A3"
    set_widths(sheet, [12, 28, 40, 16, 22, 28, 18, 12, 18, 14, 22])
    money = {7: EURO_FORMAT, 8: EURO_FORMAT, 9: EURO_FORMAT}

    append_row(sheet, [f"{budget.programme.name}: {vat_mode_note(budget)}"], bold=True)
    append_row(sheet, headings(budget), bold=True)
    totals = LedgerTotals()
    for row in totals.counting(ledger_rows(budget)):
        append_row(sheet, _cells(row), formats={1: DATE_FORMAT, **money})
    # Values, not formulas: a reader that does not calculate (a script, a preview) sees the same
    # totals as Excel.
    append_row(
        sheet,
        [
            _("Totaal"),
            None,
            None,
            None,
            None,
            None,
            totals.amount_excl_vat,
            totals.vat,
            totals.amount_incl_vat,
        ],
        formats=money,
        bold=True,
    )

    income_sheet = workbook.create_sheet(_("Inkomsten"))
    income_sheet.freeze_panes = "A2"
    set_widths(income_sheet, [12, 16, 40, 28, 14])
    append_row(income_sheet, income_headings(), bold=True)
    income, income_total = income_cells(budget)
    for cells in income:
        append_row(income_sheet, cells, formats={1: DATE_FORMAT, 5: EURO_FORMAT})
    append_row(
        income_sheet,
        [_("Totaal"), None, None, None, income_total],
        formats={5: EURO_FORMAT},
        bold=True,
    )
    return saved_workbook(workbook)
