"""Every budget export keeps text as text (issue 15 case 11): a supplier, description, invoice
number or activity title that a spreadsheet would take for a formula (= + - @ first) is written
as a string cell in a workbook and with a leading apostrophe in CSV. (A leading tab or carriage
return never gets this far: the API and the forms strip it; the writers' own tests cover it.)"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from budget.models import Budget
from events.models import ProgrammeRole
from jubileum.lib.apitokens import create_token

Role = ProgrammeRole.Role
BASE = "/api/v1/programmes/brandweer-100/budget"

# What each text is written as in CSV.
TEXTS = {
    '=HYPERLINK("http://x")': '\'=HYPERLINK("http://x")',
    "@SUM(1)": "'@SUM(1)",
    "+1": "'+1",
    "-2+3": "'-2+3",
}

pytestmark = pytest.mark.usefixtures("tasks")


@pytest.fixture
def organiser(make_user, programme):
    return make_user("anne", Role.ORGANISER, programme)


@pytest.fixture
def budget(programme) -> Budget:
    return Budget.objects.create(programme=programme, total=Decimal("8000.00"))


def _csv(content: bytes) -> list[list[str]]:
    return list(
        csv.reader(io.StringIO(content.decode("utf-8").removeprefix("\ufeff")), delimiter=";")
    )


def _record_through_the_api(client, budget, organiser, activity) -> None:
    _row, token = create_token(organiser, "test")
    headers = {"Authorization": f"Bearer {token}"}
    for text in TEXTS:
        response = client.post(
            f"{BASE}/expenses",
            {
                "category_id": budget.categories.get(name="Catering").pk,
                "activity_id": activity.pk,
                "supplier": text,
                "description": text,
                "invoice_number": text,
                "date": "2027-01-15",
                "amount_excl_vat": "10.00",
                "vat_rate": 21,
            },
            content_type="application/json",
            headers=headers,
        )
        assert response.status_code == 201, response.json()


def test_ledger_exports_write_formulas_as_text(client, budget, organiser, make_activity):
    activity = make_activity(title="=1+1 Lezing", slug="lezing")
    _record_through_the_api(client, budget, organiser, activity)
    client.force_login(organiser)

    table = _csv(client.get(reverse("budget:export_csv", args=[budget.programme.slug])).getvalue())
    # The expenses, down to their totals row (the income follows).
    rows = table[1 : next(n for n, row in enumerate(table) if row[:1] == ["Totaal"])]
    assert sorted(tuple(row[1:4]) for row in rows) == sorted((w, w, w) for w in TEXTS.values())
    assert {row[5] for row in rows} == {"'=1+1 Lezing"}

    workbook = load_workbook(
        io.BytesIO(
            client.get(reverse("budget:export_xlsx", args=[budget.programme.slug])).getvalue()
        )
    )
    cells = [cell for line in workbook["Uitgaven"].iter_rows(min_row=3) for cell in line[1:6]]
    written = {cell.value for cell in cells if cell.value}
    assert set(TEXTS) | {"=1+1 Lezing", "Catering"} <= written
    assert all(cell.data_type == "s" for cell in cells if cell.value)


def test_report_exports_write_an_activity_title_as_text(client, budget, organiser, make_activity):
    title = '=HYPERLINK("http://x")'
    activity = make_activity(title=title, slug="lezing")
    _record_through_the_api(client, budget, organiser, activity)
    client.force_login(organiser)
    kwargs = {"programme_slug": budget.programme.slug}

    workbook = load_workbook(
        io.BytesIO(client.get(reverse("organiser:report_xlsx", kwargs=kwargs)).getvalue())
    )
    cells = [
        cell
        for sheet in workbook.worksheets
        for line in sheet.iter_rows()
        for cell in line
        if cell.value == title
    ]
    assert cells and all(cell.data_type == "s" for cell in cells)
    table = _csv(client.get(reverse("organiser:report_csv", kwargs=kwargs)).getvalue())
    texts = [cell for row in table for cell in row]
    assert "'" + title in texts
    assert title not in texts
