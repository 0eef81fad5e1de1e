"""The programme report for the council ("verantwoording"): who came, whom the programme
reached, and what it cost, as a printable page and as an Excel workbook.

It lives in the budget app because it joins the registrations' figures with the budget's (apps
depend one way: budget → registrations → events). Every figure is a sum in the database, so the
report takes a fixed number of queries however many registrations and check-ins there are. The
money comes from `budget.summary.summarise`, the same figures as the budget dashboard.

What the figures mean:

- *Registered*: persons (party sizes) in confirmed registrations, including parties registered
  at the door (`registrations.checkin.services.walk_in`). *Attended*: persons checked in at the door
  (the sum of `CheckIn.persons`, as the scanner counts them). *No-show*: registered minus
  attended, only for activities that are over (never below zero).
- Activities in draft are left out; cancelled ones are listed but hold nobody.
- *Unique people reached*: distinct e-mail addresses (ignoring case) of the contact persons of
  confirmed registrations. A registration without an address, one anonymised after the
  retention period or a walk-in, cannot be matched to another, so each counts as one.
- *Cost per attendee*: spending that is paid, invoiced or committed (`paid + open_commitments`)
  divided by the persons attended; planned spending and income are left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Lower
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from budget import charts, exports
from budget.models import CENT, Budget, Income
from budget.summary import ActivityLine, BudgetSummary, summarise
from budget.tables import category_table
from events.models import Activity, Programme
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
from registrations.checkin.services import activities_with_counts
from registrations.models import CheckIn, Registration

Kind = Registration.Kind


# --- Figures -----------------------------------------------------------------------------------


def _rate(part: int, whole: int) -> Decimal | None:
    """part / whole as a percentage with one decimal; None when there is no whole."""
    if whole <= 0:
        return None
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _per_person(amount: Decimal, persons: int) -> Decimal | None:
    if persons <= 0:
        return None
    return (amount / persons).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class ActivityRow:
    """One activity's attendance. `no_show` is None until the activity is over."""

    id: int
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int | None
    registration_required: bool
    cancelled: bool
    is_over: bool
    registered: int
    attended: int

    @property
    def no_show(self) -> int | None:
        if not self.is_over or self.cancelled or not self.registration_required:
            return None
        return max(self.registered - self.attended, 0)

    @property
    def attendance_rate(self) -> Decimal | None:
        """Share of the registered persons who came, for an activity that is over."""
        return None if self.no_show is None else _rate(self.attended, self.registered)

    @property
    def status_label(self) -> str:
        if self.cancelled:
            return _("Geannuleerd")
        if not self.registration_required:
            return _("Vrije inloop, niet geteld")
        return _("Voorbij") if self.is_over else _("Nog niet geweest")


@dataclass(frozen=True)
class KindRow:
    """Persons of one kind of attendee (resident, member, former member, guest)."""

    kind: str
    label: str
    registered: int
    attended: int


@dataclass(frozen=True)
class Reach:
    """Contact persons of confirmed registrations: `addresses` distinct e-mail addresses, and
    `without_address` registrations that have none (anonymised, or registered at the door)."""

    parties: int
    addresses: int
    without_address: int

    @property
    def unique_people(self) -> int:
        return self.addresses + self.without_address


@dataclass(frozen=True)
class CostRow:
    """An activity's spending (paid, invoiced and committed) per person attended."""

    title: str
    spending: Decimal
    attended: int | None  # None: not tied to an activity, or one whose visitors are not counted

    @property
    def per_attendee(self) -> Decimal | None:
        return None if self.attended is None else _per_person(self.spending, self.attended)


