"""An organiser keeps the budget in a real browser: logs in, adds an expense with the keyboard
through the htmx form, and sees the figures and the dashboard follow."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from budget import services
from budget.inputs import ExpenseInput
from budget.models import Budget, Expense
from events.models import Programme, ProgrammeRole
from tests.e2e.journey import screenshot, tab_to

pytestmark = pytest.mark.browser

PASSWORD = "een-lang-wachtwoord-2023"


@pytest.fixture
def organiser(programme: Programme):
    user = get_user_model().objects.create_user(
        username="anne", password=PASSWORD, is_staff=True, first_name="Anne"
    )
    ProgrammeRole.objects.create(user=user, programme=programme, role=ProgrammeRole.Role.ORGANISER)
    return user


@pytest.fixture
def budget(programme: Programme, organiser, django_user_model) -> Budget:
    """The centenary's € 8,000 with a handful of lines like the real 2023 ledger."""
    budget = Budget.objects.create(programme=programme, total=Decimal("8000.00"))
    # Not staff: organisers log in on the site's own page, not Django's admin.
    second = django_user_model.objects.create_user(username="bert", password=PASSWORD)
    ProgrammeRole.objects.create(
        user=second, programme=programme, role=ProgrammeRole.Role.ORGANISER
    )
    category = {c.name: c for c in budget.categories.all()}
    lines = [
        ("Catering", "Partycentrum De Linde", "Receptie 100 jaar", "1850.00", 9, "paid"),
        ("Promotie en drukwerk", "Drukkerij Soest", "Fotoboek", "1495.00", 21, "invoiced"),
        ("Huur", "Tentenverhuur Eemland", "Tent op het Kerkpad", "780.00", 21, "committed"),
        ("Vergunningen", "Gemeente Soest", "Evenementenvergunning", "142.35", 0, "paid"),
        ("Geschenken", "Graveerwerk Baarn", "Gegraveerde bekers", "412.40", 21, "planned"),
        ("Vervoer", "Oldtimer Transport", "Vervoer historische spuit", "350.00", 21, "planned"),
    ]
    for day, (name, supplier, description, amount, rate, status) in enumerate(lines, start=1):
        expense = services.record_expense(
            budget,
            ExpenseInput(
                category_id=category[name].pk,
                supplier=supplier,
                description=description,
                date=dt.date(2023, 3, 1) + dt.timedelta(days=day * 17),
                amount_excl_vat=Decimal(amount),
                vat_rate=rate,
            ),
            by=organiser,
        )
        if expense.needs_approval:
            services.approve_expense(expense.pk, by=second)
        services.advance_expense(
            expense.pk, status, by=organiser, on_date=expense.date + dt.timedelta(days=10)
        )
    return budget


def log_in(page: Page, next_url: str, username: str = "anne") -> None:
    page.goto(f"/inloggen/?next={next_url}")
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("^[^?]*" + re.escape(next_url) + "$"))


def figure(page: Page, label: str):
    return page.locator(".figure", has=page.locator("dt", has_text=label)).locator("dd")


def test_organiser_adds_an_expense_with_the_keyboard(
    page: Page, budget: Budget, foreign_requests, console_errors
):
    dashboard = f"/beheer/{budget.programme.slug}/budget/"
    log_in(page, dashboard)
    expect(page.get_by_role("heading", level=1)).to_have_text("Budget")
    expect(figure(page, "Budget")).to_have_text("€ 8.000,00")
    expect(figure(page, "Gepland")).to_have_text("€ 922,50")  # 499.00 + 423.50
    expect(page.get_by_role("img", name="Uitgaven per categorie")).to_be_visible()
    expect(page.get_by_role("img", name="Uitgaven in de tijd")).to_be_visible()
    expect(page.get_by_text("Bedragen inclusief btw")).to_be_visible()
    screenshot(page, "budget-dashboard")

    page.get_by_role("link", name="Uitgave toevoegen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Uitgaven")
    page.wait_for_load_state()
    form = page.locator("form.expense-form")
    form.get_by_label("Leverancier").focus()
    page.keyboard.type("Bloemenhuis Soest")
    tab_to(page, form.get_by_label("Omschrijving"))
    page.keyboard.type("Bloemstukken reünie")
    tab_to(page, form.get_by_label("Categorie"))
    page.keyboard.type("Geschenken")
    tab_to(page, form.get_by_label("Activiteit (niet verplicht)"))
    tab_to(page, form.get_by_label("Bedrag exclusief btw (€)"))
    page.keyboard.type("250,00")
    tab_to(page, form.get_by_label("Btw-tarief"))
    page.keyboard.type("9")
    tab_to(page, form.get_by_label("Datum"))
    # Chromium's date field takes three stops: day, month, year (today's date stays).
    for _ in range(3):
        page.keyboard.press("Tab")
    tab_to(page, form.get_by_label("Factuurnummer (niet verplicht)"))
    page.keyboard.type("BS-0412")
    tab_to(page, form.get_by_label("Status"))
    tab_to(page, form.get_by_role("button", name="Uitgave toevoegen"))
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.keyboard.press("Enter")
    assert answer.value.request.headers.get("hx-request") == "true"  # htmx, not a page load

    status = page.locator("#expense-add-body [role=status]")
    expect(status).to_contain_text("Bloemstukken reünie")
    expect(status).to_be_focused()
    expense = Expense.objects.get(supplier="Bloemenhuis Soest")
    assert (expense.amount_excl_vat, expense.vat_rate, expense.vat_amount) == (
        Decimal("250.00"),
        9,
        Decimal("22.50"),
    )
    assert expense.category.name == "Geschenken"
    # The figures on this page and the list follow without a reload.
    expect(figure(page, "Gepland")).to_have_text("€ 1.195,00")
    expect(page.locator("#expense-list")).to_contain_text("Bloemstukken reünie")
    expect(form.get_by_label("Leverancier")).to_have_value("")
    screenshot(page, "budget-expense-added")

    # A mistake: the Dutch summary, focused, linking to the field; nothing is added.
    form.get_by_label("Leverancier").focus()
    page.keyboard.type("Bakkerij")
    tab_to(page, form.get_by_label("Omschrijving"))
    page.keyboard.type("Gebak")
    form.get_by_label("Bedrag exclusief btw (€)").focus()
    page.keyboard.type("12,345")
    page.keyboard.press("Enter")
    summary = page.locator("#expense-errors")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name=re.compile("hoogstens twee cijfers"))).to_be_visible()
    assert Expense.objects.count() == 7

    page.get_by_role("link", name="Overzicht").click()
    expect(figure(page, "Gepland")).to_have_text("€ 1.195,00")
    table = page.get_by_role("table", name="Uitgaven per categorie in cijfers")
    expect(table.get_by_role("row", name=re.compile("^Geschenken"))).to_contain_text("€ 771,50")
    assert foreign_requests == []
    assert console_errors == []


