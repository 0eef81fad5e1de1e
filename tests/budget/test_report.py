"""The programme report for the council (/beheer/<programme>/verantwoording/): attendance and
no-shows, residents and members, people reached and money, on the page and in the workbook;
who may read it; query counts that do not grow with registrations and check-ins; and the
`--as-held` demo telling its story with it."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from html.parser import HTMLParser
from xml.etree import ElementTree

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from openpyxl import load_workbook

from budget import services
from budget.inputs import ExpenseInput, IncomeInput
from budget.models import Budget, Expense, Income
from events.models import Activity, Programme, ProgrammeRole
from registrations.models import CheckIn, Registration

Role = ProgrammeRole.Role
Kind = Registration.Kind
Status = Registration.Status
SVG = "{http://www.w3.org/2000/svg}"
DASH = "\u2013"

# Budget alert e-mails are enqueued in memory, never sent.
# Engine-dependent, so CI runs it on SQLite too: sums, counts and distinct case-folded e-mail
# addresses (Lower) are SQL.
pytestmark = [pytest.mark.usefixtures("tasks"), pytest.mark.engine_dependent]


def url(name: str, programme: Programme) -> str:
    return reverse(f"organiser:{name}", kwargs={"programme_slug": programme.slug})


class _Tables(HTMLParser):
    """Each table's rows as lists of cell texts, by the id of its caption. Footnote marks
    (<sup>) are left out, so a cell reads as its figure."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._rows: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._caption: str | None = None
        self._sup = 0

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._rows = []
        elif tag == "caption" and self._rows is not None:
            self._caption = dict(attrs).get("id")
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th") and self._rows is not None:
            self._cell = []
        elif tag == "sup":
            self._sup += 1

    def handle_endtag(self, tag):
        if tag == "sup":
            self._sup -= 1
        elif tag in ("td", "th") and self._cell is not None and self._rows is not None:
            self._rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table" and self._rows is not None:
            self.tables[self._caption or str(len(self.tables))] = self._rows
            self._rows = self._caption = None

    def handle_data(self, data):
        if self._cell is not None and not self._sup:
            self._cell.append(data)


def tables(response) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(response.content.decode())
    return parser.tables


def row(table: list[list[str]], first: str) -> list[str]:
    return next(cells for cells in table if cells and cells[0] == first)


# --- Fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def organiser(make_user, programme):
    """Anne, not the shared "organisator" (the report's users as they were)."""
    return make_user("anne", Role.ORGANISER, programme)


@pytest.fixture
def viewer(make_user, programme):
    """The council clerk, not the shared "meekijker"."""
    return make_user("raadsgriffier", Role.VIEWER, programme)


def _check_in(registration: Registration, persons: int) -> CheckIn:
    return CheckIn.objects.create(
        registration=registration, persons=persons, at=registration.activity.starts_at
    )