@dataclass(frozen=True)
class ProgrammeReport:
    programme: Programme
    generated_at: dt.datetime
    activities: list[ActivityRow]
    kinds: list[KindRow]
    reach: Reach
    budget: Budget | None
    summary: BudgetSummary | None
    other_income: list[Income]

    @property
    def held(self) -> list[ActivityRow]:
        """Activities that are over and took registrations: the ones with attendance figures."""
        return [row for row in self.activities if row.no_show is not None]

    @property
    def registered(self) -> int:
        return sum(row.registered for row in self.activities)

    @property
    def attended(self) -> int:
        return sum(row.attended for row in self.activities)

    @property
    def no_show(self) -> int:
        return sum(row.no_show or 0 for row in self.activities)

    @property
    def registered_held(self) -> int:
        return sum(row.registered for row in self.held)

    @property
    def attendance_rate(self) -> Decimal | None:
        held = self.held
        return _rate(sum(row.attended for row in held), self.registered_held) if held else None

    @property
    def capacity(self) -> int:
        """Places of the activities that have a limit (the others are left out)."""
        return sum(row.capacity or 0 for row in self.activities if not row.cancelled)

    @property
    def unlimited(self) -> int:
        """Activities that take registrations without a limit on places."""
        return sum(
            1
            for row in self.activities
            if row.capacity is None and row.registration_required and not row.cancelled
        )

    @property
    def spending(self) -> Decimal | None:
        """Paid, invoiced and committed spending: what the cost per attendee divides."""
        if self.summary is None:
            return None
        return self.summary.paid + self.summary.open_commitments

    @property
    def cost_per_attendee(self) -> Decimal | None:
        spending = self.spending
        return None if spending is None else _per_person(spending, self.attended)

    @property
    def costs(self) -> list[CostRow]:
        """Spending per activity that has any, with the persons who attended it."""
        if self.summary is None:
            return []
        # Visitors of an activity without registration (an open day) are not counted.
        counted = {row.id: row.attended for row in self.activities if row.registration_required}
        rows = []
        for line in self.summary.per_activity:
            spending = line.paid + line.committed + line.invoiced
            if spending == 0:
                continue
            rows.append(
                CostRow(title=line.title, spending=spending, attended=counted.get(line.activity_id))
            )
        return rows

    @property
    def income_per_activity(self) -> list[ActivityLine]:
        if self.summary is None:
            return []
        return [line for line in self.summary.per_activity if line.income != 0]


def _reported(programme: Programme, to_activity: str = "") -> Q:
    """Rows of the programme's activities that the report covers (all but drafts); the lookup
    from the rows to their activity is `to_activity` ("activity__" for a registration)."""
    return Q(**{f"{to_activity}programme": programme}) & ~Q(
        **{f"{to_activity}status": Activity.Status.DRAFT}
    )


def _confirmed(programme: Programme) -> QuerySet[Registration]:
    return Registration.objects.filter(
        _reported(programme, "activity__"), status=Registration.Status.CONFIRMED
    )


def _kinds(programme: Programme) -> list[KindRow]:
    registered = dict(
        _confirmed(programme)
        .values("kind")
        .annotate(persons=Sum("party_size"))
        .order_by()
        .values_list("kind", "persons")
    )
    attended = dict(
        CheckIn.objects.filter(_reported(programme, "registration__activity__"))
        .values("registration__kind")
        .annotate(persons=Sum("persons"))
        .order_by()
        .values_list("registration__kind", "persons")
    )
    return [
        KindRow(
            kind=kind.value,
            label=str(kind.label),
            registered=registered.get(kind.value) or 0,
            attended=attended.get(kind.value) or 0,
        )
        for kind in Kind
    ]


def _reach(programme: Programme) -> Reach:
    counts = _confirmed(programme).aggregate(
        parties=Count("pk"),
        addresses=Count(Lower("email"), distinct=True, filter=~Q(email="")),
        without_address=Count("pk", filter=Q(email="")),
    )
    return Reach(**counts)


def programme_report(programme: Programme, *, now: dt.datetime | None = None) -> ProgrammeReport:
    """Every figure of the report, in a fixed number of queries."""
    now = now or timezone.now()
    rows = activities_with_counts(Activity.objects.filter(_reported(programme))).order_by(
        "starts_at", "title", "pk"
    )
    activities = [
        ActivityRow(
            id=activity.pk,
            title=activity.title,
            starts_at=activity.starts_at,
            ends_at=activity.ends_at,
            capacity=activity.capacity,
            registration_required=activity.registration_required,
            cancelled=activity.status == Activity.Status.CANCELLED,
            is_over=activity.is_past(now),
            registered=activity.expected,
            attended=activity.checked_in,
        )
        for activity in rows
    ]
    budget = Budget.objects.filter(programme=programme).first()
    summary = other_income = None
    if budget is not None:
        budget.programme = programme
        summary = summarise(budget)
        other_income = list(
            Income.objects.filter(budget=budget)
            .exclude(kind=Income.Kind.TICKETS)
            .select_related("activity")
            .order_by("date", "pk")
        )
    return ProgrammeReport(
        programme=programme,
        generated_at=now,
        activities=activities,
        kinds=_kinds(programme),
        reach=_reach(programme),
        budget=budget,
        summary=summary,
        other_income=other_income or [],
    )


# --- Charts ------------------------------------------------------------------------------------


