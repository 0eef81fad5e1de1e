from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from budget import errors, services
from budget.inputs import IncomeChange
from budget.models import Budget, Income
from budget.summary import summarise
from registrations.signals import ticket_income_received, ticket_income_refunded


@pytest.fixture
def budget(programme) -> Budget:
    return Budget.objects.create(programme=programme, total=Decimal("8000.00"))


def _send(signal, activity, amount: str, source: str):
    signal.send(
        sender=None,
        activity=activity,
        amount=Decimal(amount),
        source=source,
        date=dt.date(2027, 1, 5),
        description=f"{activity.title}: 2 x 27.50",
    )


def test_ticket_income_arrives_by_signal_per_activity(budget, make_activity):
    dinner = make_activity(title="Reüniediner", price=Decimal("27.50"))
    _send(ticket_income_received, dinner, "55.00", "payment:1")
    income = Income.objects.get()
    assert (income.kind, income.activity, income.amount, income.source) == (
        Income.Kind.TICKETS,
        dinner,
        Decimal("55.00"),
        "payment:1",
    )
    assert income.budget == budget
    assert income.recorded_by is None
    line = next(a for a in summarise(budget).per_activity if a.activity_id == dinner.pk)
    assert line.income_tickets == Decimal("55.00")


def test_the_same_source_twice_changes_nothing(budget, activity):
    _send(ticket_income_received, activity, "55.00", "payment:1")
    _send(ticket_income_received, activity, "55.00", "payment:1")
    first = Income.objects.get()
    again = services.record_ticket_income(
        activity=activity,
        amount=Decimal("99.00"),
        source="payment:1",
        date=dt.date(2027, 2, 1),
        description="anders",
    )
    assert again.pk == first.pk
    assert Income.objects.get().amount == Decimal("55.00")
    assert first.history.count() == 1


def test_refund_is_negative_income(budget, activity):
    _send(ticket_income_received, activity, "55.00", "payment:1")
    _send(ticket_income_refunded, activity, "27.50", "refund:1:2750")
    _send(ticket_income_refunded, activity, "27.50", "refund:1:2750")
    amounts = sorted(Income.objects.values_list("amount", flat=True))
    assert amounts == [Decimal("-27.50"), Decimal("55.00")]
    summary = summarise(budget)
    assert summary.income_tickets == Decimal("27.50")


def test_programme_without_budget_gets_one_rather_than_losing_income(programme, activity):
    _send(ticket_income_received, activity, "10.00", "payment:7")
    budget = Budget.objects.get(programme=programme)
    assert budget.total == Decimal("0.00")
    assert budget.categories.count() == 8
    assert budget.income.get().amount == Decimal("10.00")


def test_ticket_income_refuses_fractions_of_cents_and_a_missing_source(budget, activity):
    with pytest.raises(errors.AmountTooPrecise):
        services.record_ticket_income(
            activity=activity,
            amount=Decimal("1.005"),
            source="payment:9",
            date=dt.date(2027, 1, 1),
            description="x",
        )
    with pytest.raises(ValueError, match="source"):
        services.record_ticket_income(
            activity=activity,
            amount=Decimal("1.00"),
            source="",
            date=dt.date(2027, 1, 1),
            description="x",
        )
    assert not Income.objects.exists()


def test_ticket_income_cannot_be_edited_by_hand(budget, activity, django_user_model):
    from events.models import ProgrammeRole

    organiser = django_user_model.objects.create_user(username="anne")
    ProgrammeRole.objects.create(user=organiser, programme=budget.programme, role="organiser")
    _send(ticket_income_received, activity, "55.00", "payment:1")
    with pytest.raises(errors.TicketIncomeLocked):
        services.update_income(
            Income.objects.get().pk, IncomeChange.of(amount=Decimal("1.00")), by=organiser
        )
    assert Income.objects.get().amount == Decimal("55.00")
