from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from budget import exports, services
from budget.inputs import ExpenseInput, IncomeInput
from budget.models import Budget, Expense, Income
from budget.summary import summarise
from events.models import ProgrammeRole

# Awkward amounts: a cent, VAT that rounds (33.33 at 21 % is 6.9993, at 9 % 2.9997), halves.
AWKWARD = [
    ("0.01", 21),
    ("0.01", 9),
    ("33.33", 21),
    ("33.33", 9),
    ("33.33", 0),
    ("0.05", 9),  # 0.0045 rounds half up to 0.00
    ("0.50", 9),  # 0.045 rounds half up to 0.05
    ("1234.56", 21),
    ("999.99", 9),
]


@pytest.fixture
def people(programme):
    users = []
    for name, first in (("anne", "Anne"), ("bert", "Bert")):
        user = get_user_model().objects.create_user(
            username=name, first_name=first, last_name="de Vries"
        )
        ProgrammeRole.objects.create(user=user, programme=programme, role="organiser")
        users.append(user)
    return users


@pytest.fixture
def budget(programme, people, activity) -> Budget:
    budget = Budget.objects.create(programme=programme, total=Decimal("8000.00"))
    anne, bert = people
    category = budget.categories.get(name="Catering")
    for n, (amount, rate) in enumerate(AWKWARD):
        expense = services.record_expense(
            budget,
            ExpenseInput(
                category_id=category.pk,
                activity_id=activity.pk if n % 2 else None,
                supplier=f'Leverancier; "{n}"',
                description="Koffie, thee en gebak",
                invoice_number=f"F-{n}",
                date=dt.date(2027, 1, 1 + n),
                amount_excl_vat=Decimal(amount),
                vat_rate=rate,
            ),
            by=anne,
        )
        if expense.needs_approval:
            services.approve_expense(expense.pk, by=bert)
        if n % 3 == 0:
            services.advance_expense(expense.pk, "paid", by=anne)
    return budget


def _dutch(value: str) -> Decimal:
    return Decimal(value.replace(",", "."))


def _csv_table(raw: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))


def _expense_table(raw: bytes) -> list[list[str]]:
    """The CSV's expenses: the headings down to their totals row (the income follows)."""
    table = _csv_table(raw)
    return table[: next(n for n, line in enumerate(table) if line[:1] == ["Totaal"]) + 1]


def test_refused_amount_never_reaches_the_ledger(budget, people, client):
    client.force_login(people[0])
    response = client.post(
        "/api/v1/programmes/brandweer-100/budget/expenses",
        {
            "category_id": budget.categories.first().pk,
            "supplier": "x",
            "description": "y",
            "date": "2027-01-01",
            "amount_excl_vat": "1234.565",
        },
        content_type="application/json",
    )
    assert response.json()["code"] == "amount_too_precise"
    assert len(list(exports.ledger_rows(budget))) == len(AWKWARD)


def test_vat_rounds_half_up_per_line(budget):
    rows = {(str(r.amount_excl_vat), r.vat) for r in exports.ledger_rows(budget)}
    assert ("33.33", Decimal("7.00")) in rows
    assert ("33.33", Decimal("3.00")) in rows
    assert ("0.05", Decimal("0.00")) in rows
    assert ("0.50", Decimal("0.05")) in rows


@pytest.mark.parametrize("includes_vat", [True, False])
def test_totals_agree_to_the_cent_in_summary_api_csv_and_xlsx(budget, people, client, includes_vat):
    budget.includes_vat = includes_vat
    budget.save()
    rows = list(exports.ledger_rows(budget))
    counted = sum(row.counted(includes_vat) for row in rows)
    summary = summarise(budget)
    assert summary.expected_spending == counted
    assert sum(line.forecast for line in summary.per_category) == counted
    assert sum(line.forecast for line in summary.per_activity) == counted

    client.force_login(people[0])
    api = client.get("/api/v1/programmes/brandweer-100/budget").json()
    assert Decimal(api["expected_spending"]) == counted
    items = client.get("/api/v1/programmes/brandweer-100/budget/expenses?page_size=200").json()
    assert sum(Decimal(item["counted_amount"]) for item in items["items"]) == counted

    table = _expense_table(b"".join(exports.ledger_csv(budget)))
    body, totals = table[1:-1], table[-1]
    column = 8 if includes_vat else 6
    assert sum(_dutch(line[column]) for line in body) == counted
    assert _dutch(totals[column]) == counted
    assert _dutch(totals[6]) + _dutch(totals[7]) == _dutch(totals[8])

    sheet = load_workbook(io.BytesIO(b"".join(exports.ledger_xlsx(budget))))["Uitgaven"]
    values = list(sheet.iter_rows(values_only=True))
    data, total_row = values[2:-1], values[-1]
    assert sum(Decimal(str(line[column])) for line in data) == counted
    assert Decimal(str(total_row[column])) == counted


def test_csv_is_for_dutch_excel(budget):
    raw = b"".join(exports.ledger_csv(budget))
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    header = text.splitlines()[0].split(";")
    assert header == [
        "Datum",
        "Leverancier",
        "Omschrijving",
        "Factuurnummer",
        "Categorie",
        "Activiteit",
        "Bedrag excl. btw",
        "Btw",
        "Bedrag incl. btw (telt voor het budget)",
        "Status",
        "Goedgekeurd door",
    ]
    table = _expense_table(raw)
    first = table[1]
    assert first[0] == "01-01-2027"
    assert first[1] == 'Leverancier; "0"'  # quoted, so the separator inside survives
    assert first[6:9] == ["0,01", "0,00", "0,01"]
    assert first[9] == "Betaald"
    approved = next(line for line in table[1:-1] if line[10])
    assert approved[10] == "Bert de Vries"
    assert table[-1][0] == "Totaal"
    assert "inclusief btw" in table[-1][2]