def attendance_chart(report: ProgrammeReport) -> charts.Chart:
    """Per activity that takes registrations: who came, who did not, who is still to come."""
    rows = [row for row in report.activities if row.registration_required and not row.cancelled]
    bars = []
    for row in rows:
        if row.no_show is None:
            figure = _("%(registered)s aangemeld") % {"registered": row.registered}
            parts = (row.attended, 0, max(row.registered - row.attended, 0))
        else:
            figure = _("%(attended)s van %(registered)s aanwezig") % {
                "attended": row.attended,
                "registered": row.registered,
            }
            parts = (row.attended, row.no_show, 0)
        bars.append(charts.PersonsBar(row.title, parts, figure, row.capacity))
    title = _("Aanwezig per activiteit")
    description = _(
        "Liggende balken per activiteit, in personen: aanwezig (donker), niet gekomen "
        "(gearceerd) en aangemeld voor een activiteit die nog komt (licht), met een streep bij "
        "het aantal plaatsen."
    )
    if report.held:
        description += " " + _(
            "Van de %(registered)s aangemelde personen voor activiteiten die voorbij zijn, "
            "kwamen er %(attended)s (%(rate)s %%)."
        ) % {
            "registered": report.registered_held,
            "attended": sum(row.attended for row in report.held),
            "rate": formats.number_format(report.attendance_rate, 1),
        }
    labels = (_("aanwezig"), _("niet gekomen"), _("aangemeld, nog niet geweest"))
    svg = charts.persons_svg(
        chart_id="chart-attendance",
        title=title,
        description=description,
        bars=bars,
        part_labels=labels,
        mark_label=_("plaatsen"),
    )
    dash = charts.DASH.strip()
    return charts.Chart(
        id="chart-attendance",
        title=title,
        description=description,
        svg=svg,
        caption=_("Aanwezig per activiteit in cijfers"),
        headers=[
            _("Activiteit"),
            _("Aangemeld"),
            _("Aanwezig"),
            _("Niet gekomen"),
            _("Plaatsen"),
        ],
        rows=[
            [
                row.title,
                str(row.registered),
                str(row.attended),
                dash if row.no_show is None else str(row.no_show),
                dash if row.capacity is None else str(row.capacity),
            ]
            for row in rows
        ],
        legend=[
            ("attended", _("Aanwezig")),
            *([("no-show", _("Niet gekomen"))] if any(bar.parts[1] for bar in bars) else []),
            *(
                [("upcoming", _("Aangemeld, activiteit nog niet geweest"))]
                if any(bar.parts[2] for bar in bars)
                else []
            ),
            *([("target", _("Aantal plaatsen"))] if any(bar.mark for bar in bars) else []),
        ],
    )


def kinds_chart(report: ProgrammeReport) -> charts.Chart:
    """Per kind of attendee: persons who came, and persons registered who did not (yet)."""
    bars = [
        charts.PersonsBar(
            row.label,
            (row.attended, max(row.registered - row.attended, 0), 0),
            _("%(attended)s van %(registered)s aanwezig")
            % {"attended": row.attended, "registered": row.registered},
        )
        for row in report.kinds
    ]
    title = _("Inwoners en leden")
    description = _(
        "Liggende balken per soort deelnemer, in personen: aanwezig (donker) en aangemeld maar "
        "niet (of nog niet) gekomen (gearceerd)."
    )
    largest = max(report.kinds, key=lambda row: row.registered, default=None)
    if largest is not None and largest.registered:
        description += " " + _("De grootste groep aangemelden: %(kind)s (%(persons)s).") % {
            "kind": largest.label.lower(),
            "persons": largest.registered,
        }
    svg = charts.persons_svg(
        chart_id="chart-kinds",
        title=title,
        description=description,
        bars=bars,
        part_labels=(_("aanwezig"), _("aangemeld, niet (of nog niet) gekomen"), ""),
        mark_label="",
    )
    return charts.Chart(
        id="chart-kinds",
        title=title,
        description=description,
        svg=svg,
        caption=_("Inwoners en leden in cijfers"),
        headers=[_("Soort deelnemer"), _("Aangemeld"), _("Aanwezig")],
        rows=[[row.label, str(row.registered), str(row.attended)] for row in report.kinds],
        legend=[
            ("attended", _("Aanwezig")),
            ("no-show", _("Aangemeld, niet (of nog niet) gekomen")),
        ],
    )


# --- Tables ------------------------------------------------------------------------------------
# Each table of the report, defined once: the page renders it (components/_table.html), the
# workbook and the CSV file write it (`report_sheets`).

