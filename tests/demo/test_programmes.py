"""The demo's second programme, Veilig Soest, and the centenary's extra questions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from budget.models import Budget
from demo.centenary import PROGRAMME_SLUG, anchor_saturday
from demo.veilig_soest import SLUG
from events.models import Activity, Programme, Question

TODAY = dt.date(2026, 11, 26)


@pytest.fixture(autouse=True)
def today(time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 26, 9, 0), tick=False)


@pytest.fixture
def demo(db):
    call_command("load_demo")


def test_veilig_soest_is_a_public_programme_of_its_own(demo):
    programme = Programme.objects.get(slug=SLUG)

    assert programme.name == "Veilig Soest"
    assert programme.is_public
    assert programme.theme_colour != Programme.objects.get(slug=PROGRAMME_SLUG).theme_colour
    assert programme.retention_days == 90
    assert "organisatie en functie" in programme.privacy_statement
    assert programme.starts_on > TODAY
    programme.full_clean()


def test_veilig_soest_has_a_burglary_evening_and_an_invitation_only_training(demo):
    programme = Programme.objects.get(slug=SLUG)
    evening, training = programme.activities.order_by("starts_at")

    assert "woninginbraak voorkomen" in evening.title
    assert evening.audience == Activity.Audience.PUBLIC
    assert evening.status == Activity.Status.PUBLISHED
    assert evening.is_free
    assert timezone.localtime(evening.starts_at).time() == dt.time(19, 30)

    assert "radicalisering" in training.title
    assert training.audience == Activity.Audience.INVITATION
    questions = list(training.questions.all())
    assert [(q.label, q.label_en, q.kind, q.required) for q in questions] == [
        ("Organisatie", "Organisation", Question.Kind.TEXT, True),
        ("Functie", "Role", Question.Kind.TEXT, True),
    ]
    assert not evening.questions.exists()


def test_veilig_soest_has_a_small_budget_with_its_own_categories(demo):
    budget = Budget.objects.get(programme__slug=SLUG)

    assert budget.total == Decimal("2500.00")
    categories = list(budget.categories.values_list("name", "planned_amount"))
    assert categories == [
        ("Huur", Decimal("600.00")),
        ("Sprekers en trainers", Decimal("950.00")),
        ("Promotie en drukwerk", Decimal("400.00")),
        ("Catering", Decimal("300.00")),
    ]
    assert not budget.expenses.exists()


def test_centenary_asks_dietary_wishes_at_the_dinner_and_ages_at_the_childrens_afternoon(demo):
    dinner = Question.objects.get(activity__slug="reuniediner")
    assert dinner.label == "Dieetwensen"
    assert dinner.kind == Question.Kind.CHOICE
    assert dinner.options() == [
        (value, value) for value in ["Geen", "Vegetarisch", "Veganistisch", "Halal", "Anders"]
    ]
    assert [shown for _value, shown in dinner.options("en")] == [
        "None",
        "Vegetarian",
        "Vegan",
        "Halal",
        "Other",
    ]
    ages = Question.objects.get(activity__slug="kinderbrandweermiddag")
    assert ages.kind == Question.Kind.TEXT
    assert ages.label_en == "Ages of the children"
    for question in (dinner, ages):
        question.full_clean()


def test_loading_twice_keeps_one_of_everything(demo):
    counts = (Programme.objects.count(), Activity.objects.count(), Question.objects.count())

    call_command("load_demo")

    assert (Programme.objects.count(), Activity.objects.count(), Question.objects.count()) == (
        counts
    )
    assert counts == (2, 13, 4)
    assert Budget.objects.get(programme__slug=SLUG).categories.count() == 4


def test_as_held_the_centenary_is_earlier_and_veilig_soest_still_to_come(db, client):
    call_command("load_demo", as_held=True)

    veilig = Programme.objects.get(slug=SLUG)
    assert veilig.starts_on >= anchor_saturday(TODAY)
    html = client.get("/").content.decode()
    assert "Veilig Soest" in html
    earlier = html[html.index('id="earlier-heading"') :]
    assert "Brandweer Soest &amp; Soesterberg 100 jaar" in earlier
    assert "Veilig Soest" not in earlier


def test_default_demo_lists_both_programmes_on_the_home_page(demo, client):
    html = client.get("/").content.decode()

    assert "Veilig Soest" in html
    assert "Brandweer Soest &amp; Soesterberg 100 jaar" in html
    assert 'fill="#1F4E79"' in html and 'fill="#B41E1E"' in html
