from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from budget.models import Budget, BudgetAlert, Category, Expense, Income
from budget.services import approval_queue
from budget.summary import summarise
from demo.centenary import PROGRAMME_SLUG, anchor_saturday
from events.models import Activity, Programme, Question
from registrations.models import CheckIn, Payment, Registration, ScanLog


def _snapshot() -> list[tuple]:
    return [
        *Programme.objects.values_list("pk", "slug", "starts_on", "ends_on", "updated_at"),
        *Activity.objects.order_by("pk").values_list(
            "pk", "slug", "starts_at", "capacity", "price", "updated_at"
        ),
        *Registration.objects.order_by("pk").values_list(
            "pk", "email", "party_size", "status", "updated_at"
        ),
        *Payment.objects.order_by("pk").values_list("pk", "status", "amount", "paid_at"),
        *CheckIn.objects.order_by("pk").values_list("pk", "registration", "persons"),
        ("scans", ScanLog.objects.count()),
        *Budget.objects.values_list("pk", "total"),
        *Category.objects.order_by("pk").values_list("pk", "budget", "name", "planned_amount"),
        *Question.objects.order_by("pk").values_list("pk", "activity", "label", "choices"),
        *Expense.objects.order_by("pk").values_list(
            "pk", "supplier", "amount_excl_vat", "status", "approved_by", "date"
        ),
        *Income.objects.order_by("pk").values_list("pk", "source", "amount"),
        *BudgetAlert.objects.order_by("pk").values_list("pk", "percentage"),
        *[
            (model.__name__, model.history.count())
            for model in (Registration, Payment, Budget, Expense, Income)
        ],
        ("queued", DBTaskResult.objects.count()),
    ]


