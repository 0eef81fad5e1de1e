from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from budget import emails, services
from budget.inputs import ExpenseChange, ExpenseInput, IncomeInput
from budget.models import Budget, BudgetAlert, Expense, Income
from budget.summary import summarise
from budget.tasks import send_budget_alert_mail
from events.models import ProgrammeRole

ALERT_TASK = "budget.tasks.send_budget_alert_mail"

# Engine-dependent, so CI runs it on SQLite too: a threshold is crossed by money summed in SQL.
pytestmark = pytest.mark.engine_dependent


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run what waits for the commit (the alert task's enqueue) at the end of the block."""
    return django_capture_on_commit_callbacks


@pytest.fixture
def budget(programme) -> Budget:
    return Budget.objects.create(programme=programme, total=Decimal("1000.00"))


@pytest.fixture
def organisers(programme):
    users = []
    for name in ("anne", "bert"):
        user = get_user_model().objects.create_user(username=name, email=f"{name}@example.org")
        ProgrammeRole.objects.create(user=user, programme=programme, role="organiser")
        users.append(user)
    viewer = get_user_model().objects.create_user(username="vera", email="vera@example.org")
    ProgrammeRole.objects.create(user=viewer, programme=programme, role="viewer")
    return users


def _spend(budget, by, amount: str) -> Expense:
    return services.record_expense(
        budget,
        ExpenseInput(
            category_id=budget.categories.first().pk,
            supplier="Leverancier",
            description="Regel",
            date=dt.date(2027, 1, 1),
            amount_excl_vat=Decimal(amount),
            vat_rate=0,
        ),
        by=by,
    )


def _alert_ids(tasks) -> list[int]:
    return [r.kwargs["alert_id"] for r in tasks.results if r.task.module_path == ALERT_TASK]


def test_crossing_80_then_100_mails_once_each(
    budget, organisers, tasks, django_capture_on_commit_callbacks
):
    anne = organisers[0]
    with django_capture_on_commit_callbacks(execute=True):
        _spend(budget, anne, "700.00")
    assert not BudgetAlert.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        _spend(budget, anne, "100.00")  # 80 %
        _spend(budget, anne, "50.00")  # still above 80: no new alert
    assert list(BudgetAlert.objects.values_list("percentage", flat=True)) == [80]
    assert len(_alert_ids(tasks)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        _spend(budget, anne, "200.00")  # 105 %
    assert sorted(BudgetAlert.objects.values_list("percentage", flat=True)) == [80, 100]
    assert len(_alert_ids(tasks)) == 2
    summary = summarise(budget)
    assert summary.alerts == [80, 100]
    assert summary.over_budget


def test_alert_mail_goes_to_organisers_once(budget, organisers, tasks, mailoutbox, commit):
    with commit(execute=True):
        _spend(budget, organisers[0], "1200.00")
    alert_id = _alert_ids(tasks)[0]
    assert send_budget_alert_mail.call(alert_id=alert_id) is True
    assert send_budget_alert_mail.call(alert_id=alert_id) is False
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert sorted(message.to) == ["anne@example.org", "bert@example.org"]
    assert "Budget overschreden" in message.subject
    assert "€ 1.200,00" in message.body
    assert "-€ 200,00" in message.body or "€ -200,00" in message.body
    html = message.alternatives[0].content
    assert "De prognose is hoger dan het budget" in html


def test_reaching_both_levels_at_once_mails_about_the_higher(budget, organisers, tasks, commit):
    with commit(execute=True):
        _spend(budget, organisers[0], "1500.00")
    assert BudgetAlert.objects.count() == 2
    ids = _alert_ids(tasks)
    assert ids == [BudgetAlert.objects.get(percentage=100).pk]
    assert BudgetAlert.objects.get(percentage=80).mailed_at is not None


def test_falling_back_below_removes_the_alert_and_crossing_again_mails_again(
    budget, organisers, tasks
):
    anne = organisers[0]
    expense = _spend(budget, anne, "850.00")
    assert BudgetAlert.objects.filter(percentage=80).exists()
    services.update_expense(
        expense.pk, ExpenseChange.of(amount_excl_vat=Decimal("500.00")), by=anne
    )
    assert not BudgetAlert.objects.exists()
    services.update_expense(
        expense.pk, ExpenseChange.of(amount_excl_vat=Decimal("900.00")), by=anne
    )
    assert BudgetAlert.objects.filter(percentage=80).exists()


def test_income_lowers_the_forecast(budget, organisers, tasks):
    anne = organisers[0]
    _spend(budget, anne, "900.00")
    assert BudgetAlert.objects.filter(percentage=80).exists()
    services.record_income(
        budget,
        IncomeInput(
            kind=Income.Kind.SPONSORSHIP,
            description="Sponsor",
            date=dt.date(2027, 1, 1),
            amount=Decimal("300"),
        ),
        by=anne,
    )
    assert not BudgetAlert.objects.exists()


def test_mail_failure_releases_the_claim_for_a_retry(
    budget, organisers, tasks, monkeypatch, commit
):
    with commit(execute=True):
        _spend(budget, organisers[0], "1200.00")
    alert_id = _alert_ids(tasks)[0]

    def fail(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", fail)
    with pytest.raises(OSError):
        emails.send_alert(alert_id)
    assert BudgetAlert.objects.get(pk=alert_id).mailed_at is None


def test_no_mail_when_the_alert_is_gone(budget, organisers, tasks, commit):
    with commit(execute=True):
        expense = _spend(budget, organisers[0], "1200.00")
    alert_id = _alert_ids(tasks)[0]
    services.update_expense(
        expense.pk, ExpenseChange.of(amount_excl_vat=Decimal("10.00")), by=organisers[0]
    )
    assert emails.send_alert(alert_id) is False
    assert len(mail.outbox) == 0