def test_filename_says_which_vat_mode_counts(budget):
    assert "-incl-btw-" in exports.ledger_filename(budget, "csv")
    budget.includes_vat = False
    assert "-excl-btw-" in exports.ledger_filename(budget, "xlsx")


def test_xlsx_has_numbers_dates_euro_format_and_income(budget, people):
    services.record_income(
        budget,
        IncomeInput(
            kind=Income.Kind.SPONSORSHIP,
            description="Sponsor",
            date=dt.date(2027, 1, 2),
            amount=Decimal("750.00"),
        ),
        by=people[0],
    )
    workbook = load_workbook(io.BytesIO(b"".join(exports.ledger_xlsx(budget))))
    sheet = workbook["Uitgaven"]
    assert "inclusief btw" in sheet["A1"].value
    assert sheet["I2"].value == "Bedrag incl. btw (telt voor het budget)"
    assert isinstance(sheet["A3"].value, dt.datetime)
    assert isinstance(sheet["G3"].value, int | float)
    assert "€" in sheet["G3"].number_format
    income = workbook["Inkomsten"]
    assert income["E2"].value == 750
    assert income.cell(income.max_row, 1).value == "Totaal"


def test_csv_lists_the_income_below_the_expenses_as_the_xlsx_does(budget, people, activity):
    for kind, description, amount, day, for_activity in [
        (Income.Kind.SPONSORSHIP, "Rabobank Soest", "750.00", 2, None),
        (Income.Kind.OTHER, "=Collecte", "12.35", 5, activity),
    ]:
        services.record_income(
            budget,
            IncomeInput(
                kind=kind,
                description=description,
                date=dt.date(2027, 1, day),
                amount=Decimal(amount),
                activity_id=for_activity and for_activity.pk,
            ),
            by=people[0],
        )

    table = _csv_table(b"".join(exports.ledger_csv(budget)))

    start = table.index(["Inkomsten"])
    assert table[start - 1] == []  # an empty line after the expenses' totals
    assert table[start - 2][0] == "Totaal"
    assert table[start + 1 :] == [
        ["Datum", "Soort", "Omschrijving", "Activiteit", "Bedrag"],
        ["02-01-2027", "Sponsoring", "Rabobank Soest", "", "750,00"],
        ["05-01-2027", "Overig", "'=Collecte", activity.title, "12,35"],
        ["Totaal", "", "", "", "762,35"],
    ]
    sheet = load_workbook(io.BytesIO(b"".join(exports.ledger_xlsx(budget))))["Inkomsten"]
    assert [line[4] for line in sheet.iter_rows(min_row=2, values_only=True)] == [
        750,
        12.35,
        762.35,
    ]


def test_ledger_rows_take_one_query(budget, django_assert_num_queries):
    Expense.objects.update(activity=None)
    with django_assert_num_queries(1):
        list(exports.ledger_rows(budget))


def test_a_supplier_that_looks_like_a_formula_stays_text(budget, people):
    supplier = "=1+2"
    services.record_expense(
        budget,
        ExpenseInput(
            category_id=budget.categories.get(name="Catering").pk,
            supplier=supplier,
            description="@SUM(A1:A9)",
            date=dt.date(2027, 2, 1),
            amount_excl_vat=Decimal("1.00"),
        ),
        by=people[0],
    )
    table = _expense_table(b"".join(exports.ledger_csv(budget)))
    assert table[-2][1:3] == ["'=1+2", "'@SUM(A1:A9)"]
    sheet = load_workbook(io.BytesIO(b"".join(exports.ledger_xlsx(budget))))["Uitgaven"]
    values = list(sheet.iter_rows())
    supplier_cell, description_cell = values[-2][1], values[-2][2]
    assert (supplier_cell.value, supplier_cell.data_type) == (supplier, "s")
    assert (description_cell.value, description_cell.data_type) == ("@SUM(A1:A9)", "s")


def test_the_ledger_workbook_never_asks_a_sheet_for_its_last_row(budget, monkeypatch):
    """`max_row` runs over every cell: asked once a row, a ledger of 4,000 expenses took 5.8 s
    (issue 20)."""

    def refused(sheet):
        raise AssertionError("max_row read while writing the ledger")

    with monkeypatch.context() as patch:
        patch.setattr(Worksheet, "max_row", property(refused))
        content = b"".join(exports.ledger_xlsx(budget))
    sheet = load_workbook(io.BytesIO(content))["Uitgaven"]
    assert sheet.max_row == Expense.objects.filter(budget=budget).count() + 3
    assert sheet.freeze_panes == "A3"


def test_the_ledger_csv_is_written_in_pieces_as_the_expenses_are_read(budget, monkeypatch):
    monkeypatch.setattr("jubileum.lib.spreadsheets.CSV_CHUNK_ROWS", 2)
    pieces = list(exports.ledger_csv(budget))
    assert pieces[0] == "\ufeff".encode()
    assert len(pieces) > 3
    lines = b"".join(pieces).decode("utf-8").count("\r\n")
    # Headings and totals of both parts, the blank line and "Inkomsten" between them.
    expenses = Expense.objects.filter(budget=budget).count()
    assert lines == expenses + Income.objects.filter(budget=budget).count() + 6