def test_load_demo_twice_gives_the_same_rows(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo")
    first = _snapshot()
    with django_capture_on_commit_callbacks(execute=True):
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


def test_demo_parties_sign_up_through_the_service_and_get_their_e_mail_once(
    db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo")
    registrations = Registration.objects.filter(activity__programme__slug=PROGRAMME_SLUG)
    assert sorted(registrations.values_list("contact_name", "party_size", "status")) == [
        ("Familie Bakker", 3, "confirmed"),
        ("Familie Jansen", 4, "confirmed"),
        ("Familie de Vries", 4, "confirmed"),
    ]
    for registration in registrations:
        assert registration.confirmed_at == registration.consent_at
        assert [h.history_type for h in registration.history.all()] == ["+"]
    queued = DBTaskResult.objects.filter(task_path__endswith="send_registration_mail")
    assert sorted(
        (task.args_kwargs["kwargs"]["registration_id"], task.args_kwargs["kwargs"]["kind"])
        for task in queued
    ) == sorted((pk, "confirmation") for pk in registrations.values_list("pk", flat=True))


def test_held_demo_is_what_the_services_made_in_2023_and_loads_once(
    db, mailoutbox, django_capture_on_commit_callbacks
):
    # One test, as loading the held demo takes a while.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", as_held=True)
    first = _snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", as_held=True)
    assert _snapshot() == first
    assert mailoutbox == []
    # The held programme's e-mails would have gone out in 2023: none is left in the queue.
    assert not DBTaskResult.objects.exists()

    dinner = Activity.objects.get(slug="reuniediner")
    registrations = list(dinner.registrations.all())
    assert sum(r.party_size for r in registrations) == 96
    for registration in registrations:
        # A member not on the roster: approved by an organiser (the places kept for them), then
        # paid on the demo page ("Betalen" claims the places and starts the checkout's hold).
        assert registration.status == "confirmed"
        statuses = list(
            registration.history.order_by("history_date", "history_id").values_list(
                "status", flat=True
            )
        )
        assert statuses == ["pending_approval", "offered", "pending_payment", "confirmed"]
        assert registration.created_at == registration.consent_at < registration.confirmed_at
        assert registration.confirmed_at < dinner.starts_at
        [payment] = registration.payments.all()
        assert (payment.status, payment.demo, payment.amount) == (
            "paid",
            True,
            dinner.price * registration.party_size,
        )
        assert payment.created_at == payment.paid_at == registration.confirmed_at
        ticket = Income.objects.get(source=f"payment:{payment.pk}")
        assert (ticket.kind, ticket.amount) == ("tickets", payment.amount)
        assert ticket.date == timezone.localdate(payment.paid_at)
    assert {
        timezone.localtime(h.history_date).year
        for model in (Registration, Payment, Expense, Income)
        for h in model.history.all()
    } == {2023}

    paid = Expense.objects.get(supplier="Hotel De Soester Duinen")
    history = list(paid.history.order_by("history_date", "history_id"))
    assert [(h.status, h.approved_by_id is not None) for h in history] == [
        ("planned", False),
        ("planned", True),
        ("committed", True),
        ("invoiced", True),
        ("paid", True),
    ]
    assert [timezone.localtime(h.history_date).date() for h in history] == [
        paid.date,
        paid.date,
        paid.committed_on,
        paid.invoiced_on,
        paid.paid_on,
    ]
    assert timezone.localtime(paid.approved_at).date() == paid.date
    assert {h.history_user_id for h in history} == {paid.recorded_by_id, paid.approved_by_id}
    assert not BudgetAlert.objects.exists()


def test_as_held_demo_needs_the_demo_payment_page(db, settings):
    settings.PAYMENTS_DEMO_MODE = False

    with pytest.raises(ImproperlyConfigured, match="PAYMENTS_DEMO_MODE"):
        call_command("load_demo", as_held=True)

    assert not Programme.objects.exists()


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


def test_switching_to_the_held_demo_and_back(db):
    # One test, as loading the held demo takes a while.
    call_command("load_demo")
    call_command("load_demo", as_held=True)

    centenary = Activity.objects.filter(programme__slug=PROGRAMME_SLUG)
    assert centenary.count() == 11
    years = {timezone.localtime(a.starts_at).year for a in centenary}
    assert years == {2023}
    assert Programme.objects.get(slug=PROGRAMME_SLUG).starts_on.year == 2023
    own = Registration.objects.filter(contact_name__startswith="Familie")
    # The demo's own parties signed up again, ten days before the activity as held.
    for registration in own:
        assert registration.consent_at == registration.activity.starts_at - dt.timedelta(days=10)

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

    # Back to the upcoming demo: the held-only lines, income and registrations go again.
    call_command("load_demo")
    assert set(budget.expenses.values_list("status", flat=True)) == {"planned", "committed"}
    assert not budget.income.exists()
    assert not Payment.objects.exists()
    assert {timezone.localtime(r.consent_at).date() for r in own.all()} == {timezone.localdate()}
    assert own.count() == 3


def test_demo_starts_at_least_two_weeks_from_today(db):
    call_command("load_demo")
    first = Activity.objects.order_by("starts_at").first()
    assert timezone.localtime(first.starts_at).date() >= timezone.localdate() + dt.timedelta(
        days=13
    )


def test_anchor_is_a_saturday_two_weeks_out():
    for offset in range(7):
        today = dt.date(2026, 11, 26) + dt.timedelta(days=offset)
        anchor = anchor_saturday(today)
        assert anchor.weekday() == 5
        assert 14 <= (anchor - today).days < 21


def test_demo_is_mostly_in_english_too_with_dutch_only_activities_left_to_fall_back(db):
    call_command("load_demo")
    programme = Programme.objects.get(slug=PROGRAMME_SLUG)
    activities = list(programme.activities.all())

    assert programme.missing_english() == []
    dutch_only = sorted(a.slug for a in activities if not a.title_en)
    assert dutch_only == ["jubileumreceptie", "presentatie-jubileumboek"]
    with_english = [a for a in activities if a.title_en]
    assert len(with_english) > len(activities) / 2
    assert all(a.missing_english() == [] for a in with_english)
    safe = Programme.objects.get(slug="veilig-soest")
    assert safe.name_en == "Safe Soest"
    assert [a.title_en != "" for a in safe.activities.order_by("starts_at")] == [True, False]


def test_loading_again_adds_the_english_to_a_demo_loaded_before_it_had_any(db):
    call_command("load_demo")
    Activity.objects.filter(slug="kinderbrandweermiddag").update(title_en="", summary_en="")
    Programme.objects.filter(slug=PROGRAMME_SLUG).update(name_en="")

    call_command("load_demo")

    assert Activity.objects.get(slug="kinderbrandweermiddag").title_en == (
        "Children's fire brigade afternoon"
    )
    assert Programme.objects.get(slug=PROGRAMME_SLUG).name_en.startswith("Fire Brigade")
