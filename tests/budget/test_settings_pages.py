"""The budget's settings page (/beheer/<programme>/budget/instellingen/): total, VAT mode,
approval threshold and warning percentage through `update_budget`, its history, the categories,
and making the budget of a programme that has none."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from budget import errors, services
from budget.inputs import ExpenseInput
from budget.models import Budget, Category, Expense
from events.models import ProgrammeRole

pytestmark = pytest.mark.usefixtures("tasks")


@pytest.fixture
def organiser(make_user, programme):
    """Anne: the history names her."""
    user = make_user("anne", ProgrammeRole.Role.ORGANISER, programme)
    user.first_name, user.last_name = "Anne", "de Vries"
    user.save()
    return user


@pytest.fixture
def budget(programme) -> Budget:
    return Budget.objects.create(programme=programme, total=Decimal("8000.00"))


def url(name: str, programme, **kwargs) -> str:
    return reverse(f"budget:{name}", kwargs={"programme_slug": programme.slug, **kwargs})


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def settings_data(**fields) -> dict[str, str]:
    data = {
        "total": "8.000,00",
        "includes_vat": "on",
        "approval_threshold": "500,00",
        "warning_percentage": "80",
    }
    data.update(fields)
    return data


def record(budget, by, category, amount="100.00") -> Expense:
    return services.record_expense(
        budget,
        ExpenseInput(
            category_id=category.pk,
            activity_id=None,
            supplier="Bakkerij Van der Pol",
            description="Koffie en gebak",
            invoice_number="",
            date=dt.date(2027, 1, 15),
            amount_excl_vat=Decimal(amount),
            vat_rate=9,
        ),
        by=by,
    )


# --- The settings ------------------------------------------------------------------------------


def test_organiser_changes_total_and_threshold_typed_in_dutch(client, budget, organiser):
    client.force_login(organiser)
    page = url("settings", budget.programme)
    response = client.post(
        page, settings_data(total="1.250,50", approval_threshold="€ 250"), follow=True
    )
    assert response.redirect_chain == [(page, 303)]
    budget.refresh_from_db()
    assert budget.total == Decimal("1250.50")
    assert budget.approval_threshold == Decimal("250.00")
    assert budget.includes_vat is True and budget.warning_percentage == 80
    assert "De instellingen van het budget zijn opgeslagen." in messages_of(response)
    # Through the service: the history names who changed what.
    latest = budget.history.latest()
    assert latest.history_user == organiser
    html = response.content.decode()
    assert "Anne de Vries" in html
    assert "totaalbudget (€): van € 8.000,00 naar € 1.250,50" in html
    assert "goedkeuring nodig boven (€): van € 500,00 naar € 250,00" in html


def test_saving_sends_only_the_changed_fields(client, budget, organiser, monkeypatch):
    seen = {}
    real = services.update_budget

    def spy(budget_id, *, by, **fields):
        seen.update(fields)
        return real(budget_id, by=by, **fields)

    monkeypatch.setattr(services, "update_budget", spy)
    client.force_login(organiser)
    client.post(url("settings", budget.programme), settings_data(warning_percentage="90"))
    assert seen == {"warning_percentage": 90}


@pytest.mark.parametrize(
    ("typed", "saved"),
    [("8000", "8000.00"), ("8.000,00", "8000.00"), ("1.250.000", "1250000.00"), ("12.50", "12.50")],
)
def test_total_typed_without_doubt_is_saved(client, budget, organiser, typed, saved):
    client.force_login(organiser)
    response = client.post(url("settings", budget.programme), settings_data(total=typed))
    assert response.status_code == 303
    budget.refresh_from_db()
    assert budget.total == Decimal(saved)


def test_vat_mode_switched_off(client, budget, organiser):
    client.force_login(organiser)
    data = settings_data()
    del data["includes_vat"]
    client.post(url("settings", budget.programme), data)
    budget.refresh_from_db()
    assert budget.includes_vat is False


def test_lower_total_raises_the_alert(client, budget, organiser, tasks):
    catering = budget.categories.get(name="Catering")
    record(budget, organiser, catering, amount="900.00")  # 981,00 incl. btw
    assert not budget.alerts.exists()
    client.force_login(organiser)
    client.post(url("settings", budget.programme), settings_data(total="1000"))
    assert list(budget.alerts.values_list("percentage", flat=True)) == [80]


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("total", "veel", "Vul het bedrag in als getal, bijvoorbeeld 125,50."),
        ("total", "12,345", "Een bedrag heeft hoogstens twee cijfers achter de komma."),
        ("total", "", "Vul het totaalbudget in."),
        ("approval_threshold", "0", "Het bedrag moet groter zijn dan nul."),
        ("warning_percentage", "120", "Het percentage is hoogstens 100."),
        # "8.000": eight thousand to a Dutch reader, eight euros read as decimals.
        (
            "total",
            "8.000",
            "Met alleen een punt is niet duidelijk of je duizenden bedoelt. Schrijf het bedrag "
            "zonder punt (8000) of met centen erbij (8.000,00).",
        ),
    ],
)
def test_bad_input_is_refused_at_the_field(client, budget, organiser, field, value, error):
    client.force_login(organiser)
    before = budget.history.count()
    response = client.post(
        url("settings", budget.programme), settings_data(**{"total": "9000", field: value})
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert f'<p class="field-error" id="id_{field}_error">{error}</p>' in html
    assert f'<a href="#id_{field}">{error}</a>' in html  # in the error summary
    assert "Er is niets opgeslagen." in html
    budget.refresh_from_db()
    assert budget.total == Decimal("8000.00")
    assert budget.history.count() == before


def test_viewer_reads_the_settings_without_a_form(client, budget, viewer):
    client.force_login(viewer)
    response = client.get(url("settings", budget.programme))
    assert response.status_code == 200
    html = response.content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    assert "€ 8.000,00" in main
    assert "€ 500,00 incl. btw" in main
    assert 'method="post"' not in main and "<button" not in main and "<input" not in main
    assert "Je kijkt mee" in main


def test_viewer_changes_nothing(client, budget, viewer):
    client.force_login(viewer)
    catering = budget.categories.get(name="Catering")
    attempts = [
        (url("settings", budget.programme), settings_data(total="1")),
        (url("add_category", budget.programme), {"name": "Beveiliging"}),
        (url("edit_category", budget.programme, category_id=catering.pk), {"name": "Eten"}),
        (url("remove_category", budget.programme, category_id=catering.pk), {}),
        (url("create", budget.programme), {"total": "1", "approval_threshold": "1"}),
    ]
    for target, data in attempts:
        assert client.post(target, data).status_code == 403, target
    budget.refresh_from_db()
    assert budget.total == Decimal("8000.00")
    assert budget.categories.count() == 8
    assert budget.categories.filter(name="Catering").exists()


def test_organiser_of_another_programme_gets_404(client, budget, stranger):
    client.force_login(stranger)
    catering = budget.categories.get(name="Catering")
    assert client.get(url("settings", budget.programme)).status_code == 404
    assert client.post(url("settings", budget.programme), settings_data()).status_code == 404
    edit = url("edit_category", budget.programme, category_id=catering.pk)
    assert client.get(edit).status_code == 404
    # Nor through the stranger's own programme.
    own = ProgrammeRole.objects.get(user=stranger).programme
    Budget.objects.create(programme=own, total=Decimal("100.00"))
    assert client.get(url("edit_category", own, category_id=catering.pk)).status_code == 404
    assert client.post(url("remove_category", own, category_id=catering.pk)).status_code == 404
    assert Category.objects.filter(pk=catering.pk).exists()


def test_dashboard_and_programme_settings_link_the_settings_page(client, budget, organiser):
    client.force_login(organiser)
    target = url("settings", budget.programme)
    assert target in client.get(url("dashboard", budget.programme)).content.decode()
    programme_settings = reverse(
        "organiser:settings", kwargs={"programme_slug": budget.programme.slug}
    )
    assert f'href="{target}"' in client.get(programme_settings).content.decode()


# --- Categories --------------------------------------------------------------------------------


def test_categories_listed_with_their_spending(client, budget, organiser):
    catering = budget.categories.get(name="Catering")
    record(budget, organiser, catering, amount="100.00")
    client.force_login(organiser)
    html = client.get(url("settings", budget.programme)).content.decode()
    assert '<th scope="row">Catering</th>' in html
    assert "€ 109,00" in html  # incl. 9 % btw


def test_organiser_adds_a_category(client, budget, organiser):
    client.force_login(organiser)
    response = client.post(
        url("add_category", budget.programme), {"name": " Beveiliging ", "planned_amount": "750"}
    )
    assert response.status_code == 303
    added = budget.categories.get(name="Beveiliging")
    assert added.planned_amount == Decimal("750.00")


def test_duplicate_category_is_refused_at_the_name(client, budget, organiser):
    client.force_login(organiser)
    response = client.post(url("add_category", budget.programme), {"name": "catering"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "Er is al een categorie met deze naam." in html
    assert 'id="category_name_error"' in html
    assert budget.categories.count() == 8


def test_organiser_renames_a_category(client, budget, organiser):
    catering = budget.categories.get(name="Catering")
    record(budget, organiser, catering)
    client.force_login(organiser)
    page = url("edit_category", budget.programme, category_id=catering.pk)
    assert client.get(page).status_code == 200
    response = client.post(page, {"name": "Eten en drinken", "planned_amount": "1.500,00"})
    assert response.status_code == 303
    catering.refresh_from_db()
    assert catering.name == "Eten en drinken"
    assert catering.planned_amount == Decimal("1500.00")
    assert Expense.objects.get().category == catering


def test_empty_name_is_refused(client, budget, organiser):
    catering = budget.categories.get(name="Catering")
    client.force_login(organiser)
    response = client.post(
        url("edit_category", budget.programme, category_id=catering.pk), {"name": "  "}
    )
    assert response.status_code == 422
    assert "Vul de naam van de categorie in." in response.content.decode()
    catering.refresh_from_db()
    assert catering.name == "Catering"


def test_unused_category_is_removed(client, budget, organiser):
    gifts = budget.categories.get(name="Geschenken")
    client.force_login(organiser)
    response = client.post(url("remove_category", budget.programme, category_id=gifts.pk))
    assert response.status_code == 303
    assert not Category.objects.filter(pk=gifts.pk).exists()


def test_category_in_use_is_not_removed(client, budget, organiser):
    catering = budget.categories.get(name="Catering")
    record(budget, organiser, catering)
    client.force_login(organiser)
    edit = url("edit_category", budget.programme, category_id=catering.pk)
    response = client.post(
        url("remove_category", budget.programme, category_id=catering.pk), follow=True
    )
    assert response.redirect_chain == [(edit, 303)]
    assert messages_of(response) == [
        "Deze categorie heeft uitgaven en kan daarom niet weg. Zet die uitgaven eerst in een "
        "andere categorie."
    ]
    assert Category.objects.filter(pk=catering.pk).exists()
    # The page offers no removal for it.
    assert "budget/categorieen/" not in response.content.decode().split("remove-heading")[1]


# --- A programme without a budget --------------------------------------------------------------


def test_organiser_creates_the_budget(client, programme, organiser):
    client.force_login(organiser)
    html = client.get(url("dashboard", programme)).content.decode()
    assert url("create", programme) in html
    assert "beheerder" not in html
    response = client.post(
        url("create", programme), {"total": "12.500,00", "approval_threshold": "750"}
    )
    assert response["Location"] == url("settings", programme)
    budget = Budget.objects.get(programme=programme)
    assert budget.total == Decimal("12500.00")
    assert budget.approval_threshold == Decimal("750.00")
    assert budget.includes_vat is False  # the box was not ticked
    assert budget.categories.count() == 8
    assert budget.history.get().history_user == organiser


def test_creating_with_a_bad_amount_saves_nothing(client, programme, organiser):
    client.force_login(organiser)
    response = client.post(url("create", programme), {"total": "acht", "approval_threshold": ""})
    assert response.status_code == 422
    html = response.content.decode()
    assert "Vul het bedrag in als getal, bijvoorbeeld 125,50." in html
    assert "Vul de grens voor goedkeuring in." in html
    assert not Budget.objects.exists()


def test_a_second_budget_is_refused(client, budget, organiser):
    client.force_login(organiser)
    response = client.post(
        url("create", budget.programme), {"total": "1", "approval_threshold": "1"}
    )
    assert response.status_code == 303
    assert Budget.objects.get().total == Decimal("8000.00")


def test_viewer_sees_no_create_form(client, programme, viewer):
    client.force_login(viewer)
    html = client.get(url("dashboard", programme)).content.decode()
    assert 'method="post"' not in html[html.index("<main") : html.index("</main>")]
    assert client.post(url("create", programme), {"total": "1"}).status_code == 403
    assert not Budget.objects.exists()


# --- The services ------------------------------------------------------------------------------


def test_create_budget_service_refuses_a_viewer_and_a_second_budget(programme, organiser, viewer):
    with pytest.raises(errors.NotAnOrganiser):
        services.create_budget(programme.pk, by=viewer, total="100")
    budget = services.create_budget(programme.pk, by=organiser, total="100")
    assert budget.approval_threshold == Decimal("500.00")
    with pytest.raises(errors.BudgetExists):
        services.create_budget(programme.pk, by=organiser, total="200")