def test_the_form_works_without_javascript(new_page, budget: Budget):
    page = new_page(javascript=False)
    log_in(page, f"/beheer/{budget.programme.slug}/budget/uitgaven/")
    form = page.locator("form.expense-form")
    form.get_by_label("Leverancier").fill("Bloemenhuis Soest")
    form.get_by_label("Omschrijving").fill("Bloemstukken")
    form.get_by_label("Categorie").select_option(label="Geschenken")
    form.get_by_label("Bedrag exclusief btw (€)").fill("80")
    form.get_by_role("button", name="Uitgave toevoegen").click()
    expect(page.get_by_role("status").first).to_contain_text("is toegevoegd")
    expect(page.locator("#expense-list")).to_contain_text("Bloemstukken")
    assert Expense.objects.filter(description="Bloemstukken").exists()


def test_a_second_organiser_approves_a_large_expense_and_the_dashboard_follows(
    new_page, budget: Budget
):
    slug = budget.programme.slug
    anne: Page = new_page(javascript=False)
    log_in(anne, f"/beheer/{slug}/budget/uitgaven/")
    form = anne.locator("form.expense-form")
    form.get_by_label("Leverancier").fill("Geluidsverhuur Amersfoort")
    form.get_by_label("Omschrijving").fill("Geluid open dag")
    form.get_by_label("Categorie").select_option(label="Huur")
    form.get_by_label("Bedrag exclusief btw (€)").fill("650")
    form.get_by_label("Btw-tarief").select_option(value="21")
    form.get_by_role("button", name="Uitgave toevoegen").click()
    expense = Expense.objects.get(description="Geluid open dag")
    assert expense.approved_by is None

    # Anne cannot approve her own expense; the dashboard tells her it waits.
    anne.goto(f"/beheer/{slug}/budget/goedkeuren/")
    expect(anne.get_by_role("main")).to_contain_text("een andere organisator keurt deze goed")
    anne.goto(f"/beheer/{slug}/budget/")
    expect(anne.get_by_role("link", name="1 uitgave wacht op goedkeuring")).to_be_visible()
    expect(figure(anne, "Besteld, nog niet betaald")).to_have_text("€ 2.752,75")

    # Bert approves it from the queue.
    bert: Page = new_page()
    log_in(bert, f"/beheer/{slug}/budget/goedkeuren/", username="bert")
    bert.get_by_role("button", name="Goedkeuren Geluid open dag").click()
    expect(bert.get_by_role("main")).to_contain_text("Er wacht niets op goedkeuring.")
    screenshot(bert, "budget-approved")
    expense.refresh_from_db()
    assert expense.approved_by.username == "bert"

    # Now Anne can order it, and the figures move from planned to ordered.
    anne.goto(f"/beheer/{slug}/budget/uitgaven/{expense.pk}/")
    anne.get_by_label("Nieuwe status").select_option(label="Besteld")
    anne.get_by_role("button", name="Status bijwerken").click()
    anne.goto(f"/beheer/{slug}/budget/")
    expect(anne.get_by_role("link", name=re.compile("wacht op goedkeuring"))).to_have_count(0)
    expect(figure(anne, "Besteld, nog niet betaald")).to_have_text("€ 3.539,25")
    screenshot(anne, "budget-dashboard-after-approval")
