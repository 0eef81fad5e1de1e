"""An activity's attendee list for organisers: search and filters, the CSV and XLSX exports for
the door, the printable door list and name badges, the programme overview with its sparklines;
query counts that do not grow with the registrations; who may see what."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from events.models import Activity, ProgrammeRole, Question
from registrations.models import Answer, CheckIn, Registration

# Engine-dependent, so CI runs it on SQLite too: search (icontains), ordering by Lower(name) and
# days in a time zone (TruncDate) are SQL.
pytestmark = pytest.mark.engine_dependent

Role = ProgrammeRole.Role
Status = Registration.Status
Kind = Registration.Kind
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SVG = "{http://www.w3.org/2000/svg}"

HEADINGS = [
    "Naam",
    "Personen",
    "Soort deelnemer",
    "Korps",
    "Dienstjaren",
    "Status",
    "Binnen (personen)",
    "Dieetwensen",
    "Rolstoel nodig?",
]


@pytest.fixture
def organiser_client(client, organiser):
    client.force_login(organiser)
    return client


@pytest.fixture
def travel(time_machine, client, organiser):
    """Stop the clock at a moment, and log the organiser in again there (a session started
    months before has expired by then)."""

    def go(moment: dt.datetime) -> None:
        time_machine.move_to(moment, tick=False)
        client.force_login(organiser)

    return go


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture
def reunion(make_activity):
    reunion = make_activity(
        title="Reünie", slug="reunie", audience=Activity.Audience.MEMBERS, capacity=100
    )
    Question.objects.create(
        activity=reunion, position=2, label="Rolstoel nodig?", kind=Question.Kind.YES_NO
    )
    Question.objects.create(
        activity=reunion, position=1, label="Dieetwensen", kind=Question.Kind.TEXT
    )
    return reunion


def _answer(registration: Registration, label: str, value: str) -> None:
    question = registration.activity.questions.get(label=label)
    Answer.objects.create(registration=registration, question=question, value=value)


@pytest.fixture
def guests(reunion, make_registration):
    """Three confirmed parties (one checked in, with answers), one waiting, one cancelled."""
    jan = make_registration(
        activity=reunion,
        contact_name="Jan de Vries",
        email="jan@example.org",
        phone="06 12345678",
        party_size=2,
        kind=Kind.MEMBER,
        brigade="soest",
        years_of_service=25,
    )
    _answer(jan, "Dieetwensen", "Vegetarisch")
    _answer(jan, "Rolstoel nodig?", "ja")
    CheckIn.objects.create(registration=jan, persons=1, at=timezone.now())
    els = make_registration(
        activity=reunion,
        contact_name="Els Bakker",
        email="els@brandweer-soesterberg.nl",
        party_size=1,
        kind=Kind.FORMER_MEMBER,
        brigade="soesterberg",
        years_of_service=40,
    )
    _answer(els, "Rolstoel nodig?", "nee")
    anna = make_registration(
        activity=reunion, contact_name="anna Zwart", email="anna@example.org", party_size=3
    )
    waiting = make_registration(
        activity=reunion,
        contact_name="Wim Wachter",
        email="wim@example.org",
        status=Status.WAITLISTED,
        waitlisted_at=timezone.now(),
        kind=Kind.GUEST,
    )
    gone = make_registration(
        activity=reunion, contact_name="Afke Afgemeld", status=Status.CANCELLED
    )
    return {"jan": jan, "els": els, "anna": anna, "waiting": waiting, "gone": gone}


def _url(name: str, activity: Activity) -> str:
    return reverse(
        f"organiser:{name}",
        kwargs={"programme_slug": activity.programme.slug, "activity_slug": activity.slug},
    )


def _names(response) -> list[str]:
    return [registration.contact_name for registration in response.context["attendees"]]


def _csv_rows(response) -> list[list[str]]:
    content = response.getvalue()
    assert content.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel needs for UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def _xlsx_rows(response) -> list[list[object]]:
    sheet = load_workbook(io.BytesIO(response.getvalue())).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


# --- Search and filters ------------------------------------------------------------------------


def test_attendee_list_shows_the_confirmed_by_name(organiser_client, reunion, guests):
    response = organiser_client.get(_url("activity", reunion))

    assert response.status_code == 200
    assert _names(response) == ["anna Zwart", "Els Bakker", "Jan de Vries"]
    html = response.content.decode()
    assert "3 aanmeldingen gevonden" in html
    # Checked in per party, and the answers under their questions, in the questions' order.
    assert html.index(">Dieetwensen</th>") < html.index(">Rolstoel nodig?</th>")
    assert "1 van 2" in html and "0 van 1" in html
    assert "<td>Vegetarisch</td><td>Ja</td>" in html
    assert "<td>\u2013</td><td>Nee</td>" in html  # an en dash where nothing was answered


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "vries"}, ["Jan de Vries"]),
        ({"q": "  BAKKER "}, ["Els Bakker"]),
        ({"q": "brandweer-soesterberg"}, ["Els Bakker"]),  # by e-mail address
        ({"q": "niemand"}, []),
        ({"status": "waitlisted"}, ["Wim Wachter"]),
        ({"status": "cancelled"}, ["Afke Afgemeld"]),
        ({"status": "active"}, ["anna Zwart", "Els Bakker", "Jan de Vries", "Wim Wachter"]),
        (
            {"status": "all"},
            ["Afke Afgemeld", "anna Zwart", "Els Bakker", "Jan de Vries", "Wim Wachter"],
        ),
        ({"kind": "former_member"}, ["Els Bakker"]),
        ({"kind": "guest", "status": "active"}, ["Wim Wachter"]),
        ({"kind": "guest"}, []),
        ({"q": "a", "kind": "member"}, ["Jan de Vries"]),
    ],
)
def test_search_and_filters(organiser_client, reunion, guests, query, expected):
    response = organiser_client.get(_url("activity", reunion), query)

    assert _names(response) == expected


def test_a_lapsed_hold_counts_as_expired(organiser_client, reunion, make_registration):
    past = timezone.now() - dt.timedelta(minutes=1)
    make_registration(
        activity=reunion, contact_name="Te Laat", status=Status.OFFERED, hold_expires_at=past
    )
    make_registration(
        activity=reunion,
        contact_name="Nog Even",
        status=Status.PENDING_PAYMENT,
        hold_expires_at=timezone.now() + dt.timedelta(minutes=20),
    )
    make_registration(activity=reunion, contact_name="Al Verlopen", status=Status.EXPIRED)
    url = _url("activity", reunion)

    assert _names(organiser_client.get(url, {"status": "expired"})) == ["Al Verlopen", "Te Laat"]
    assert _names(organiser_client.get(url, {"status": "offered"})) == []
    assert _names(organiser_client.get(url, {"status": "pending_payment"})) == ["Nog Even"]
    assert _names(organiser_client.get(url, {"status": "active"})) == ["Nog Even"]


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"status": "vip"}, "Kies een status uit de lijst."),
        ({"kind": "brandweerman"}, "Kies een soort deelnemer uit de lijst."),
        ({"q": "x" * 101}, "Zoek met hoogstens 100 tekens."),
    ],
)
def test_a_bad_filter_value_is_explained_and_ignored(
    organiser_client, reunion, guests, query, error
):
    response = organiser_client.get(_url("activity", reunion), query)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert _names(response) == ["anna Zwart", "Els Bakker", "Jan de Vries"]


def test_the_filter_form_works_without_javascript_and_htmx_swaps_only_the_list(
    organiser_client, reunion, guests
):
    url = _url("activity", reunion)
    page = organiser_client.get(url).content.decode()
    assert '<form class="filters attendee-filters" method="get" role="search"' in page
    assert f'action="{url}"' in page and f'data-hx-get="{url}"' in page
    assert 'name="q"' in page and 'name="status"' in page and 'name="kind"' in page

    fragment = organiser_client.get(url, {"q": "vries"}, headers={"HX-Request": "true"})

    html = fragment.content.decode()
    assert "<html" not in html and "Wachtlijst" not in html
    assert '<div id="attendees"' in html
    assert 'id="attendee-count"' in html and 'data-hx-swap-oob="innerHTML"' in html
    assert "1 aanmelding gevonden" in html
    assert "Jan de Vries" in html and "Els Bakker" not in html
    # The export links carry the search along.
    assert _url("attendees_csv", reunion) + "?q=vries" in html


def test_the_queues_stay_above_the_list_in_their_own_order(
    organiser_client, reunion, guests, make_registration
):
    make_registration(
        activity=reunion,
        contact_name="Aart Eerder",
        status=Status.WAITLISTED,
        waitlisted_at=timezone.now() - dt.timedelta(days=1),
    )

    response = organiser_client.get(_url("activity", reunion))

    waitlist = [r.contact_name for r in response.context["groups"]["waitlist"]]
    assert waitlist == ["Aart Eerder", "Wim Wachter"]
    html = response.content.decode()
    assert html.index('id="waitlist-heading"') < html.index('id="attendees-heading"')


def test_the_list_comes_in_pages(organiser_client, reunion, make_registration):
    Registration.objects.bulk_create(
        Registration(
            activity=reunion,
            status=Status.CONFIRMED,
            contact_name=f"Lid {n:03}",
            email=f"lid{n}@example.org",
            party_size=1,
            consent_at=timezone.now(),
        )
        for n in range(105)
    )
    url = _url("activity", reunion)

    first = organiser_client.get(url, {"q": "lid"})
    second = organiser_client.get(url, {"q": "lid", "pagina": 2})

    assert len(_names(first)) == 50 and _names(first)[0] == "Lid 000"
    assert _names(second) == [f"Lid {n:03}" for n in range(50, 100)]
    assert "?q=lid&amp;pagina=2" in first.content.decode()
    assert "Pagina 2 van 3" in second.content.decode()


# --- Exports -----------------------------------------------------------------------------------


def test_csv_export_holds_what_the_door_needs_and_no_contact_details(
    organiser_client, reunion, guests, travel
):
    travel(dt.datetime(2027, 1, 10, 12, tzinfo=AMSTERDAM))

    response = organiser_client.get(_url("attendees_csv", reunion))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"] == 'attachment; filename="deelnemers-reunie-2027-01-10.csv"'
    )
    assert "no-store" in response["Cache-Control"]
    assert _csv_rows(response) == [
        HEADINGS,
        ["anna Zwart", "3", "Inwoner", "", "", "Bevestigd", "0", "", ""],
        ["Els Bakker", "1", "Oud-lid", "Soesterberg", "40", "Bevestigd", "0", "", "Nee"],
        ["Jan de Vries", "2", "Lid", "Soest", "25", "Bevestigd", "1", "Vegetarisch", "Ja"],
    ]
    text = response.getvalue().decode("utf-8-sig")
    assert "@" not in text and "example.org" not in text and "12345678" not in text


def test_xlsx_export_has_the_same_rows_with_numbers_as_numbers(
    organiser_client, reunion, guests, travel
):
    travel(dt.datetime(2027, 1, 10, 12, tzinfo=AMSTERDAM))

    response = organiser_client.get(_url("attendees_xlsx", reunion))

    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="deelnemers-reunie-2027-01-10.xlsx"'
    )
    rows = _xlsx_rows(response)
    assert rows == [
        HEADINGS,
        ["anna Zwart", 3, "Inwoner", None, None, "Bevestigd", 0, None, None],
        ["Els Bakker", 1, "Oud-lid", "Soesterberg", 40, "Bevestigd", 0, None, "Nee"],
        ["Jan de Vries", 2, "Lid", "Soest", 25, "Bevestigd", 1, "Vegetarisch", "Ja"],
    ]
    cells = [str(value) for row in rows for value in row if value is not None]
    assert not any("@" in value or "12345678" in value for value in cells)


def test_exports_follow_the_filters_on_the_page(organiser_client, reunion, guests):
    query = {"status": "waitlisted"}

    csv_rows = _csv_rows(organiser_client.get(_url("attendees_csv", reunion), query))
    xlsx_rows = _xlsx_rows(organiser_client.get(_url("attendees_xlsx", reunion), query))

    assert csv_rows[1:] == [["Wim Wachter", "2", "Gast", "", "", "Op de wachtlijst", "0", "", ""]]
    assert xlsx_rows[1:] == [
        ["Wim Wachter", 2, "Gast", None, None, "Op de wachtlijst", 0, None, None]
    ]


def test_exports_write_formulas_from_the_sign_up_form_as_text(
    organiser_client, reunion, make_registration
):
    attacker = make_registration(activity=reunion, contact_name='=HYPERLINK("http://x","klik")')
    _answer(attacker, "Dieetwensen", "+31 6 1234")

    csv_row = _csv_rows(organiser_client.get(_url("attendees_csv", reunion)))[1]
    response = organiser_client.get(_url("attendees_xlsx", reunion))
    sheet = load_workbook(io.BytesIO(response.getvalue())).active

    assert csv_row[0] == '\'=HYPERLINK("http://x","klik")'
    assert csv_row[7] == "'+31 6 1234"
    assert sheet["A2"].value == '=HYPERLINK("http://x","klik")'
    assert sheet["A2"].data_type == "s"
    assert sheet["H2"].data_type == "s"


# --- Door list and badges ----------------------------------------------------------------------


def test_door_list_is_alphabetical_with_a_box_to_tick_and_the_answers(
    organiser_client, reunion, guests
):
    response = organiser_client.get(_url("door_list", reunion))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Deurlijst Reünie</h1>" in html
    assert "3 groepen" in html and "6 personen" in html
    assert html.index("anna Zwart") < html.index("Els Bakker") < html.index("Jan de Vries")
    assert html.count('<span class="tick-box" aria-hidden="true"></span>') == 3
    assert '<th scope="col">Dieetwensen</th>' in html
    row = (
        '<th scope="row">Jan de Vries</th><td class="num">2</td><td>Lid, Soest</td>'
        "<td>Vegetarisch</td><td>Ja</td>"
    )
    assert row in re.sub(r">\s+<", "><", html)
    # Only who is coming, and nothing to reach them by.
    assert "Wim Wachter" not in html and "Afke Afgemeld" not in html
    assert "jan@example.org" not in html and "12345678" not in html
    # The print button needs JavaScript: it is hidden until static/js/print.js shows it.
    assert '<button type="button" class="print-button" data-print hidden>Afdrukken</button>' in html
    assert "/static/js/print.js" in html and "/static/css/print.css" in html
    assert "<script>" not in html  # the CSP allows no inline script


def test_badges_come_eight_to_a_sheet_with_brigade_and_years(
    organiser_client, reunion, guests, make_registration
):
    for n in range(6):
        make_registration(activity=reunion, contact_name=f"Extra {n}", kind=Kind.GUEST)

    response = organiser_client.get(_url("badges", reunion))

    assert response.status_code == 200
    html = response.content.decode()
    # One badge a person: 2 + 1 + 3 in the three parties, and 6 parties of 2.
    assert html.count('<ul class="badge-sheet"') == 3
    assert html.count('<li class="name-badge') == 18
    assert 'aria-label="Vel 3 van 3"' in html
    jan = html[html.index(">Jan de Vries<") :]
    jan = jan[: jan.index("</li>")]
    assert "Korps Soest" in jan and "25 dienstjaren" in jan
    els = html[html.index(">Els Bakker<") :]
    assert "Korps Soesterberg" in els[: els.index("</li>")]
    extra = html[html.index(">Extra 0<") :]
    assert "Gast" in extra[: extra.index("</li>")]
    assert "Wim Wachter" not in html and "@" not in html.split("<main", 1)[1].split("</main>")[0]
    assert "data-print hidden>Afdrukken</button>" in html


# --- Programme overview ------------------------------------------------------------------------


def _svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(svg) for svg in re.findall(r"<svg .*?</svg>", html, re.S)]


def test_programme_overview_counts_payments_under_way_and_persons_checked_in(
    organiser_client, programme, reunion, guests, make_registration
):
    soon = timezone.now() + dt.timedelta(minutes=20)
    make_registration(activity=reunion, status=Status.PENDING_PAYMENT, hold_expires_at=soon)
    make_registration(
        activity=reunion,
        status=Status.PENDING_PAYMENT,
        hold_expires_at=timezone.now() - dt.timedelta(minutes=1),
    )
    make_registration(activity=reunion, status=Status.PENDING_APPROVAL)
    # Approved, not yet paying: counts; a waitlist offer does not.
    make_registration(
        activity=reunion, status=Status.OFFERED, hold_expires_at=soon, approved_at=timezone.now()
    )
    make_registration(activity=reunion, status=Status.OFFERED, hold_expires_at=soon)
    CheckIn.objects.create(registration=guests["els"], persons=1, at=timezone.now())

    response = organiser_client.get(reverse("organiser:programme", args=[programme.slug]))

    [row] = response.context["activities"]
    assert (row.confirmed_persons, row.capacity) == (6, 100)
    assert (row.waitlisted_parties, row.waitlisted_persons) == (1, 2)
    assert row.pending_approvals == 1
    assert row.paying_parties == 2  # the lapsed hold waits for nothing any more
    assert row.checked_in == 2
    cells = re.findall(r"<td[^>]*>(.*?)</td>", response.content.decode(), re.S)
    texts = [re.sub(r"<svg .*</svg>", "", cell, flags=re.S).strip() for cell in cells]
    assert texts[1:] == ["6 / 100", "1, 2", "1", "2", "2"]


def test_sparkline_counts_confirmed_persons_per_day_in_amsterdam(
    organiser_client, programme, make_activity, make_registration, travel
):
    travel(dt.datetime(2027, 5, 20, 12, tzinfo=AMSTERDAM))
    dinner = make_activity(
        title="Reüniediner", starts_at=dt.datetime(2027, 6, 1, 18, tzinfo=AMSTERDAM)
    )
    # 23:30 UTC on 2 May is already 3 May in Amsterdam.
    make_registration(
        activity=dinner,
        party_size=2,
        confirmed_at=dt.datetime(2027, 5, 2, 23, 30, tzinfo=dt.UTC),
    )
    make_registration(
        activity=dinner, party_size=3, confirmed_at=dt.datetime(2027, 5, 10, 9, tzinfo=AMSTERDAM)
    )
    make_registration(activity=dinner, party_size=1)  # confirmed at once: counts when made
    make_registration(activity=dinner, party_size=4, status=Status.CANCELLED)
    make_registration(activity=dinner, party_size=4, status=Status.WAITLISTED)
    make_activity(title="Nog leeg", starts_at=dt.datetime(2027, 6, 2, 18, tzinfo=AMSTERDAM))

    response = organiser_client.get(reverse("organiser:programme", args=[programme.slug]))

    html = response.content.decode()
    [svg] = _svgs(html)
    assert svg.tag == f"{SVG}svg"
    assert svg.get("role") == "img"
    assert svg.get("aria-label") == "Aanmeldingen per dag: van 0 op 3 mei tot 6 op 20 mei"
    path = svg.find(f"{SVG}path").get("d")
    # From 0 up by 2 (3 May), 3 (10 May) and 1 (20 May, the right-hand end).
    assert path == "M2.0,30.0H2.0V20.7H49.8V6.7H118.0V2.0H118.0"


def test_sparkline_of_a_past_activity_ends_on_its_day(
    organiser_client, programme, make_activity, make_registration, travel
):
    travel(dt.datetime(2027, 5, 20, 12, tzinfo=AMSTERDAM))
    parade = make_activity(starts_at=dt.datetime(2027, 5, 15, 14, tzinfo=AMSTERDAM))
    make_registration(
        activity=parade, party_size=5, confirmed_at=dt.datetime(2027, 4, 30, 9, tzinfo=AMSTERDAM)
    )

    response = organiser_client.get(reverse("organiser:programme", args=[programme.slug]))

    [svg] = _svgs(response.content.decode())
    assert svg.get("aria-label") == "Aanmeldingen per dag: van 0 op 30 april tot 5 op 15 mei"


# --- Query counts ------------------------------------------------------------------------------


def _fill(activity: Activity, count: int) -> None:
    """`count` registrations of mixed statuses and kinds over many days, with answers and
    check-ins, in a handful of queries."""
    start = timezone.now() - dt.timedelta(days=60)
    statuses = [Status.CONFIRMED, Status.CONFIRMED, Status.WAITLISTED, Status.PENDING_APPROVAL]
    made = Registration.objects.bulk_create(
        Registration(
            activity=activity,
            status=statuses[n % len(statuses)],
            contact_name=f"Deelnemer {n}",
            email=f"deelnemer{n}@example.org",
            party_size=1 + n % 4,
            kind=list(Kind)[n % 4],
            brigade="soest" if n % 2 else "",
            years_of_service=n % 40 if n % 2 else None,
            confirmed_at=start + dt.timedelta(hours=n),
            waitlisted_at=start,
            consent_at=start,
        )
        for n in range(count)
    )
    questions = list(activity.questions.all())
    Answer.objects.bulk_create(
        Answer(registration=registration, question=question, value="ja")
        for registration in made
        for question in questions
    )
    CheckIn.objects.bulk_create(
        CheckIn(registration=registration, persons=1, at=timezone.now())
        for registration in made[::3]
    )


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if response.streaming:  # a CSV export reads its rows as it is sent
            response.getvalue()
    assert response.status_code == 200
    return len(queries)


def test_badges_are_one_per_person_the_guests_with_a_line_for_their_name(
    organiser_client, reunion, guests
):
    html = organiser_client.get(_url("badges", reunion)).content.decode()

    badges = re.findall(r'<li class="name-badge[^"]*">.*?</li>', html, flags=re.S)
    assert len(badges) == 6  # Jan and his guest, Els, anna and her two guests
    assert "6 badges, één voor iedereen die bevestigd is" in html
    named = [badge for badge in badges if 'class="name-badge"' in badge]
    assert len(named) == 3
    guest_of = [
        re.search(r"Gast van ([^<]+)</p>", badge).group(1)
        for badge in badges
        if "name-badge--guest" in badge
    ]
    assert guest_of == ["anna Zwart", "anna Zwart", "Jan de Vries"]
    jan_guest = next(badge for badge in badges if "Gast van Jan de Vries" in badge)
    # The member's brigade and years are his own, not his guest's; the name is written in.
    assert "Korps" not in jan_guest and "dienstjaren" not in jan_guest
    assert '<p class="name-badge__name name-badge__write-in">' in jan_guest
    assert html.index(">Jan de Vries<") < html.index("Gast van Jan de Vries")


def test_query_counts_do_not_grow_with_the_registrations(
    organiser_client, programme, reunion, make_activity
):
    other = make_activity(title="Open dag")
    _fill(reunion, 10)
    _fill(other, 10)
    urls = [
        reverse("organiser:programme", args=[programme.slug]),
        _url("activity", reunion),
        _url("activity", reunion) + "?status=all&q=deelnemer",
        _url("attendees_csv", reunion) + "?status=all",
        _url("attendees_xlsx", reunion) + "?status=all",
        _url("door_list", reunion),
        _url("badges", reunion),
    ]
    few = {url: _queries(organiser_client, url) for url in urls}

    # Past one page of the list (ATTENDEES_PER_PAGE) and many sheets of badges.
    _fill(reunion, 110)
    _fill(other, 110)
    many = {url: _queries(organiser_client, url) for url in urls}

    assert many == few
    # The programme page: session, user, programme, the counts, the persons checked in per
    # activity, the sparkline data, and what waits for approval (registrations, expenses).
    assert few[urls[0]] == 8
    # An export: session, user, programme, activity, questions, the rows, their answers.
    assert few[urls[3]] == few[urls[4]] == 7


# --- Who may ----------------------------------------------------------------------------------


def test_viewer_reads_and_exports_but_gets_no_actions(viewer_client, reunion, guests):
    page = viewer_client.get(_url("activity", reunion))

    assert page.status_code == 200
    html = page.content.decode()
    assert "Jan de Vries" in html
    assert ">Acties</th>" not in html and "<details" not in html
    for name in ["attendees_csv", "attendees_xlsx", "door_list", "badges"]:
        assert viewer_client.get(_url(name, reunion)).status_code == 200


def test_organiser_gets_the_actions_per_row(organiser_client, reunion, guests):
    html = organiser_client.get(_url("activity", reunion)).content.decode()

    assert ">Acties</th>" in html
    assert html.count('<details class="row-actions">') == 3
    cancel = reverse("organiser:cancel", args=[reunion.programme.slug, guests["jan"].pk])
    assert f'href="{cancel}"' in html


def test_another_programme_gets_not_found(client, make_user, make_programme, reunion, guests):
    client.force_login(make_user("buurman", Role.ORGANISER, make_programme()))

    for name in ["activity", "attendees_csv", "attendees_xlsx", "door_list", "badges"]:
        assert client.get(_url(name, reunion)).status_code == 404


def test_an_activity_of_another_programme_is_not_found_through_ones_own(
    client, make_user, make_programme, make_activity, reunion
):
    own = make_programme()
    client.force_login(make_user("buurman", Role.ORGANISER, own))
    url = reverse(
        "organiser:attendees_csv", kwargs={"programme_slug": own.slug, "activity_slug": "reunie"}
    )

    assert client.get(url).status_code == 404


def test_anonymous_visitors_are_sent_to_the_login(client, reunion, guests):
    login = reverse("login")
    for name in ["attendees_csv", "attendees_xlsx", "door_list", "badges"]:
        response = client.get(_url(name, reunion))
        assert response.status_code == 302 and response.url.startswith(login)


def test_exports_and_printouts_are_get_only(organiser_client, reunion):
    for name in ["attendees_csv", "attendees_xlsx", "door_list", "badges"]:
        assert organiser_client.post(_url(name, reunion)).status_code == 405


# --- In a browser ------------------------------------------------------------------------------


def _log_in(page, path: str) -> None:
    page.goto(path)
    page.get_by_label("Gebruikersnaam").fill("organisator")
    page.get_by_label("Wachtwoord").fill("wachtwoord-123")
    page.get_by_role("button", name="Inloggen").click()
    # htmx and print.js set themselves up once the page has loaded.
    page.wait_for_url(f"**{path}")
    page.wait_for_load_state()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)  # the live server reads from another connection
def test_searching_swaps_the_list_and_printing_needs_javascript_only_for_the_button(
    new_page, organiser, reunion, guests, foreign_requests
):
    from playwright.sync_api import expect

    page = new_page()
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    _log_in(page, _url("activity", reunion))

    page.get_by_label("Zoek op naam of e-mailadres").fill("vries")

    rows = page.locator("#attendees tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Jan de Vries")
    expect(page.locator("#attendee-count")).to_have_text("1 aanmelding gevonden")
    expect(page).to_have_url(re.compile(r"\?q=vries"))
    page.get_by_role("link", name="Deurlijst om af te drukken").click()
    expect(page.get_by_role("button", name="Afdrukken")).to_be_visible()
    expect(page.get_by_text("Afdrukken kan via het menu")).to_be_hidden()

    without_js = new_page(javascript=False)
    _log_in(without_js, _url("door_list", reunion))
    expect(without_js.get_by_role("heading", name="Deurlijst Reünie")).to_be_visible()
    expect(without_js.get_by_role("button", name="Afdrukken")).to_have_count(0)
    expect(without_js.get_by_text("Afdrukken kan via het menu")).to_be_visible()
    without_js.get_by_role("link", name="Terug naar Reünie").click()
    without_js.get_by_label("Status").select_option("waitlisted")
    without_js.get_by_role("button", name="Zoeken").click()
    expect(without_js.locator("#attendees tbody tr")).to_have_count(1)
    expect(without_js.locator("#attendees tbody tr").first).to_contain_text("Wim Wachter")

    assert errors == []  # nothing the CSP refused, no script errors
    assert foreign_requests == []
