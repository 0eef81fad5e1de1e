"""One activity's attendee list for the organiser: search and filters, exports for the door (CSV
and XLSX), a printable door list and name badges.

Who may: everyone with a role in the programme, viewers included. The attendee list is read
access (a viewer already reads it on the activity page) and nothing here changes anything.
The exports and the printouts hold less than the page: only what the door needs (name, party
size, kind of attendee, brigade, years of service, status, persons checked in, the answers to
the activity's questions), never an e-mail address or a phone number. Another programme's
activity is a 404, as everywhere in /beheer/.

The exports are the list as filtered on the page (by default: the confirmed parties), sorted by
name. Names and answers come from the public sign-up form, so a value that a spreadsheet would
take for a formula (`=`, `+`, `-`, `@` first) is written as text, never as a formula. An
activity can have ten thousand parties: the exports read them in batches (each batch's answers
in one more query) and write each row as it comes, the CSV streamed to the browser and the
workbook write-only into a temporary file.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Lower
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from events.access import get_activity_for_organiser, get_programme_for_organiser
from events.models import Activity, Question
from jubileum.lib.spreadsheets import (
    append_row,
    csv_chunks,
    csv_download,
    new_workbook,
    saved_workbook,
    set_widths,
    xlsx_download,
)
from registrations.answers import answers_for
from registrations.models import CheckIn, Registration

Status = Registration.Status
Kind = Registration.Kind

EXPORT_BATCH = 2000  # registrations read from the database (and their answers) at a time
SEARCH_MAX_LENGTH = 100
BADGES_PER_PAGE = 8  # two columns of four on an A4 sheet

# Status filter values beyond the statuses themselves.
ACTIVE = "active"
EVERYONE = "all"
_HELD = (Status.OFFERED, Status.PENDING_PAYMENT)


class AttendeeFilterForm(forms.Form):
    """Search and filters above the attendee list (GET). A value that is not valid is shown as
    an error beside its field and ignored; the list then shows what the other fields ask."""

    q = forms.CharField(
        label=gettext_lazy("Zoek op naam of e-mailadres"),
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        error_messages={
            "max_length": gettext_lazy("Zoek met hoogstens %(limit_value)d tekens."),
        },
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[
            (Status.CONFIRMED, Status.CONFIRMED.label),
            *((value, label) for value, label in Status.choices if value != Status.CONFIRMED),
            (ACTIVE, gettext_lazy("Alle actieve aanmeldingen")),
            (EVERYONE, gettext_lazy("Alle aanmeldingen, ook geannuleerd en verlopen")),
        ],
        error_messages={"invalid_choice": gettext_lazy("Kies een status uit de lijst.")},
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Soort deelnemer"),
        required=False,
        choices=[("", gettext_lazy("Iedereen")), *Kind.choices],
        error_messages={"invalid_choice": gettext_lazy("Kies een soort deelnemer uit de lijst.")},
    )

    def filters(self) -> Filters:
        """The valid filters; an invalid field counts as not filled in."""
        self.is_valid()
        valid = self.cleaned_data
        return Filters(
            q=valid.get("q", "").strip(),
            status=valid.get("status") or Status.CONFIRMED,
            kind=valid.get("kind", ""),
        )


@dataclass(frozen=True)
class Filters:
    q: str = ""
    status: str = Status.CONFIRMED
    kind: str = ""

    def query(self) -> str:
        """The filters as a query string, for export links (empty values left out)."""
        pairs = {"q": self.q, "status": self.status, "kind": self.kind}
        defaults = {"status": Status.CONFIRMED}
        return urlencode(
            {key: value for key, value in pairs.items() if value and defaults.get(key) != value}
        )


def _status_filter(status: str, now: dt.datetime) -> Q:
    """Registrations in this status as it stands now: an offer or payment hold whose time has
    passed is expired, even before a job has marked it so (Registration.current_status)."""
    holding = Q(status__in=_HELD, hold_expires_at__gt=now)
    lapsed = Q(status__in=_HELD) & (Q(hold_expires_at__isnull=True) | Q(hold_expires_at__lte=now))
    if status == EVERYONE:
        return Q()
    if status == ACTIVE:
        return Q(status__in=[Status.PENDING_APPROVAL, Status.CONFIRMED, Status.WAITLISTED]) | (
            holding
        )
    if status == Status.EXPIRED:
        return Q(status=Status.EXPIRED) | lapsed
    if status in _HELD:
        return Q(status=status, hold_expires_at__gt=now)
    return Q(status=status)


def _checked_in() -> Coalesce:
    persons = (
        CheckIn.objects.filter(registration=OuterRef("pk"))
        .values("registration")
        .annotate(n=Sum("persons"))
        .values("n")
    )
    return Coalesce(Subquery(persons, output_field=IntegerField()), 0)


def attendee_list(
    activity: Activity, filters: Filters, *, now: dt.datetime | None = None
) -> QuerySet[Registration]:
    """The activity's registrations that match, by name, each with `checked_in` (persons)."""
    now = now or timezone.now()
    listed = activity.registrations.filter(_status_filter(filters.status, now))
    if filters.q:
        listed = listed.filter(Q(contact_name__icontains=filters.q) | Q(email__icontains=filters.q))
    if filters.kind:
        listed = listed.filter(kind=filters.kind)
    return listed.annotate(checked_in=_checked_in()).order_by(Lower("contact_name"), "pk")