@pytest.fixture
def held(make_activity, make_registration, organiser, programme):
    """A small programme with figures worked out by hand (see each test).

    Lecture (over, 12 places): Anna 2 (2 in), Bert 3 (2 in), Carla member 1 (absent), a walk-in
    guest party of 2 without e-mail (2 in); Dirk waitlisted and Els cancelled do not count.
    Dinner (over, no limit): Anna again (other case) member 2 (2 in), Frank former member 2
    (1 + 1 in), an anonymised former member 1 (absent).
    Open day (over, no registration). Children's afternoon (to come, 20 places): Bert 4.
    A cancelled activity (30 places) with a cancelled party, and a draft with a party: neither
    counts.
    """
    past = timezone.now() - dt.timedelta(days=10)
    lecture = make_activity(title="Lezing", slug="lezing", starts_at=past, capacity=12)
    dinner = make_activity(
        title="Reüniediner", slug="diner", starts_at=past + dt.timedelta(days=5), capacity=None
    )
    make_activity(
        title="Open dag",
        slug="open-dag",
        starts_at=past - dt.timedelta(days=3),
        capacity=None,
        registration_required=False,
    )
    afternoon = make_activity(title="Kindermiddag", slug="kindermiddag", capacity=20)
    cancelled = make_activity(
        title="Afgelast", slug="afgelast", capacity=30, status=Activity.Status.CANCELLED
    )
    draft = make_activity(title="Concept", slug="concept", status=Activity.Status.DRAFT)

    def party(activity, email, size, kind=Kind.RESIDENT, status=Status.CONFIRMED, **fields):
        return make_registration(
            activity=activity, email=email, party_size=size, kind=kind, status=status, **fields
        )

    _check_in(party(lecture, "anna@example.org", 2), 2)
    _check_in(party(lecture, "bert@example.org", 3), 2)
    party(lecture, "carla@example.org", 1, Kind.MEMBER)
    _check_in(party(lecture, "", 2, Kind.GUEST, contact_name="Aan de deur"), 2)
    party(lecture, "dirk@example.org", 2, status=Status.WAITLISTED)
    party(lecture, "els@example.org", 2, status=Status.CANCELLED)
    _check_in(party(dinner, "Anna@Example.org", 2, Kind.MEMBER), 2)
    frank = party(dinner, "frank@example.org", 2, Kind.FORMER_MEMBER)
    _check_in(frank, 1)
    _check_in(frank, 1)
    party(dinner, "", 1, Kind.FORMER_MEMBER, contact_name="", anonymised_at=timezone.now())
    party(afternoon, "bert@example.org", 4)
    party(cancelled, "gerda@example.org", 3, status=Status.CANCELLED)
    _check_in(party(draft, "zoe@example.org", 5), 5)

    budget = Budget.objects.create(programme=programme, total=Decimal("1000.00"))
    categories = {category.name: category for category in budget.categories.all()}

    def expense(category, amount, vat, status, activity=None):
        services.record_expense(
            budget,
            ExpenseInput(
                category_id=categories[category].pk,
                activity_id=activity and activity.pk,
                supplier="Leverancier",
                description=f"{category} {amount}",
                date=dt.date(2027, 1, 15),
                amount_excl_vat=Decimal(amount),
                vat_rate=vat,
            ),
            by=organiser,
            status=status,
            status_date=dt.date(2027, 1, 20),
        )

    expense("Catering", "200.00", 9, Expense.Status.PAID, dinner)  # 218.00
    expense("Materialen", "100.00", 21, Expense.Status.INVOICED, lecture)  # 121.00
    expense("Huur", "50.00", 21, Expense.Status.COMMITTED)  # 60.50
    expense("Promotie en drukwerk", "80.00", 0, Expense.Status.PLANNED, afternoon)  # 80.00
    services.record_income(
        budget,
        IncomeInput(
            kind=Income.Kind.SPONSORSHIP,
            description="Bijdrage bakkerij",
            date=dt.date(2027, 1, 10),
            amount=Decimal("150.00"),
        ),
        by=organiser,
    )
    services.record_income(
        budget,
        IncomeInput(
            kind=Income.Kind.TICKETS,
            description="Kaarten aan de deur",
            date=dt.date(2027, 1, 10),
            amount=Decimal("40.00"),
            activity_id=dinner.pk,
        ),
        by=organiser,
    )
    return programme


# --- Figures on the page -----------------------------------------------------------------------


def test_attendance_per_activity_and_totals(client, held, viewer):
    client.force_login(viewer)
    response = client.get(url("report", held))
    assert response.status_code == 200
    table = tables(response)["report-activities-caption"]
    # Activity, date, where it stands, places, registered, attended, no-show, turnout.
    assert row(table, "Lezing")[2:] == ["Voorbij", "12", "8", "6", "2", "75,0 %"]
    assert row(table, "Reüniediner")[2:] == ["Voorbij", "onbeperkt", "5", "4", "1", "80,0 %"]
    assert row(table, "Open dag")[2:] == [
        "Vrije inloop, niet geteld",
        DASH,
        DASH,
        DASH,
        DASH,
        DASH,
    ]
    assert row(table, "Kindermiddag")[2:] == ["Nog niet geweest", "20", "4", "0", DASH, DASH]
    assert row(table, "Afgelast")[2:] == ["Geannuleerd", "30", "0", "0", DASH, DASH]
    assert not any(cells and cells[0] == "Concept" for cells in table)
    # Places only of activities with a limit that go ahead; turnout of those that are over.
    assert row(table, "Totaal")[3:] == ["32", "17", "10", "3", "76,9 %"]


