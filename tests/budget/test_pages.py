"""The budget pages of the organiser area: who sees what, the htmx and plain forms, status steps,
approvals, attachments, income, exports, and query counts that do not grow with the ledger."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from decimal import Decimal
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from budget import errors, services
from budget.inputs import ExpenseChange, ExpenseInput, IncomeInput
from budget.models import Attachment, Budget, Category, Expense, Income
from events.models import ProgrammeRole

Role = ProgrammeRole.Role
Status = Expense.Status
_counter = itertools.count(1)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SVG_NS = "{http://www.w3.org/2000/svg}"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")

# Attachments go to a folder of each test; alert e-mails are enqueued in memory, never sent.
pytestmark = pytest.mark.usefixtures("private_media", "tasks")


# --- Fixtures --------------------------------------------------------------------------------


@pytest.fixture
def organiser(make_user, programme):
    """Anne, not the shared "organisator": the expense page's history names her."""
    return make_user("anne", Role.ORGANISER, programme)


@pytest.fixture
def second_organiser(make_user, programme):
    return make_user("bert", Role.ORGANISER, programme)


@pytest.fixture
def viewer(make_user, programme):
    """The treasurer, not the shared "meekijker"."""
    return make_user("penningmeester", Role.VIEWER, programme)


@pytest.fixture
def budget(programme) -> Budget:
    return Budget.objects.create(programme=programme, total=Decimal("8000.00"))


@pytest.fixture
def catering(budget) -> Category:
    category = budget.categories.get(name="Catering")
    category.planned_amount = Decimal("2000.00")
    category.save()
    return category


@pytest.fixture
def make_expense(budget, organiser, second_organiser, catering):
    """Record an expense as `organiser`; a later `status` is reached through approval (by the
    second organiser, when the amount needs it) and the status steps, dated with the expense."""

    def make(*, status=Status.PLANNED, category=None, activity=None, **fields) -> Expense:
        values = {
            "category_id": (category or catering).pk,
            "activity_id": activity and activity.pk,
            "supplier": "Bakkerij Van der Pol",
            "description": f"Koffie en gebak {next(_counter)}",
            "date": dt.date(2027, 1, 15),
            "amount_excl_vat": Decimal("100.00"),
            "vat_rate": 9,
        }
        values.update(fields)
        made = services.record_expense(budget, ExpenseInput(**values), by=organiser)
        if status != Status.PLANNED:
            if made.needs_approval:
                services.approve_expense(made.pk, by=second_organiser)
            made = services.advance_expense(made.pk, status, by=organiser, on_date=values["date"])
        return made

    return make


@pytest.fixture
def expense(make_expense) -> Expense:
    return make_expense(description="Koffie en gebak receptie")


@pytest.fixture
def attachment(expense, organiser) -> Attachment:
    upload = SimpleUploadedFile("offerte.pdf", PDF, content_type="application/pdf")
    return services.add_attachment(expense.pk, upload, "quote", by=organiser)


def url(name: str, programme, **kwargs) -> str:
    return reverse(f"budget:{name}", kwargs={"programme_slug": programme.slug, **kwargs})


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def expense_data(catering, **fields) -> dict[str, str]:
    data = {
        "supplier": "Drukkerij Soest",
        "description": "Fotoboek 100 jaar brandweer",
        "category": str(catering.pk),
        "activity": "",
        "amount_excl_vat": "1.234,56",
        "vat_rate": "21",
        "date": "2027-01-20",
        "invoice_number": "F-2027-001",
        "status": "planned",
    }
    data.update(fields)
    return data


# --- Who gets in -----------------------------------------------------------------------------

READ_PAGES = ["dashboard", "expenses", "approvals", "income", "export_csv", "export_xlsx"]


@pytest.mark.parametrize("name", READ_PAGES)
def test_anonymous_is_sent_to_log_in(client, budget, name):
    response = client.get(url(name, budget.programme))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", READ_PAGES)
def test_organiser_of_another_programme_gets_404(client, budget, stranger, name):
    client.force_login(stranger)
    assert client.get(url(name, budget.programme)).status_code == 404


def test_other_programme_cannot_reach_this_programmes_expense_or_attachment(
    client, budget, stranger, expense, attachment, make_programme
):
    # Even through the stranger's own programme slug, this budget's rows are not found.
    own = ProgrammeRole.objects.get(user=stranger).programme
    Budget.objects.create(programme=own, total=Decimal("100.00"))
    client.force_login(stranger)
    assert client.get(url("expense", own, expense_id=expense.pk)).status_code == 404
    assert client.get(url("download", own, attachment_id=attachment.pk)).status_code == 404
    assert client.get(url("expense", budget.programme, expense_id=expense.pk)).status_code == 404


@pytest.mark.parametrize("name", READ_PAGES)
def test_viewer_reads_every_page(client, budget, viewer, name):
    client.force_login(viewer)
    assert client.get(url(name, budget.programme)).status_code == 200


def test_viewer_sees_no_forms_or_buttons(client, budget, viewer, expense, second_organiser):
    client.force_login(viewer)
    for page in [
        url("dashboard", budget.programme),
        url("expenses", budget.programme),
        url("expense", budget.programme, expense_id=expense.pk),
        url("approvals", budget.programme),
        url("income", budget.programme),
    ]:
        html = client.get(page).content.decode()
        main = html[html.index("<main") : html.index("</main>")]
        assert 'method="post"' not in main, page
        assert "<button" not in main.replace('<button type="submit">Filter toepassen', ""), page
        assert "Je kijkt mee" in main, page
    # The filters are a GET form, which a viewer may use.
    assert 'method="get"' in client.get(url("expenses", budget.programme)).content.decode()