def describe(
    registrations: list[Registration], questions: list[Question], now: dt.datetime
) -> None:
    """Give each registration what the list shows beside its fields, from one query:
    `answer_list`, its answers in the order of `questions` ("" where none), and
    `shown_status`, its status as it stands now (a lapsed hold reads as expired)."""
    answers = answers_for(registrations) if questions and registrations else {}
    for registration in registrations:
        given = answers.get(registration.pk, {})
        registration.answer_list = [given.get(question.pk, "") for question in questions]
        registration.shown_status = Status(registration.current_status(now)).label


# --- Exports ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendeeRow:
    name: str
    party_size: int
    kind: str
    brigade: str
    years_of_service: int | None
    status: str
    checked_in: int
    answers: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AttendeeExport:
    """The headings, and the rows as they are read (once)."""

    activity: Activity
    headings: list[str]
    rows: Iterator[AttendeeRow]


def _described(
    activity: Activity, filters: Filters, questions: list[Question], now: dt.datetime
) -> Iterator[Registration]:
    matching = attendee_list(activity, filters, now=now).iterator(chunk_size=EXPORT_BATCH)
    for batch in itertools.batched(matching, EXPORT_BATCH):
        registrations = list(batch)
        describe(registrations, questions, now)
        yield from registrations


def export_rows(
    activity: Activity, filters: Filters, *, now: dt.datetime | None = None
) -> AttendeeExport:
    """What the door needs of each matching party: the questions, then the parties in batches
    of `EXPORT_BATCH` with their answers, two queries a batch."""
    now = now or timezone.now()
    questions = list(activity.questions.all())
    headings = [
        _("Naam"),
        _("Personen"),
        _("Soort deelnemer"),
        _("Korps"),
        _("Dienstjaren"),
        _("Status"),
        _("Binnen (personen)"),
        *(question.label for question in questions),
    ]
    rows = (
        AttendeeRow(
            name=registration.contact_name,
            party_size=registration.party_size,
            kind=str(registration.get_kind_display()),
            brigade=str(registration.get_brigade_display()) if registration.brigade else "",
            years_of_service=registration.years_of_service,
            status=str(registration.shown_status),
            checked_in=registration.checked_in,
            answers=registration.answer_list,
        )
        for registration in _described(activity, filters, questions, now)
    )
    return AttendeeExport(activity=activity, headings=headings, rows=rows)


def export_filename(activity: Activity, extension: str) -> str:
    """e.g. `deelnemers-reunie-2027-01-15.csv`: the activity and the day of the export."""
    return f"deelnemers-{activity.slug}-{timezone.localdate().isoformat()}.{extension}"


def _cells(row: AttendeeRow) -> list[object]:
    return [
        row.name,
        row.party_size,
        row.kind,
        row.brigade,
        row.years_of_service,
        row.status,
        row.checked_in,
        *row.answers,
    ]