def test_residents_members_and_people_reached(client, held, viewer):
    client.force_login(viewer)
    response = client.get(url("report", held))
    kinds = tables(response)["report-kinds-caption"]
    assert kinds[1:] == [
        ["Inwoner", "9", "4"],
        ["Lid", "3", "2"],
        ["Oud-lid", "3", "2"],
        ["Gast", "2", "2"],
        ["Totaal", "17", "10"],
    ]
    report = response.context["report"]
    # anna and Anna are one address, bert twice is one; the walk-in and the anonymised party
    # have none and count one each.
    assert (report.reach.parties, report.reach.addresses, report.reach.without_address) == (
        8,
        4,
        2,
    )
    assert report.reach.unique_people == 6
    content = response.content.decode()
    assert re.search(r"Unieke mensen bereikt<sup>.*?</sup></dt>\s*<dd>6</dd>", content)
    assert "anonimiseerd" in content and "telt daarom elk als één" in content  # the rule


def test_money_reuses_the_budget_summary_and_divides_by_attendees(client, held, viewer):
    client.force_login(viewer)
    response = client.get(url("report", held))
    found = tables(response)
    categories = found["report-categories-caption"]
    # Paid, open commitments (committed + invoiced), planned, expected: as the dashboard.
    assert row(categories, "Catering")[2:6] == ["€ 218,00", "€ 0,00", "€ 0,00", "€ 218,00"]
    assert row(categories, "Materialen")[2:6] == ["€ 0,00", "€ 121,00", "€ 0,00", "€ 121,00"]
    assert row(categories, "Totaal") == [
        "Totaal",
        "",
        "€ 218,00",
        "€ 181,50",
        "€ 80,00",
        "€ 479,50",
        "",
    ]
    # (218.00 + 121.00 + 60.50) / 10 persons attended.
    assert response.context["report"].cost_per_attendee == Decimal("39.95")
    costs = found["report-costs-caption"]
    assert costs[1:] == [
        ["Lezing", "€ 121,00", "6", "€ 20,17"],
        ["Reüniediner", "€ 218,00", "4", "€ 54,50"],
        ["Geen activiteit", "€ 60,50", DASH, DASH],
        ["Totaal", "€ 399,50", "10", "€ 39,95"],
    ]
    income = found["report-income-caption"]
    assert income[1:] == [
        ["Reüniediner", "€ 40,00", "€ 0,00", "€ 40,00"],
        ["Geen activiteit", "€ 0,00", "€ 150,00", "€ 150,00"],
        ["Totaal", "€ 40,00", "€ 150,00", "€ 190,00"],
    ]
    other = found["report-other-income-caption"]
    assert other[1][0] == "Bijdrage bakkerij" and other[1][-1] == "€ 150,00"
    content = response.content.decode()
    assert "betaald, gefactureerd of besteld" in content  # the footnote says which spending


def test_charts_are_accessible_svg_with_their_figures_as_tables(client, held, viewer):
    client.force_login(viewer)
    response = client.get(url("report", held))
    content = response.content.decode()
    svgs = re.findall(r"<svg\b.*?</svg>", content, flags=re.S)
    assert len(svgs) == 4  # attendance, kinds, and the dashboard's two budget charts
    for text in svgs:
        svg = ElementTree.fromstring(text)
        assert svg.get("role") == "img"
        title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
        assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
        assert title.text and desc.text
        assert "style=" not in text  # the CSP forbids inline styles
    found = tables(response)
    assert row(found["chart-attendance-table-caption"], "Lezing") == ["Lezing", "8", "6", "2", "12"]
    assert row(found["chart-kinds-table-caption"], "Inwoner") == ["Inwoner", "9", "4"]
    attendance = ElementTree.fromstring(svgs[0])
    assert "kwamen er 10 (76,9 %)" in attendance.find(f"{SVG}desc").text
    # Each part of a bar is named in its tooltip, in words and figures.
    tooltips = [element.text for element in attendance.iter(f"{SVG}title")]
    assert f"Lezing {DASH} aanwezig: 6" in tooltips
    assert f"Lezing {DASH} niet gekomen: 2" in tooltips
    assert f"Kindermiddag {DASH} aangemeld, nog niet geweest: 4" in tooltips
    assert f"Lezing {DASH} plaatsen: 12" in tooltips