def test_viewer_changes_nothing(client, budget, viewer, catering, expense):
    client.force_login(viewer)
    pdf = SimpleUploadedFile("bon.pdf", PDF, content_type="application/pdf")
    attempts = [
        (url("expenses", budget.programme), expense_data(catering)),
        (url("advance", budget.programme, expense_id=expense.pk), {"to_status": "committed"}),
        (url("approve", budget.programme, expense_id=expense.pk), {}),
        (url("upload", budget.programme, expense_id=expense.pk), {"kind": "receipt", "file": pdf}),
        (
            url("income", budget.programme),
            {"kind": "other", "description": "Gift", "amount": "50", "date": "2027-01-01"},
        ),
    ]
    for target, data in attempts:
        assert client.post(target, data).status_code == 403, target
    assert Expense.objects.count() == 1
    expense.refresh_from_db()
    assert expense.status == Status.PLANNED
    assert not Attachment.objects.exists()
    assert not Income.objects.exists()


def test_programme_without_budget_says_so(client, programme, organiser):
    client.force_login(organiser)
    response = client.get(url("dashboard", programme))
    assert response.status_code == 200
    assert "nog geen budget" in response.content.decode()
    assert client.get(url("expenses", programme)).status_code == 404


def test_programme_page_links_to_the_budget(client, budget, viewer):
    client.force_login(viewer)
    response = client.get(reverse("organiser:programme", args=[budget.programme.slug]))
    assert url("dashboard", budget.programme) in response.content.decode()


# --- Dashboard -------------------------------------------------------------------------------


def test_dashboard_shows_every_figure(client, budget, organiser, make_expense, catering):
    make_expense(amount_excl_vat=Decimal("1000.00"), vat_rate=21, status=Status.PAID)
    make_expense(amount_excl_vat=Decimal("200.00"), vat_rate=9, status=Status.COMMITTED)
    make_expense(amount_excl_vat=Decimal("99.99"), vat_rate=21)
    services.record_income(
        budget,
        IncomeInput(
            kind=Income.Kind.SPONSORSHIP,
            description="Veiligheidsregio Utrecht",
            date=dt.date(2027, 1, 2),
            amount=Decimal("250.00"),
        ),
        by=organiser,
    )
    client.force_login(organiser)
    response = client.get(url("dashboard", budget.programme))
    html = response.content.decode()
    summary = response.context["summary"]
    assert summary.paid == Decimal("1210.00")
    assert summary.open_commitments == Decimal("218.00")
    assert summary.planned == Decimal("120.99")  # 99.99 + 21.00 VAT (20.9979 rounded)
    assert "Bedragen inclusief btw" in html
    for figure in ["€ 8.000,00", "€ 1.210,00", "€ 218,00", "€ 120,99", "€ 250,00"]:
        assert figure in html, figure
    # Remaining: 8000 + 250 - 1210 - 218; forecast also minus the planned 120.99.
    assert "€ 6.822,00" in html
    assert "€ 6.701,01" in html
    assert "budget-banner" not in html


def test_dashboard_states_excluding_vat(client, budget, organiser, make_expense):
    budget.includes_vat = False
    budget.save()
    make_expense(amount_excl_vat=Decimal("100.00"), vat_rate=21, status=Status.PAID)
    client.force_login(organiser)
    html = client.get(url("dashboard", budget.programme)).content.decode()
    assert "Bedragen exclusief btw" in html
    assert "€ 100,00" in html


def test_warning_banner_at_the_warning_percentage(client, budget, organiser, make_expense):
    make_expense(amount_excl_vat=Decimal("6000.00"), vat_rate=21)  # 7,260: 90.8 %
    client.force_login(organiser)
    html = client.get(url("dashboard", budget.programme)).content.decode()
    assert "Meer dan 80 % van het budget verdeeld" in html
    assert "90,8 %" in html


def test_over_budget_is_allowed_and_said_in_words(client, budget, organiser, make_expense):
    make_expense(amount_excl_vat=Decimal("7000.00"), vat_rate=21)  # 8,470
    client.force_login(organiser)
    for name in ["dashboard", "expenses", "income"]:
        html = client.get(url(name, budget.programme)).content.decode()
        assert "Boven budget" in html, name
        assert "€ 470,00 over het budget van € 8.000,00" in html, name
    assert "105,9 %" in client.get(url("dashboard", budget.programme)).content.decode()


def test_no_banner_below_the_warning(client, budget, organiser, make_expense):
    make_expense(amount_excl_vat=Decimal("100.00"))
    client.force_login(organiser)
    html = client.get(url("dashboard", budget.programme)).content.decode()
    assert "budget-banner" not in html


def test_dashboard_per_category_and_activity(
    client, budget, organiser, make_expense, activity, catering
):
    make_expense(amount_excl_vat=Decimal("2500.00"), vat_rate=0, activity=activity)
    client.force_login(organiser)
    response = client.get(url("dashboard", budget.programme))
    html = response.content.decode()
    assert "Per categorie" in html and "Per activiteit" in html
    assert "Kinderbrandweermiddag" in html
    assert "boven begroot" in html  # 2,500 against 2,000 planned for catering


def test_dashboard_charts_parse_and_hold_their_figures(client, budget, organiser, make_expense):
    make_expense(amount_excl_vat=Decimal("1000.00"), vat_rate=21, status=Status.PAID)
    client.force_login(organiser)
    response = client.get(url("dashboard", budget.programme))
    charts = response.context["charts"]
    assert [chart.id for chart in charts] == ["chart-categories", "chart-over-time"]
    html = response.content.decode()
    for chart in charts:
        svg = ElementTree.fromstring(str(chart.svg))
        assert svg.get("role") == "img"
        assert svg.find(f"{SVG_NS}title").text == chart.title
        assert chart.svg in html
        assert f'aria-labelledby="{chart.id}-table-caption"' in html
    assert ["Catering", "€ 1.210,00", "€ 0,00", "€ 0,00", "€ 2.000,00"] in charts[0].rows
    assert charts[1].rows == [["15 januari 2027", "€ 1.210,00", "€ 1.210,00"]]


