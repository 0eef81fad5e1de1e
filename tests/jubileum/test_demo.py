from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.management import call_command
from django.utils import timezone

from budget.models import Budget, BudgetAlert, Category, Expense, Income
from budget.services import approval_queue
from budget.summary import summarise
from events.models import Activity, Programme, Question
from jubileum.demo import PROGRAMME_SLUG, anchor_saturday
from registrations.models import Registration


def _snapshot() -> list[tuple]:
    return [
        *Programme.objects.values_list("pk", "slug", "starts_on", "ends_on"),
        *Activity.objects.order_by("pk").values_list(
            "pk", "slug", "starts_at", "capacity", "price"
        ),
        *Registration.objects.order_by("pk").values_list("pk", "email", "party_size"),
        *Budget.objects.values_list("pk", "total"),
        *Category.objects.order_by("pk").values_list("pk", "budget", "name", "planned_amount"),
        *Question.objects.order_by("pk").values_list("pk", "activity", "label", "choices"),
        *Expense.objects.order_by("pk").values_list(
            "pk", "supplier", "amount_excl_vat", "status", "approved_by", "date"
        ),
        *Income.objects.order_by("pk").values_list("pk", "source", "amount"),
        *BudgetAlert.objects.order_by("pk").values_list("pk", "percentage"),
    ]


def test_load_demo_twice_gives_the_same_rows(db):
    call_command("load_demo")
    first = _snapshot()
    call_command("load_demo")
    assert _snapshot() == first
    assert (
        Programme.objects.get(slug=PROGRAMME_SLUG).name == "Brandweer Soest & Soesterberg 100 jaar"
    )


def test_demo_has_the_centenary_programme_budget_and_kinds_of_activity(db):
    call_command("load_demo")
    programme = Programme.objects.get(slug=PROGRAMME_SLUG)
    assert programme.budget.total == 8000
    activities = list(programme.activities.all())
    assert len(activities) >= 8
    audiences = {a.audience for a in activities}
    assert audiences == {"public", "members", "invitation"}
    assert any(not a.registration_required for a in activities)  # the open days
    assert any(a.price > 0 for a in activities)  # the reunion dinner
    assert any(a.capacity == 4 for a in activities)  # the fire-engine ride slots
    assert any("Van brandemmer tot waterkanon" in a.title for a in activities)
    for activity in activities:
        activity.full_clean()


def test_load_demo_as_held_twice_gives_the_same_rows(db, mailoutbox):
    call_command("load_demo", as_held=True)
    first = _snapshot()
    call_command("load_demo", as_held=True)
    assert _snapshot() == first
    assert mailoutbox == []


def test_default_demo_budget_has_a_few_planned_and_committed_lines(db):
    call_command("load_demo")
    budget = Budget.objects.get(programme__slug=PROGRAMME_SLUG)
    assert budget.categories.count() == 8
    statuses = set(budget.expenses.values_list("status", flat=True))
    assert statuses == {"planned", "committed"}
    assert 3 <= budget.expenses.count() <= 8
    assert not budget.income.exists()
    # Approved lines were approved by someone other than who recorded them.
    for expense in budget.expenses.filter(approved_by__isnull=False):
        assert expense.approved_by_id != expense.recorded_by_id
    assert approval_queue(budget).exists()  # something for the approver to do


def test_as_held_ledger_is_realistic_and_under_budget(db):
    call_command("load_demo")
    call_command("load_demo", as_held=True)
    budget = Budget.objects.get(programme__slug=PROGRAMME_SLUG)
    summary = summarise(budget)
    assert summary.expected_spending < Decimal("8000.00")
    assert summary.paid > 0 and summary.invoiced > 0
    assert summary.planned == 0
    assert summary.income_tickets > 0 and summary.income_other > 0
    assert {e.date.year for e in budget.expenses.all()} == {2023}
    assert budget.expenses.filter(description__contains="Van brandemmer tot waterkanon").exists()
    for expense in budget.expenses.all():
        if expense.amount_incl_vat > budget.approval_threshold:
            assert expense.approved_by is not None
            assert expense.approved_by_id != expense.recorded_by_id
    assert not approval_queue(budget).exists()
    # Back to the upcoming demo: the held-only lines and income go again.
    call_command("load_demo")
    assert set(budget.expenses.values_list("status", flat=True)) == {"planned", "committed"}
    assert not budget.income.exists()


def test_demo_starts_at_least_two_weeks_from_today(db):
    call_command("load_demo")
    first = Activity.objects.order_by("starts_at").first()
    assert timezone.localtime(first.starts_at).date() >= timezone.localdate() + dt.timedelta(
        days=13
    )


def test_demo_as_held_places_activities_in_2023(db):
    call_command("load_demo")
    call_command("load_demo", as_held=True)
    centenary = Activity.objects.filter(programme__slug=PROGRAMME_SLUG)
    assert centenary.count() == 11
    years = {timezone.localtime(a.starts_at).year for a in centenary}
    assert years == {2023}
    assert Programme.objects.get(slug=PROGRAMME_SLUG).starts_on.year == 2023


def test_anchor_is_a_saturday_two_weeks_out():
    for offset in range(7):
        today = dt.date(2026, 11, 26) + dt.timedelta(days=offset)
        anchor = anchor_saturday(today)
        assert anchor.weekday() == 5
        assert 14 <= (anchor - today).days < 21