def attendees_csv(export: AttendeeExport) -> Iterator[bytes]:
    """For Dutch Excel, like the budget ledger: UTF-8 with a byte-order mark and `;`."""
    return csv_chunks(itertools.chain([export.headings], map(_cells, export.rows)))


def attendees_xlsx(export: AttendeeExport) -> Iterator[bytes]:
    """An Excel workbook: headings in bold on a frozen first row, numbers as numbers, every
    text cell stored as text."""
    workbook = new_workbook()
    sheet = workbook.create_sheet(_("Deelnemers"))
    sheet.freeze_panes = "A2"
    set_widths(sheet, [30, 10, 16, 14, 12, 20, 12, *(30 for _question in export.headings[7:])])
    append_row(sheet, export.headings, bold=True)
    for row in export.rows:
        append_row(sheet, [None if cell == "" else cell for cell in _cells(row)])
    return saved_workbook(workbook)


# --- Views -----------------------------------------------------------------------------------


def _export_for(
    request: HttpRequest, programme_slug: str, activity_slug: str
) -> tuple[Activity, AttendeeExport]:
    item = get_programme_for_organiser(request.user, programme_slug)
    current = get_activity_for_organiser(item, activity_slug)
    return current, export_rows(current, AttendeeFilterForm(request.GET).filters())


@login_required
@require_safe
def export_csv(
    request: HttpRequest, programme_slug: str, activity_slug: str
) -> StreamingHttpResponse:
    current, export = _export_for(request, programme_slug, activity_slug)
    return csv_download(attendees_csv(export), export_filename(current, "csv"))


@login_required
@require_safe
def export_xlsx(
    request: HttpRequest, programme_slug: str, activity_slug: str
) -> StreamingHttpResponse:
    current, export = _export_for(request, programme_slug, activity_slug)
    return xlsx_download(attendees_xlsx(export), export_filename(current, "xlsx"))


def _confirmed(activity: Activity) -> list[Registration]:
    """Who is expected at the door: the confirmed parties, by name."""
    return list(attendee_list(activity, Filters(status=Status.CONFIRMED)))


@login_required
@require_safe
def door_list(request: HttpRequest, programme_slug: str, activity_slug: str) -> HttpResponse:
    """A printable list for the door: everyone confirmed, by name, with a box to tick."""
    item = get_programme_for_organiser(request.user, programme_slug)
    current = get_activity_for_organiser(item, activity_slug)
    questions = list(current.questions.all())
    registrations = _confirmed(current)
    describe(registrations, questions, timezone.now())
    response = render(
        request,
        "organiser/door_list.html",
        {
            "programme": item,
            "activity": current,
            "questions": questions,
            "registrations": registrations,
            "persons": sum(registration.party_size for registration in registrations),
            "printed_at": timezone.now(),
        },
    )
    patch_cache_control(response, private=True, no_store=True)
    return response


@dataclass(frozen=True)
class Badge:
    """One person's name badge. The registration names only its contact, so the others in the
    party get a guest badge: a blank line to write their own name on, and "Gast van <contact>"
    where a member's brigade would be (so the door hands the party its badges together)."""

    registration: Registration
    guest: bool


def name_badges(registrations: list[Registration]) -> list[Badge]:
    """A badge for every person in each party: the contact's first, then one per guest."""
    return [
        Badge(registration=registration, guest=place > 0)
        for registration in registrations
        for place in range(registration.party_size)
    ]


@login_required
@require_safe
def badges(request: HttpRequest, programme_slug: str, activity_slug: str) -> HttpResponse:
    """Name badges for every confirmed person (`name_badges`): name, brigade and years of
    service, eight to an A4."""
    item = get_programme_for_organiser(request.user, programme_slug)
    current = get_activity_for_organiser(item, activity_slug)
    badges = name_badges([r for r in _confirmed(current) if r.contact_name])
    sheets = [
        badges[start : start + BADGES_PER_PAGE] for start in range(0, len(badges), BADGES_PER_PAGE)
    ]
    response = render(
        request,
        "organiser/badges.html",
        {"programme": item, "activity": current, "sheets": sheets, "count": len(badges)},
    )
    patch_cache_control(response, private=True, no_store=True)
    return response