def test_dashboard_without_expenses_has_no_charts(client, budget, organiser):
    client.force_login(organiser)
    response = client.get(url("dashboard", budget.programme))
    assert response.context["charts"] == []
    assert "de grafieken verschijnen bij de eerste uitgave" in response.content.decode()


@pytest.mark.parametrize("count", [10, 60])  # 60: past one page of the list
def test_dashboard_queries_do_not_grow_with_expenses(
    client, budget, organiser, catering, activity, django_assert_max_num_queries, count
):
    categories = list(budget.categories.all())
    statuses = Expense.STATUS_ORDER
    Expense.objects.bulk_create(
        Expense(
            budget=budget,
            category=categories[n % len(categories)],
            activity=activity if n % 3 == 0 else None,
            supplier=f"Leverancier {n}",
            description=f"Uitgave {n}",
            date=dt.date(2027, 1, 1) + dt.timedelta(days=n % 90),
            amount_excl_vat=Decimal("10.01"),
            vat_rate=21,
            vat_amount=Decimal("2.10"),
            status=statuses[n % 4],
            recorded_by=organiser,
        )
        for n in range(count)
    )
    client.force_login(organiser)
    with django_assert_max_num_queries(16):
        response = client.get(url("dashboard", budget.programme))
    assert response.status_code == 200
    assert response.context["summary"].expense_count == count
    with django_assert_max_num_queries(18):
        assert client.get(url("expenses", budget.programme)).status_code == 200


@pytest.mark.parametrize("count", [3, 30])
def test_approval_queue_queries_do_not_grow_with_the_queue(
    client, budget, organiser, second_organiser, catering, django_assert_max_num_queries, count
):
    for n in range(count):
        services.record_expense(
            budget,
            ExpenseInput(
                category_id=catering.pk,
                supplier=f"Leverancier {n}",
                description=f"Uitgave {n}",
                date=dt.date(2027, 1, 1),
                amount_excl_vat=Decimal("900.00"),
            ),
            by=organiser,
        )
    client.force_login(second_organiser)
    # Who may approve each (its recorder and who changed it) is read for the whole queue at once.
    with django_assert_max_num_queries(12):
        response = client.get(url("approvals", budget.programme))
    assert response.content.decode().count('name="from" value="queue"') == count


# --- Adding an expense -----------------------------------------------------------------------


def test_add_expense_without_javascript_redirects(client, budget, organiser, catering):
    client.force_login(organiser)
    response = client.post(url("expenses", budget.programme), expense_data(catering))
    assert response.status_code == 303
    assert response["Location"] == url("expenses", budget.programme)
    expense = Expense.objects.get()
    assert expense.amount_excl_vat == Decimal("1234.56")
    assert expense.vat_amount == Decimal("259.26")
    assert (expense.recorded_by, expense.invoice_number) == (organiser, "F-2027-001")
    assert expense.history.get().history_user == organiser
    assert "is toegevoegd" in messages_of(response)[0]