INT, EURO = Format.INT, Format.EURO
REPORT_TABLE = "organiser-table report-table"
# A workbook has no caption to say that the figures are persons.
PERSONS_REGISTERED = gettext_lazy("Aangemeld (personen)")
PERSONS_ATTENDED = gettext_lazy("Aanwezig (personen)")


def _total(_report: object) -> str:
    return _("Totaal")


def _counted(value: Callable[[ActivityRow], int]) -> Callable[[ActivityRow], int | None]:
    """Persons of an activity that takes registrations; visitors of one that does not are not
    counted (None)."""
    return lambda row: value(row) if row.registration_required else None


def _places_blank(row: ActivityRow) -> str:
    return _("onbeperkt") if row.registration_required else DASH


def activities_table(report: ProgrammeReport) -> Table:
    return Table(
        id="report-activities",
        caption=_("Aanmeldingen en opkomst per activiteit, in personen"),
        css_class=REPORT_TABLE,
        rows=report.activities,
        totals=report,
        columns=[
            Column(_("Activiteit"), lambda row: row.title, total=_total),
            Column(_("Datum"), lambda row: timezone.localtime(row.starts_at).date(), Format.DATE),
            Column(_("Stand"), lambda row: row.status_label, sheet_heading=_("Status")),
            Column(
                _("Plaatsen"),
                lambda row: row.capacity,
                INT,
                total=lambda r: r.capacity,
                blank=_places_blank,
                note=Note("note-capacity", "2"),
            ),
            Column(
                _("Aangemeld"),
                _counted(lambda row: row.registered),
                INT,
                total=lambda r: r.registered,
                sheet_heading=PERSONS_REGISTERED,
            ),
            Column(
                _("Aanwezig"),
                _counted(lambda row: row.attended),
                INT,
                total=lambda r: r.attended,
                sheet_heading=PERSONS_ATTENDED,
            ),
            Column(
                _("Niet gekomen"),
                lambda row: row.no_show,
                INT,
                total=lambda r: r.no_show,
                sheet_heading=_("Niet gekomen (personen)"),
            ),
            Column(
                _("Opkomst"),
                lambda row: row.attendance_rate,
                Format.PERCENTAGE,
                total=lambda r: r.attendance_rate,
            ),
        ],
    )


def kinds_table(report: ProgrammeReport) -> Table:
    return Table(
        id="report-kinds",
        caption=_("Aangemeld en aanwezig per soort deelnemer, in personen"),
        css_class=REPORT_TABLE,
        rows=report.kinds,
        totals=report,
        columns=[
            Column(_("Soort deelnemer"), lambda row: row.label, total=_total),
            Column(
                _("Aangemeld"),
                lambda row: row.registered,
                INT,
                total=lambda r: r.registered,
                sheet_heading=PERSONS_REGISTERED,
            ),
            Column(
                _("Aanwezig"),
                lambda row: row.attended,
                INT,
                total=lambda r: r.attended,
                sheet_heading=PERSONS_ATTENDED,
            ),
        ],
    )


def reach_figures(report: ProgrammeReport) -> list[Figure]:
    reach = report.reach
    return [
        Figure(_("Bevestigde aanmeldingen (groepen)"), reach.parties),
        Figure(_("Unieke e-mailadressen"), reach.addresses),
        Figure(_("Aanmeldingen zonder e-mailadres (elk één)"), reach.without_address),
        Figure(_("Unieke mensen bereikt"), reach.unique_people, total=True),
    ]


def costs_table(report: ProgrammeReport) -> Table:
    return Table(
        id="report-costs",
        caption=_("Kosten per activiteit (betaald, gefactureerd en besteld) per aanwezige"),
        css_class=REPORT_TABLE,
        rows=report.costs,
        totals=report,
        columns=[
            Column(_("Activiteit"), lambda cost: cost.title, total=_total),
            Column(_("Kosten"), lambda cost: cost.spending, EURO, total=lambda r: r.spending),
            Column(
                _("Aanwezig"),
                lambda cost: cost.attended,
                INT,
                total=lambda r: r.attended,
                sheet_heading=PERSONS_ATTENDED,
            ),
            Column(
                _("Per bezoeker"),
                lambda cost: cost.per_attendee,
                EURO,
                total=lambda r: r.cost_per_attendee,
            ),
        ],
    )