def test_page_prints_as_a_document(client, held, viewer):
    client.force_login(viewer)
    response = client.get(url("report", held))
    content = response.content.decode()
    assert '<script src="/static/js/print.js" defer></script>' in content
    assert 'href="/static/css/report.css"' in content
    assert re.search(
        r'<button type="button" class="button" data-print hidden>Afdrukken</button>', content
    )
    assert "<script>" not in content and "onclick" not in content  # CSP: no inline scripts
    assert f'href="{url("report_xlsx", held)}"' in content
    assert "no-store" in response["Cache-Control"]


def test_programme_without_budget_still_reports_attendance(
    client, programme, make_activity, make_registration, viewer
):
    activity = make_activity(starts_at=timezone.now() - dt.timedelta(days=2))
    _check_in(make_registration(activity=activity, party_size=3), 3)
    client.force_login(viewer)
    response = client.get(url("report", programme))
    assert response.status_code == 200
    assert "Dit programma heeft geen budget." in response.content.decode()
    assert response.context["report"].attended == 3
    assert response.context["report"].cost_per_attendee is None
    workbook = load_workbook(io.BytesIO(client.get(url("report_xlsx", programme)).getvalue()))
    assert workbook["Budget"]["A1"].value == "Dit programma heeft geen budget."


# --- The workbook ------------------------------------------------------------------------------


def _sheet_rows(sheet) -> list[tuple]:
    return [tuple(cell.value for cell in line) for line in sheet.iter_rows()]


def test_xlsx_holds_the_same_figures_as_numbers(client, held, viewer):
    client.force_login(viewer)
    response = client.get(url("report_xlsx", held))
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert f"verantwoording-{held.slug}-" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.getvalue()))
    assert workbook.sheetnames == ["Activiteiten", "Bereik", "Budget", "Inkomsten"]

    activities = workbook["Activiteiten"]
    lines = {line[0]: line for line in _sheet_rows(activities)}
    assert lines["Lezing"][2:] == ("Voorbij", 12, 8, 6, 2, 75)
    assert isinstance(lines["Lezing"][1], dt.datetime)  # a real date
    assert lines["Kindermiddag"][3:7] == (20, 4, 0, None)
    assert lines["Open dag"][3:7] == (None, None, None, None)
    assert lines["Totaal"][3:] == (32, 17, 10, 3, 76.9)
    assert "Concept" not in lines

    reach = {line[0]: line[1:] for line in _sheet_rows(workbook["Bereik"]) if line[0]}
    assert reach["Inwoner"] == (9, 4)
    assert reach["Gast"] == (2, 2)
    assert reach["Totaal"] == (17, 10)
    assert reach["Unieke e-mailadressen"][0] == 4
    assert reach["Unieke mensen bereikt"][0] == 6

    budget = workbook["Budget"]
    money: dict[str, tuple] = {}
    for line in _sheet_rows(budget):
        if line[0]:
            # The first "Totaal" is the categories'; the costs table has its own below.
            money.setdefault(line[0], line[1:])
    # Planned amount, paid, invoiced, committed, planned, expected, left of the plan.
    assert money["Huur"][:7] == (None, 0, 0, 60.5, 0, 60.5, None)
    assert money["Totaal"][1:6] == (218, 121, 60.5, 80, 479.5)
    assert money["Verwacht over aan het eind"][0] == 710.5
    assert money["Betaald, gefactureerd en besteld"][0] == 399.5
    assert money["Kosten per bezoeker"][0] == 39.95
    assert money["Lezing"][:3] == (121, 6, 20.17)
    assert _sheet_rows(budget)[-1][:4] == ("Totaal", 399.5, 10, 39.95)
    categories_total, costs_total = (
        line for line in budget.iter_rows() if line[0].value == "Totaal"
    )
    assert "€" in categories_total[2].number_format
    assert "€" in costs_total[1].number_format and "€" in costs_total[3].number_format
    for line in budget.iter_rows():
        if line[0].value == "Kosten per bezoeker":
            assert "€" in line[1].number_format

    income = {line[0]: line[1:] for line in _sheet_rows(workbook["Inkomsten"]) if line[0]}
    assert income["Reüniediner"][:3] == (40, 0, 40)
    assert income["Totaal"][:3] == (40, 150, 190)
    # The same columns as on the page: description, date, kind, activity, amount.
    sponsor = income["Bijdrage bakkerij"]
    assert sponsor[1] == "Sponsoring" and sponsor[3] == 150
    assert isinstance(sponsor[0], dt.datetime)
    assert "€" in workbook["Inkomsten"]["B2"].number_format