def test_add_expense_with_htmx_returns_only_the_partial(client, budget, organiser, catering):
    client.force_login(organiser)
    response = client.post(
        url("expenses", budget.programme), expense_data(catering), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "site-header" not in html
    assert "Fotoboek 100 jaar brandweer" in html and "is toegevoegd" in html
    # The figures and the list come along, swapped in out of band.
    assert 'id="budget-figures" data-hx-swap-oob="true"' in html
    assert 'id="expense-list" class="expense-list" data-hx-swap-oob="true"' in html
    assert "€ 1.493,82" in html  # 1234.56 + 259.26 VAT, now planned
    # A fresh, empty form for the next one, with the focus on the message.
    assert 'name="supplier"' in html and 'value="Drukkerij Soest"' not in html
    assert "autofocus" in html
    assert Expense.objects.count() == 1


def test_bad_input_shows_dutch_messages_and_creates_nothing(client, budget, organiser, catering):
    client.force_login(organiser)
    data = expense_data(catering, supplier="", amount_excl_vat="12,345", vat_rate="7")
    for headers, status in [({}, 422), ({"HX-Request": "true"}, 200)]:
        response = client.post(url("expenses", budget.programme), data, headers=headers)
        assert response.status_code == status
        html = response.content.decode()
        assert "Controleer wat je hebt ingevuld" in html
        assert '<a href="#id_supplier">Vul de leverancier in.</a>' in html
        assert "hoogstens twee cijfers achter de komma" in html
        assert "Kies een btw-tarief van 0, 9 of 21 procent." in html
        assert 'aria-invalid="true"' in html
        assert 'value="Fotoboek 100 jaar brandweer"' in html
    assert not Expense.objects.exists()


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-5", "Vul het bedrag in als getal"),
        ("0", "groter zijn dan nul"),
        ("abc", "Vul het bedrag in als getal"),
        ("", "Vul het bedrag in."),
        ("100000000", "Dit bedrag is te groot."),
    ],
)
def test_amount_errors(client, budget, organiser, catering, amount, message):
    client.force_login(organiser)
    response = client.post(
        url("expenses", budget.programme), expense_data(catering, amount_excl_vat=amount)
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Expense.objects.exists()


@pytest.mark.parametrize(
    ("typed", "amount"),
    [("12,50", "12.50"), ("12.50", "12.50"), ("€ 1.250,00", "1250.00"), ("1250", "1250.00")],
)
def test_amount_as_people_type_it(client, budget, organiser, catering, typed, amount):
    client.force_login(organiser)
    client.post(url("expenses", budget.programme), expense_data(catering, amount_excl_vat=typed))
    assert Expense.objects.get().amount_excl_vat == Decimal(amount)


def test_a_big_expense_asked_for_as_ordered_is_saved_as_planned_awaiting_approval(
    client, budget, organiser, catering
):
    # Above the threshold an expense cannot be ordered before a second organiser approves it:
    # the form saves it as planned and says why, rather than refusing and losing the typing.
    client.force_login(organiser)
    response = client.post(
        url("expenses", budget.programme), expense_data(catering, status="committed")
    )

    assert response.status_code == 303
    expense = Expense.objects.get()
    assert expense.status == Status.PLANNED
    assert expense.committed_on is None
    assert expense.awaiting_approval
    assert messages_of(response) == [
        "De uitgave “Fotoboek 100 jaar brandweer” (€ 1.234,56 excl. btw) is toegevoegd.",
        "Opgeslagen als gepland: boven € 500,00 incl. btw is eerst goedkeuring nodig van een "
        "andere organisator. Daarna kun je de status verder zetten.",
    ]
    assert list(services.approval_queue(budget)) == [expense]


def test_the_held_message_comes_with_the_htmx_answer_too(client, budget, organiser, catering):
    budget.approval_threshold = Decimal("750.00")
    budget.includes_vat = False
    budget.save()
    client.force_login(organiser)
    response = client.post(
        url("expenses", budget.programme),
        expense_data(catering, status="paid"),
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert "Opgeslagen als gepland: boven € 750,00 excl. btw is eerst goedkeuring nodig" in html
    assert Expense.objects.get().status == Status.PLANNED


def test_below_the_threshold_the_status_asked_for_is_taken(client, budget, organiser, catering):
    client.force_login(organiser)
    response = client.post(
        url("expenses", budget.programme),
        expense_data(catering, amount_excl_vat="100,00", status="committed"),
    )

    assert Expense.objects.get().status == Status.COMMITTED
    assert not any("Opgeslagen als gepland" in message for message in messages_of(response))


def test_the_form_shows_the_approval_threshold_next_to_the_status(
    client, budget, organiser, catering
):
    budget.approval_threshold = Decimal("650.00")
    budget.save()
    client.force_login(organiser)

    html = client.get(url("expenses", budget.programme)).content.decode()

    hint = html[html.index('id="id_status_helptext"') :]
    hint = hint[: hint.index("</p>")]
    assert "Goedkeuring nodig boven € 650,00 incl. btw" in hint
    assert "blijft gepland" not in html


def test_category_of_another_budget_is_refused(client, budget, organiser, make_programme):
    other = Budget.objects.create(programme=make_programme(), total=Decimal("10.00"))
    client.force_login(organiser)
    foreign = other.categories.first()
    response = client.post(url("expenses", budget.programme), expense_data(foreign))
    assert response.status_code == 422
    assert "Kies een categorie uit de lijst." in response.content.decode()
    assert not Expense.objects.exists()


# --- The list and its filters ----------------------------------------------------------------


def test_filters_narrow_the_list(client, budget, organiser, make_expense, activity):
    make_expense(description="Betaalde koffie", status=Status.PAID)
    make_expense(description="Geplande taart", activity=activity)
    transport = budget.categories.get(name="Vervoer")
    make_expense(description="Vrachtwagen oldtimer", category=transport)
    client.force_login(organiser)
    page = url("expenses", budget.programme)

    def shown(**query) -> set[str]:
        response = client.get(page, query)
        return {item.description for item in response.context["page"].object_list}

    assert shown(status="paid") == {"Betaalde koffie"}
    assert shown(category=transport.pk) == {"Vrachtwagen oldtimer"}
    assert shown(activity=activity.pk) == {"Geplande taart"}
    assert len(shown(status="nonsense")) == 3  # a bad filter is ignored


def test_the_filter_and_add_forms_have_ids_of_their_own(client, budget, organiser):
    """Both forms have a status, category and activity field: each keeps an id of its own and
    the label that names it (a duplicate id left the filter selects without a name)."""
    client.force_login(organiser)
    html = client.get(url("expenses", budget.programme)).content.decode()
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
    for name in ("status", "category", "activity"):
        for field_id in (f"id_{name}", f"filter_{name}"):
            assert f'id="{field_id}"' in html and f'for="{field_id}"' in html


def test_filtering_with_htmx_returns_only_the_list(client, budget, organiser, make_expense):
    make_expense(description="Betaalde koffie", status=Status.PAID)
    client.force_login(organiser)
    response = client.get(
        url("expenses", budget.programme), {"status": "paid"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="expense-list"')
    assert "Betaalde koffie" in html and "<form" not in html
    assert "HX-Request" in response["Vary"]


def test_the_list_marks_expenses_awaiting_approval(client, budget, organiser, make_expense):
    make_expense(amount_excl_vat=Decimal("900.00"))
    client.force_login(organiser)
    html = client.get(url("expenses", budget.programme)).content.decode()
    assert "wacht op goedkeuring" in html


# --- One expense -----------------------------------------------------------------------------


def test_expense_page_shows_details_steps_and_history(client, budget, organiser, expense):
    services.update_expense(
        expense.pk, ExpenseChange.of(supplier="Bakkerij De Korenschoof"), by=organiser
    )
    services.advance_expense(expense.pk, "committed", by=organiser, on_date=dt.date(2027, 1, 16))
    client.force_login(organiser)
    response = client.get(url("expense", budget.programme, expense_id=expense.pk))
    html = response.content.decode()
    assert "Bakkerij De Korenschoof" in html
    assert 'aria-current="step"' in html and "16 januari 2027" in html
    history = response.context["history"]
    assert [entry["type"] for entry in history] == ["~", "~", "+"]
    assert all(entry["who"] == "anne" for entry in history)
    assert "leverancier: van Bakkerij Van der Pol naar Bakkerij De Korenschoof" in html
    assert "status: van Gepland naar Besteld" in html


def test_advance_moves_forward_with_a_date(client, budget, organiser, expense):
    client.force_login(organiser)
    response = client.post(
        url("advance", budget.programme, expense_id=expense.pk),
        {"to_status": "paid", "on_date": "2027-02-01"},
    )
    assert response.status_code == 303
    expense.refresh_from_db()
    assert expense.status == Status.PAID
    assert expense.paid_on == dt.date(2027, 2, 1)
    assert messages_of(response) == ["De status is nu: Betaald."]


def test_advance_backwards_is_refused(client, budget, organiser, make_expense):
    paid = make_expense(status=Status.PAID)
    client.force_login(organiser)
    response = client.post(
        url("advance", budget.programme, expense_id=paid.pk),
        {"to_status": "planned", "on_date": "2027-02-01"},
    )
    assert response.status_code == 303
    assert "terug naar een eerdere status kan niet" in messages_of(response)[0]
    paid.refresh_from_db()
    assert paid.status == Status.PAID


def test_advance_without_approval_shows_the_services_reason(
    client, budget, organiser, make_expense
):
    large = make_expense(amount_excl_vat=Decimal("900.00"))
    client.force_login(organiser)
    response = client.post(
        url("advance", budget.programme, expense_id=large.pk),
        {"to_status": "committed", "on_date": "2027-02-01"},
    )
    assert response.status_code == 303
    assert "tweede organisator" in messages_of(response)[0]
    large.refresh_from_db()
    assert large.status == Status.PLANNED


def test_approve_button_only_for_a_second_organiser(
    client, budget, organiser, second_organiser, make_expense
):
    large = make_expense(amount_excl_vat=Decimal("900.00"))
    page = url("expense", budget.programme, expense_id=large.pk)
    approve = url("approve", budget.programme, expense_id=large.pk)

    client.force_login(organiser)
    html = client.get(page).content.decode()
    assert approve not in html
    assert "Je hebt deze uitgave zelf ingevoerd" in html
    response = client.post(approve)  # the service refuses anyway
    assert "niet zelf goedkeuren" in messages_of(response)[0]
    large.refresh_from_db()
    assert large.approved_by is None

    client.force_login(second_organiser)
    assert approve in client.get(page).content.decode()
    response = client.post(approve)
    assert response["Location"] == page
    large.refresh_from_db()
    assert large.approved_by == second_organiser


def test_approval_queue(client, budget, organiser, second_organiser, make_expense):
    large = make_expense(amount_excl_vat=Decimal("900.00"), description="Tent")
    make_expense(amount_excl_vat=Decimal("10.00"), description="Koffie")
    queue = url("approvals", budget.programme)

    client.force_login(organiser)
    html = client.get(queue).content.decode()
    assert "Tent" in html and "Koffie" not in html
    assert "Door jou ingevoerd of gewijzigd" in html
    assert url("approve", budget.programme, expense_id=large.pk) not in html

    client.force_login(second_organiser)
    response = client.post(url("approve", budget.programme, expense_id=large.pk), {"from": "queue"})
    assert response["Location"] == queue
    assert "Er wacht niets op goedkeuring." in client.get(queue).content.decode()


# --- Attachments -----------------------------------------------------------------------------


def test_upload_an_attachment(client, budget, organiser, expense):
    client.force_login(organiser)
    upload = SimpleUploadedFile("factuur.pdf", PDF, content_type="application/pdf")
    response = client.post(
        url("upload", budget.programme, expense_id=expense.pk), {"kind": "invoice", "file": upload}
    )
    assert response.status_code == 303
    attachment = Attachment.objects.get()
    assert (attachment.original_name, attachment.kind) == ("factuur.pdf", "invoice")
    html = client.get(url("expense", budget.programme, expense_id=expense.pk)).content.decode()
    assert url("download", budget.programme, attachment_id=attachment.pk) in html


def test_upload_refuses_what_is_not_a_pdf_or_image(client, budget, organiser, expense):
    client.force_login(organiser)
    upload = SimpleUploadedFile(
        "factuur.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf"
    )
    response = client.post(
        url("upload", budget.programme, expense_id=expense.pk), {"kind": "invoice", "file": upload}
    )
    assert response.status_code == 422
    assert "PDF-, PNG- of JPEG-bestand" in response.content.decode()
    assert not Attachment.objects.exists()


def test_upload_without_a_file(client, budget, organiser, expense):
    client.force_login(organiser)
    response = client.post(
        url("upload", budget.programme, expense_id=expense.pk), {"kind": "invoice"}
    )
    assert response.status_code == 422
    assert '<a href="#id_file">Kies een bestand.</a>' in response.content.decode()


def test_download_serves_the_file_to_a_viewer(client, budget, viewer, attachment):
    client.force_login(viewer)
    response = client.get(url("download", budget.programme, attachment_id=attachment.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="offerte-{attachment.expense_id}-{attachment.pk}.pdf"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    response.close()


@pytest.mark.parametrize(
    ("kind", "content", "name", "content_type"),
    [
        ("receipt", PDF + b"<html><script>alert(1)</script></html>", "bon", "application/pdf"),
        ("invoice", b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script>", "factuur", "image/png"),
        ("quote", b"\xff\xd8\xff\xe0<script>alert(1)</script>", "offerte", "image/jpeg"),
    ],
)
def test_download_is_named_for_what_its_content_is_not_for_the_upload(
    client, budget, organiser, viewer, expense, kind, content, name, content_type
):
    """Issue 16 case 10: a polyglot uploaded as `poly.html` comes back as `bon-<expense>-<n>.pdf`,
    as a download of the type its content was recognised as, never sniffed."""
    client.force_login(organiser)
    upload = SimpleUploadedFile("poly.html", content, content_type="text/html")
    uploaded = client.post(
        url("upload", budget.programme, expense_id=expense.pk), {"kind": kind, "file": upload}
    )
    assert uploaded.status_code == 303
    attachment = Attachment.objects.get()
    extension = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}[content_type]

    # The page still shows the name it was uploaded with, as text.
    client.force_login(viewer)
    html = client.get(url("expense", budget.programme, expense_id=expense.pk)).content.decode()
    assert ">poly.html</a>" in html

    response = client.get(url("download", budget.programme, attachment_id=attachment.pk))
    assert response["Content-Disposition"] == (
        f'attachment; filename="{name}-{expense.pk}-{attachment.pk}.{extension}"'
    )
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == content
    response.close()


def test_download_refused_to_strangers(client, budget, stranger, attachment):
    assert (
        client.get(url("download", budget.programme, attachment_id=attachment.pk)).status_code
        == 302
    )
    client.force_login(stranger)
    assert (
        client.get(url("download", budget.programme, attachment_id=attachment.pk)).status_code
        == 404
    )


def test_attachment_is_not_in_public_media(attachment, settings):
    assert not str(attachment.file.path).startswith(str(settings.MEDIA_ROOT))
    assert not str(attachment.file.path).startswith(str(settings.STATIC_ROOT or "/nonexistent"))


# --- Income ----------------------------------------------------------------------------------


def test_record_other_income(client, budget, organiser):
    client.force_login(organiser)
    response = client.post(
        url("income", budget.programme),
        {
            "kind": "sponsorship",
            "description": "Veiligheidsregio Utrecht",
            "activity": "",
            "amount": "500,00",
            "date": "2027-01-05",
        },
    )
    assert response.status_code == 303
    income = Income.objects.get()
    assert (income.amount, income.recorded_by) == (Decimal("500.00"), organiser)
    html = client.get(url("income", budget.programme)).content.decode()
    assert "Veiligheidsregio Utrecht" in html and "€ 500,00" in html


def test_income_form_offers_no_ticket_income(client, budget, organiser):
    client.force_login(organiser)
    response = client.post(
        url("income", budget.programme),
        {"kind": "tickets", "description": "Kassa", "amount": "5", "date": "2027-01-05"},
    )
    assert response.status_code == 422
    assert "Kies sponsoring of overig." in response.content.decode()
    assert not Income.objects.exists()


def test_ticket_income_appears_per_activity(client, budget, viewer, activity):
    Income.objects.create(
        budget=budget,
        kind=Income.Kind.TICKETS,
        activity=activity,
        description="Kaartjes",
        date=dt.date(2027, 1, 3),
        amount=Decimal("37.50"),
        source="payment:1",
    )
    client.force_login(viewer)
    response = client.get(url("income", budget.programme))
    html = response.content.decode()
    assert "Kinderbrandweermiddag" in html and "€ 37,50" in html
    # Read-only: not in the list of income recorded by hand.
    assert response.context["other_income"] == []


# --- Exports ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "extension", "content_type"),
    [
        ("export_csv", "csv", "text/csv; charset=utf-8"),
        (
            "export_xlsx",
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    ],
)
def test_exports_for_a_viewer(
    client, budget, viewer, expense, time_machine, name, extension, content_type
):
    time_machine.move_to(dt.datetime(2027, 1, 20, 23, 30, tzinfo=AMSTERDAM), tick=False)
    client.force_login(viewer)
    response = client.get(url(name, budget.programme))
    assert response.status_code == 200
    assert response.streaming  # sent as it is written, however long the ledger (issue 20)
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == (
        f'attachment; filename="grootboek-brandweer-100-incl-btw-2027-01-20.{extension}"'
    )
    assert len(response.getvalue()) > 0


def test_dashboard_links_the_exports(client, budget, viewer):
    client.force_login(viewer)
    html = client.get(url("dashboard", budget.programme)).content.decode()
    assert url("export_csv", budget.programme) in html
    assert url("export_xlsx", budget.programme) in html


# --- Correcting an expense or income ---------------------------------------------------------


def edit_data(expense: Expense, **fields) -> dict[str, str]:
    """The edit form as it comes prefilled for `expense`, with `fields` changed."""
    data = {
        "supplier": expense.supplier,
        "description": expense.description,
        "category": str(expense.category_id),
        "activity": str(expense.activity_id or ""),
        "amount_excl_vat": str(expense.amount_excl_vat).replace(".", ","),
        "vat_rate": str(expense.vat_rate),
        "date": expense.date.isoformat(),
        "invoice_number": expense.invoice_number,
    }
    data.update(fields)
    return data


@pytest.fixture
def sponsorship(budget, organiser) -> Income:
    return services.record_income(
        budget,
        IncomeInput(
            kind=Income.Kind.SPONSORSHIP,
            description="Veiligheidsregio Utrecht",
            date=dt.date(2027, 1, 5),
            amount=Decimal("500.00"),
        ),
        by=organiser,
    )


def income_data(income: Income, **fields) -> dict[str, str]:
    data = {
        "kind": income.kind,
        "description": income.description,
        "activity": str(income.activity_id or ""),
        "amount": str(income.amount).replace(".", ","),
        "date": income.date.isoformat(),
    }
    data.update(fields)
    return data


def test_edit_page_is_prefilled_without_the_status(client, budget, organiser, expense):
    client.force_login(organiser)
    response = client.get(url("edit_expense", budget.programme, expense_id=expense.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="Bakkerij Van der Pol"' in html
    assert 'value="100,00"' in html
    assert 'value="2027-01-15"' in html
    assert 'name="status"' not in html  # the status moves forward through its own form
    assert url("expense", budget.programme, expense_id=expense.pk) in html


def test_organiser_corrects_an_expense_and_the_history_names_them(
    client, budget, second_organiser, expense, activity
):
    client.force_login(second_organiser)
    response = client.post(
        url("edit_expense", budget.programme, expense_id=expense.pk),
        edit_data(
            expense,
            supplier="Bakkerij De Korenschoof",
            amount_excl_vat="120,50",
            activity=str(activity.pk),
        ),
    )
    page = url("expense", budget.programme, expense_id=expense.pk)
    assert response.status_code == 303
    assert response["Location"] == page
    assert messages_of(response) == ["De uitgave “Koffie en gebak receptie” is gewijzigd."]
    expense.refresh_from_db()
    assert (expense.supplier, expense.amount_excl_vat) == (
        "Bakkerij De Korenschoof",
        Decimal("120.50"),
    )
    assert expense.vat_amount == Decimal("10.85")  # 9 % of 120.50, rounded half up
    assert (expense.activity, expense.status) == (activity, Status.PLANNED)

    response = client.get(page)
    latest = response.context["history"][0]
    assert (latest["who"], latest["type"]) == ("bert", "~")
    html = response.content.decode()
    assert "leverancier: van Bakkerij Van der Pol naar Bakkerij De Korenschoof" in html
    assert "bedrag excl. btw (€): van € 100,00 naar € 120,50" in html
    assert "activiteit: van \u2013 naar Kinderbrandweermiddag" in html


def test_saving_the_form_unchanged_records_nothing(client, budget, organiser, expense):
    client.force_login(organiser)
    response = client.post(
        url("edit_expense", budget.programme, expense_id=expense.pk), edit_data(expense)
    )
    assert response.status_code == 303
    assert messages_of(response) == ["Je hebt niets gewijzigd."]
    assert expense.history.count() == 1


def test_edit_links_only_for_organisers(client, budget, organiser, viewer, expense, sponsorship):
    edit_expense = url("edit_expense", budget.programme, expense_id=expense.pk)
    edit_income = url("edit_income", budget.programme, income_id=sponsorship.pk)
    expense_page = url("expense", budget.programme, expense_id=expense.pk)
    client.force_login(organiser)
    assert edit_expense in client.get(expense_page).content.decode()
    assert edit_income in client.get(url("income", budget.programme)).content.decode()
    client.force_login(viewer)
    assert edit_expense not in client.get(expense_page).content.decode()
    assert edit_income not in client.get(url("income", budget.programme)).content.decode()


def test_viewer_may_not_open_or_post_the_edit_pages(client, budget, viewer, expense, sponsorship):
    client.force_login(viewer)
    attempts = [
        (
            url("edit_expense", budget.programme, expense_id=expense.pk),
            edit_data(expense, supplier="Stiekem"),
        ),
        (
            url("edit_income", budget.programme, income_id=sponsorship.pk),
            income_data(sponsorship, description="Stiekem"),
        ),
    ]
    for target, data in attempts:
        assert client.get(target).status_code == 403, target
        assert client.post(target, data).status_code == 403, target
    assert expense.history.count() == 1
    assert sponsorship.history.count() == 1


def test_organiser_of_another_programme_cannot_edit(client, budget, stranger, expense, sponsorship):
    own = ProgrammeRole.objects.get(user=stranger).programme
    Budget.objects.create(programme=own, total=Decimal("100.00"))
    client.force_login(stranger)
    for programme in [budget.programme, own]:
        attempts = [
            (
                url("edit_expense", programme, expense_id=expense.pk),
                edit_data(expense, supplier="Stiekem"),
            ),
            (
                url("edit_income", programme, income_id=sponsorship.pk),
                income_data(sponsorship, description="Stiekem"),
            ),
        ]
        for target, data in attempts:
            assert client.get(target).status_code == 404, target
            assert client.post(target, data).status_code == 404, target
    assert expense.history.count() == 1
    assert sponsorship.history.count() == 1


def test_anonymous_is_sent_to_log_in_from_the_edit_page(client, budget, expense):
    response = client.get(url("edit_expense", budget.programme, expense_id=expense.pk))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_bad_input_on_the_edit_page_changes_nothing(client, budget, organiser, expense):
    client.force_login(organiser)
    response = client.post(
        url("edit_expense", budget.programme, expense_id=expense.pk),
        edit_data(expense, supplier="Bakkerij De Korenschoof", amount_excl_vat="12,345"),
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Controleer wat je hebt ingevuld" in html
    assert "hoogstens twee cijfers achter de komma" in html
    assert "Er is niets opgeslagen." in html
    assert 'value="12,345"' in html  # what was typed stays, to correct
    expense.refresh_from_db()
    assert (expense.supplier, expense.amount_excl_vat) == (
        "Bakkerij Van der Pol",
        Decimal("100.00"),
    )
    assert expense.history.count() == 1


def test_service_refusal_on_the_edit_page_shows_its_message(
    client, budget, organiser, expense, monkeypatch
):
    def refuse(*args, **kwargs):
        raise errors.NotAnOrganiser

    monkeypatch.setattr(services, "update_expense", refuse)
    client.force_login(organiser)
    response = client.post(
        url("edit_expense", budget.programme, expense_id=expense.pk),
        edit_data(expense, supplier="Bakkerij De Korenschoof"),
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Alleen een organisator van dit programma kan dit doen." in html
    assert "Er is niets opgeslagen." in html
    expense.refresh_from_db()
    assert expense.supplier == "Bakkerij Van der Pol"


def test_changing_an_approved_amount_withdraws_the_approval_and_says_so(
    client, budget, organiser, second_organiser, make_expense
):
    approved = make_expense(amount_excl_vat=Decimal("900.00"), status=Status.COMMITTED)
    assert approved.approved_by is not None
    edit = url("edit_expense", budget.programme, expense_id=approved.pk)
    client.force_login(organiser)
    assert "vervalt de goedkeuring" in client.get(edit).content.decode()

    response = client.post(edit, edit_data(approved, amount_excl_vat="950,00"))
    assert response.status_code == 303
    (message,) = messages_of(response)
    assert "is gewijzigd" in message and "goedkeuring is ingetrokken" in message
    approved.refresh_from_db()
    assert (approved.approved_by, approved.status) == (None, Status.COMMITTED)

    # A change of what was not approved keeps an approval, and the message does not speak of
    # one withdrawn.
    services.approve_expense(approved.pk, by=second_organiser)
    approved.refresh_from_db()
    response = client.post(edit, edit_data(approved, invoice_number="F-2027-9"))
    # The cookie still holds the first message (nothing rendered it): the new one is last.
    assert messages_of(response)[-1] == f"De uitgave “{approved.description}” is gewijzigd."
    approved.refresh_from_db()
    assert approved.approved_by is not None


def test_organiser_corrects_income(client, budget, organiser, second_organiser, sponsorship):
    edit = url("edit_income", budget.programme, income_id=sponsorship.pk)
    client.force_login(second_organiser)
    html = client.get(edit).content.decode()
    assert 'value="Veiligheidsregio Utrecht"' in html and 'value="500,00"' in html

    response = client.post(
        edit, income_data(sponsorship, kind="other", amount="450,00", date="2027-01-06")
    )
    assert response.status_code == 303
    assert response["Location"] == url("income", budget.programme)
    assert messages_of(response) == [
        "De inkomst “Veiligheidsregio Utrecht” (€ 450,00) is gewijzigd."
    ]
    sponsorship.refresh_from_db()
    assert (sponsorship.kind, sponsorship.amount, sponsorship.date) == (
        Income.Kind.OTHER,
        Decimal("450.00"),
        dt.date(2027, 1, 6),
    )
    assert sponsorship.recorded_by == organiser  # who recorded it stays
    assert sponsorship.history.latest().history_user == second_organiser
    assert "€ 450,00" in client.get(url("income", budget.programme)).content.decode()


def test_bad_input_on_the_income_edit_page_changes_nothing(client, budget, organiser, sponsorship):
    client.force_login(organiser)
    response = client.post(
        url("edit_income", budget.programme, income_id=sponsorship.pk),
        income_data(sponsorship, amount="1,005", kind="tickets"),
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "hoogstens twee cijfers achter de komma" in html
    assert "Kies sponsoring of overig." in html
    sponsorship.refresh_from_db()
    assert (sponsorship.kind, sponsorship.amount) == (Income.Kind.SPONSORSHIP, Decimal("500.00"))


def test_ticket_income_is_not_editable(client, budget, organiser, activity):
    from_payments = Income.objects.create(
        budget=budget,
        kind=Income.Kind.TICKETS,
        activity=activity,
        description="Kaartjes",
        date=dt.date(2027, 1, 3),
        amount=Decimal("37.50"),
        source="payment:1",
    )
    at_the_door = services.record_income(
        budget,
        IncomeInput(
            kind=Income.Kind.TICKETS,
            activity_id=activity.pk,
            description="Kassa aan de deur",
            date=dt.date(2027, 1, 3),
            amount=Decimal("12.50"),
        ),
        by=organiser,
    )
    client.force_login(organiser)
    for line in [from_payments, at_the_door]:
        edit = url("edit_income", budget.programme, income_id=line.pk)
        assert client.get(edit).status_code == 404
        data = income_data(line, kind="other", amount="1000,00")
        assert client.post(edit, data).status_code == 404
    from_payments.refresh_from_db()
    at_the_door.refresh_from_db()
    assert (from_payments.kind, from_payments.amount) == (Income.Kind.TICKETS, Decimal("37.50"))
    assert (at_the_door.kind, at_the_door.amount) == (Income.Kind.TICKETS, Decimal("12.50"))
    assert "/wijzigen/" not in client.get(url("income", budget.programme)).content.decode()


def test_history_shows_who_changed_what_was_approved_and_the_approval_withdrawn(
    client, budget, organiser, second_organiser, make_user, make_expense
):
    """Issue 15 case 10: the approver is bound to what they approved, and the page shows who
    changed it; the one who changed it is not offered the approval."""
    carla = make_user("carla", Role.ORGANISER, budget.programme)
    large = make_expense(amount_excl_vat=Decimal("6500.00"), description="Tent")
    services.approve_expense(large.pk, by=carla)
    services.update_expense(
        large.pk, ExpenseChange.of(description="Tent en podium"), by=second_organiser
    )
    page = url("expense", budget.programme, expense_id=large.pk)

    client.force_login(second_organiser)
    response = client.get(page)
    latest = response.context["history"][0]
    assert latest["who"] == "bert"
    changes = {change["field"]: (change["old"], change["new"]) for change in latest["changes"]}
    assert changes == {
        "omschrijving": ("Tent", "Tent en podium"),
        "goedgekeurd door": ("carla", "\u2013"),
        "goedgekeurd op": (changes["goedgekeurd op"][0], "\u2013"),
    }
    html = response.content.decode()
    assert url("approve", budget.programme, expense_id=large.pk) not in html
    assert "zelf ingevoerd of gewijzigd" in html
    queue = client.get(url("approvals", budget.programme)).content.decode()
    assert "Tent en podium" in queue and "Door jou ingevoerd of gewijzigd" in queue

    client.force_login(carla)
    html = client.get(page).content.decode()
    assert url("approve", budget.programme, expense_id=large.pk) in html