def budget_figures(report: ProgrammeReport, summary: BudgetSummary) -> list[Figure]:
    """The money in a few figures, for the workbook (the page has the budget's own figures)."""
    return [
        Figure(_("Budget"), summary.total, EURO),
        Figure(_("Inkomsten"), summary.income_total, EURO),
        Figure(_("Nog vrij"), summary.remaining, EURO),
        Figure(_("Verwacht over aan het eind"), summary.forecast, EURO),
        Figure(_("Betaald, gefactureerd en besteld"), report.spending, EURO),
        Figure(_("Aanwezig (personen)"), report.attended),
        Figure(_("Kosten per bezoeker"), report.cost_per_attendee, EURO, total=True),
    ]


def income_table(report: ProgrammeReport, summary: BudgetSummary) -> Table:
    return Table(
        id="report-income",
        caption=_("Inkomsten per activiteit"),
        css_class=REPORT_TABLE,
        rows=report.income_per_activity,
        totals=summary,
        empty=_("Geen inkomsten."),
        columns=[
            Column(_("Activiteit"), lambda line: line.title, total=_total),
            Column(
                _("Kaartverkoop"),
                lambda line: line.income_tickets,
                EURO,
                total=lambda s: s.income_tickets,
            ),
            Column(
                _("Overige inkomsten"),
                lambda line: line.income_other,
                EURO,
                total=lambda s: s.income_other,
            ),
            Column(_("Totaal"), lambda line: line.income, EURO, total=lambda s: s.income_total),
        ],
    )


def other_income_table(report: ProgrammeReport) -> Table:
    return Table(
        id="report-other-income",
        caption=_("Sponsoring en overige inkomsten"),
        css_class=REPORT_TABLE,
        rows=report.other_income,
        columns=[
            Column(_("Omschrijving"), lambda income: income.description),
            Column(_("Datum"), lambda income: income.date, Format.DATE),
            Column(_("Soort"), lambda income: income.get_kind_display()),
            Column(_("Activiteit"), lambda income: income.activity and income.activity.title),
            Column(_("Bedrag"), lambda income: income.amount, EURO),
        ],
    )


def page_tables(report: ProgrammeReport) -> dict[str, Table]:
    """The report's tables on its page, by name (money only when there is a budget)."""
    tables = {"activities": activities_table(report), "kinds": kinds_table(report)}
    if report.summary is not None:
        tables |= {
            "categories": category_table(
                report.summary, id="report-categories", css_class=REPORT_TABLE
            ),
            "costs": costs_table(report),
            "income": income_table(report, report.summary),
            "other_income": other_income_table(report),
        }
    return tables


# --- The workbook and the CSV file ---------------------------------------------------------------


def report_filename(programme: Programme, extension: str) -> str:
    """e.g. `verantwoording-brandweer-100-jaar-2023-11-30.xlsx`."""
    return f"verantwoording-{programme.slug}-{timezone.localdate().isoformat()}.{extension}"


def report_sheets(report: ProgrammeReport) -> list[Sheet]:
    """The report for a spreadsheet: sheets Activiteiten, Bereik, Budget and Inkomsten, with
    numbers as numbers (persons as whole numbers, money in euros) and dates as dates."""
    summary, budget = report.summary, report.budget
    no_budget = _("Dit programma heeft geen budget.")
    return [
        Sheet(
            _("Activiteiten"),
            [report.programme.name, activities_table(report)],
            widths=[48, 12, 22, 10, 20, 20, 22, 10],
            freeze="A3",
        ),
        Sheet(_("Bereik"), [kinds_table(report), reach_figures(report)], widths=[44, 22, 22]),
        Sheet(
            _("Budget"),
            [no_budget]
            if summary is None or budget is None
            else [
                exports.vat_mode_note(budget),
                category_table(summary, id="report-categories"),
                budget_figures(report, summary),
                costs_table(report),
            ],
            widths=[44, 16, 16, 16, 16, 16, 16, 18],
            freeze=None if summary is None else "A3",
        ),
        Sheet(
            _("Inkomsten"),
            [no_budget]
            if summary is None
            else [income_table(report, summary), other_income_table(report)],
            widths=[44, 16, 18, 28, 14],
        ),
    ]


def report_xlsx(report: ProgrammeReport) -> Iterator[bytes]:
    """The report as an Excel workbook (see `report_sheets`)."""
    return workbook_file(report_sheets(report))


def report_csv(report: ProgrammeReport) -> Iterator[bytes]:
    """The report as one CSV file for Dutch Excel: the sheets of the workbook one after the
    other."""
    return csv_document(report_sheets(report))