def test_csv_holds_the_workbooks_figures(client, held, viewer):
    client.force_login(viewer)
    response = client.get(url("report_csv", held))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f"verantwoording-{held.slug}-" in response["Content-Disposition"]
    assert response["Content-Disposition"].endswith('.csv"')
    assert "no-store" in response["Cache-Control"]
    text = response.getvalue().decode("utf-8")
    assert text.startswith("\ufeff")  # Dutch Excel reads it as UTF-8
    lines = [line.split(";") for line in text.removeprefix("\ufeff").splitlines()]
    first: dict[str, list[str]] = {}
    for line in lines:
        first.setdefault(line[0], line)
    # Each sheet of the workbook in turn, under its name.
    assert [line[0] for line in lines if len(line) == 1 and line[0]] == [
        "Activiteiten",
        held.name,
        "Bereik",
        "Budget",
        "Het budget telt bedragen inclusief btw.",
        "Inkomsten",
    ]
    assert first["Lezing"][2:] == ["Voorbij", "12", "8", "6", "2", "75,0"]
    assert first["Open dag"][3:] == ["", "", "", "", ""]
    assert first["Totaal"][3:] == ["32", "17", "10", "3", "76,9"]
    assert ["Unieke mensen bereikt", "6"] in lines
    assert ["Huur", "", "0,00", "0,00", "60,50", "0,00", "60,50", ""] in lines
    assert ["Kosten per bezoeker", "39,95"] in lines
    assert ["Geen activiteit", "60,50", "", ""] in lines
    assert ["Bijdrage bakkerij", "10-01-2027", "Sponsoring", "", "150,00"] in lines


def test_text_that_looks_like_a_formula_stays_text(client, held, viewer, organiser):
    text = '=HYPERLINK("https://example.org", "klik")'
    services.record_income(
        Budget.objects.get(programme=held),
        IncomeInput(
            kind=Income.Kind.OTHER,
            description=text,
            date=dt.date(2027, 1, 11),
            amount=Decimal("5.00"),
        ),
        by=organiser,
    )
    client.force_login(viewer)
    workbook = load_workbook(io.BytesIO(client.get(url("report_xlsx", held)).getvalue()))
    (cell,) = (
        cell for line in workbook["Inkomsten"].iter_rows() for cell in line if cell.value == text
    )
    assert cell.data_type == "s"
    csv_text = client.get(url("report_csv", held)).getvalue().decode("utf-8")
    assert "'=HYPERLINK(" in csv_text
    page = client.get(url("report", held)).content.decode()
    assert f'<th scope="row">{escape(text)}</th>' in page


# --- Access ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["report", "report_xlsx", "report_csv"])
def test_organiser_and_viewer_may_read(client, programme, organiser, viewer, name):
    for user in (organiser, viewer):
        client.force_login(user)
        response = client.get(url(name, programme))
        assert response.status_code == 200
        assert response.streaming == (name != "report")


@pytest.mark.parametrize("name", ["report", "report_xlsx", "report_csv"])
def test_other_programme_is_not_found(client, programme, stranger, name):
    client.force_login(stranger)
    assert client.get(url(name, programme)).status_code == 404


@pytest.mark.parametrize("name", ["report", "report_xlsx", "report_csv"])
def test_anonymous_is_sent_to_log_in(client, programme, name):
    response = client.get(url(name, programme))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_report_only_reads(client, programme, organiser):
    client.force_login(organiser)
    assert client.post(url("report", programme)).status_code == 405


# --- Query counts ------------------------------------------------------------------------------


def _fill(activity: Activity, start: int, count: int) -> None:
    registrations = Registration.objects.bulk_create(
        Registration(
            activity=activity,
            status=Status.CONFIRMED,
            contact_name=f"Inwoner {n}",
            email=f"inwoner{n}@example.org",
            party_size=1 + n % 3,
            kind=list(Kind)[n % 4],
            consent_at=activity.starts_at,
        )
        for n in range(start, start + count)
    )
    CheckIn.objects.bulk_create(
        CheckIn(registration=registration, persons=1, at=activity.starts_at)
        for registration in registrations[::2]
    )


def test_queries_do_not_grow_with_registrations_and_check_ins(client, held, viewer):
    lecture = Activity.objects.get(slug="lezing")
    lecture.capacity = None
    lecture.save()
    client.force_login(viewer)

    def queries(name: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(name, held)).status_code == 200
        return len(captured)

    _fill(lecture, 0, 10)
    few = {name: queries(name) for name in ("report", "report_xlsx")}
    _fill(lecture, 10, 40)
    many = {name: queries(name) for name in ("report", "report_xlsx")}
    assert many == few
    assert few["report"] <= 20


# --- In the browser ----------------------------------------------------------------------------


@pytest.mark.browser
def test_print_button_prints_and_paper_shows_only_the_document(held, viewer, page):
    viewer.set_password("een-lang-wachtwoord-2023")
    viewer.save()
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    # The browser's print dialog would block the test: count the calls instead.
    page.add_init_script("window.print = () => { window.printed = (window.printed || 0) + 1; };")
    report = url("report", held)
    page.goto(f"/admin/login/?next={report}")
    page.get_by_label("Gebruikersnaam").fill(viewer.username)
    page.get_by_label("Wachtwoord").fill("een-lang-wachtwoord-2023")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{report}")

    button = page.get_by_role("button", name="Afdrukken")
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("window.printed >= 1")  # the click's handler runs after the key
    assert page.evaluate("window.printed") == 1
    assert [line for line in console if line.startswith("error")] == []  # no CSP refusals

    page.emulate_media(media="print")

    def style(selector: str, prop: str) -> str:
        return page.eval_on_selector(
            selector, f"element => getComputedStyle(element).getPropertyValue('{prop}')"
        )

    for selector in (".site-header", ".site-footer", ".back", ".report__actions"):
        assert style(selector, "display") == "none", selector
    assert style('[aria-labelledby="report-reach"]', "break-before") == "page"
    assert style('[aria-labelledby="report-money"]', "break-before") == "page"
    # The activities follow the summary on the first page.
    assert style('[aria-labelledby="report-activities"]', "break-before") == "auto"
    assert style(".report-table tbody tr", "break-inside") == "avoid"


# --- The demo as held ----------------------------------------------------------------------------


def test_as_held_demo_tells_who_came_and_who_did_not(client, django_user_model):
    call_command("load_demo", as_held=True)
    programme = Programme.objects.get(slug="brandweer-100-jaar")
    client.force_login(django_user_model.objects.create_superuser("raad", password="x-123-y"))
    response = client.get(url("report", programme))
    assert response.status_code == 200
    report = response.context["report"]
    assert report.attended > 0 and report.no_show > 0
    assert 0.7 < report.attended / report.registered_held < 1
    dinner = next(row for row in report.activities if row.title.startswith("Reüniediner"))
    # Every one of the 96 paid dinner tickets is a registered person; most of them came.
    assert dinner.registered == 96 and 0 < dinner.no_show < 10
    assert report.reach.unique_people < report.reach.parties  # many came more than once
    assert {row.kind: row.registered > 0 for row in report.kinds} == dict.fromkeys(
        ["resident", "member", "former_member", "guest"], True
    )
    for row_ in report.held:
        assert row_.attended <= row_.registered <= (row_.capacity or row_.registered)
    assert report.cost_per_attendee is not None
    table = tables(response)["report-activities-caption"]
    totals = row(table, "Totaal")
    assert totals[4:7] == [str(report.registered), str(report.attended), str(report.no_show)]

    # Back to the upcoming demo: the held registrations and check-ins go again.
    call_command("load_demo")
    assert not CheckIn.objects.filter(registration__activity__programme=programme).exists()
    assert Registration.objects.filter(activity__programme=programme).count() == 3
