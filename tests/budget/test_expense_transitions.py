"""The Expense model's own state changes: status steps, approval and its withdrawal.

Every allowed transition sets each field it concerns; every refused one raises the domain error
and leaves the expense as it was. Nothing here touches the database: the services lock, check
permissions and save.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from budget import errors
from budget.models import Budget, Expense

Status = Expense.Status
NOW = dt.datetime(2027, 1, 20, 10, 30, tzinfo=dt.UTC)
FIELDS = ["status", "committed_on", "invoiced_on", "paid_on", "approved_by_id", "approved_at"]


def person(pk: int, username: str):
    return get_user_model()(pk=pk, username=username)


RECORDER = person(1, "anne")
SECOND = person(2, "bert")


def expense(amount: str = "100.00", *, includes_vat: bool = True, **fields) -> Expense:
    budget = Budget(
        total=Decimal("8000.00"),
        includes_vat=includes_vat,
        approval_threshold=Decimal("500.00"),
    )
    return Expense(
        budget=budget,
        recorded_by=RECORDER,
        amount_excl_vat=Decimal(amount),
        vat_rate=21,
        date=dt.date(2027, 1, 15),
        **fields,
    )


def state(item: Expense) -> dict[str, object]:
    return {name: getattr(item, name) for name in FIELDS}


# --- Status steps ------------------------------------------------------------------------------


def test_one_step_forward_sets_the_status_and_its_date():
    item = expense()
    assert item.advance_to(Status.COMMITTED, on=dt.date(2027, 1, 16)) is True
    assert state(item) == {
        "status": Status.COMMITTED,
        "committed_on": dt.date(2027, 1, 16),
        "invoiced_on": None,
        "paid_on": None,
        "approved_by_id": None,
        "approved_at": None,
    }


def test_steps_skipped_over_are_dated_with_the_step_that_passed_them():
    item = expense(status=Status.COMMITTED, committed_on=dt.date(2027, 1, 16))
    assert item.advance_to("paid", on=dt.date(2027, 2, 3)) is True
    assert item.status == Status.PAID
    # The date the expense already kept stays.
    assert item.committed_on == dt.date(2027, 1, 16)
    assert item.invoiced_on == item.paid_on == dt.date(2027, 2, 3)


def test_the_status_it_has_already_changes_nothing():
    item = expense(status=Status.INVOICED, invoiced_on=dt.date(2027, 1, 16))
    before = state(item)
    assert item.advance_to(Status.INVOICED, on=dt.date(2027, 3, 1)) is False
    assert state(item) == before


@pytest.mark.parametrize("target", [Status.PLANNED, Status.COMMITTED])
def test_a_step_backwards_is_refused_and_changes_nothing(target):
    item = expense(status=Status.INVOICED, invoiced_on=dt.date(2027, 1, 16))
    before = state(item)
    with pytest.raises(errors.StatusBackwards) as caught:
        item.advance_to(target, on=dt.date(2027, 3, 1))
    assert caught.value.details == {"from": "invoiced", "to": target}
    assert "terug" in str(caught.value)
    assert state(item) == before


@pytest.mark.parametrize("target", ["cancelled", "", None])
def test_an_unknown_status_is_refused_and_changes_nothing(target):
    item = expense()
    before = state(item)
    with pytest.raises(errors.UnknownStatus):
        item.advance_to(target, on=dt.date(2027, 3, 1))
    assert state(item) == before


def test_above_the_threshold_no_step_without_approval():
    # 420.00 + 21 % VAT = 508.20 counted: above the threshold of 500.00.
    item = expense("420.00")
    before = state(item)
    with pytest.raises(errors.ApprovalRequired) as caught:
        item.advance_to(Status.PAID, on=dt.date(2027, 3, 1))
    assert caught.value.details == {"approval_threshold": "500.00", "counted_amount": "508.20"}
    assert caught.value.status == 409
    assert state(item) == before
    item.approve(by=SECOND, now=NOW)
    assert item.advance_to(Status.PAID, on=dt.date(2027, 3, 1)) is True


def test_the_threshold_counts_as_the_budget_counts():
    # Excluding VAT the same expense counts 420.00: no approval needed.
    item = expense("420.00", includes_vat=False)
    assert not item.needs_approval
    assert item.advance_to(Status.COMMITTED, on=dt.date(2027, 3, 1)) is True


def test_counted_amount_follows_an_unsaved_change():
    item = expense("100.00")
    item.amount_excl_vat = Decimal("33.33")
    assert item.counted_amount == Decimal("40.33")


# --- Approval ----------------------------------------------------------------------------------


def test_approve_sets_who_and_when():
    item = expense("1000.00")
    assert item.awaiting_approval
    assert item.approve(by=SECOND, now=NOW) is True
    assert (item.approved_by, item.approved_at) == (SECOND, NOW)
    assert item.is_approved and not item.awaiting_approval
    assert item.status == Status.PLANNED


def test_approving_your_own_expense_is_refused_and_changes_nothing():
    item = expense("1000.00")
    before = state(item)
    with pytest.raises(errors.OwnExpense) as caught:
        item.approve(by=RECORDER, now=NOW)
    assert caught.value.status == 403
    assert state(item) == before


def test_approving_again_keeps_the_first_approval():
    item = expense("1000.00")
    item.approve(by=SECOND, now=NOW)
    third = person(3, "carla")
    assert item.approve(by=third, now=NOW + dt.timedelta(hours=1)) is False
    assert (item.approved_by, item.approved_at) == (SECOND, NOW)


def test_withdraw_approval_clears_who_and_when():
    item = expense("1000.00", status=Status.COMMITTED, committed_on=dt.date(2027, 1, 16))
    item.approve(by=SECOND, now=NOW)
    assert item.withdraw_approval() is True
    assert (item.approved_by_id, item.approved_at) == (None, None)
    assert item.awaiting_approval
    # The step it took stays; the next one waits for a new approval.
    assert item.status == Status.COMMITTED
    with pytest.raises(errors.ApprovalRequired):
        item.advance_to(Status.INVOICED, on=dt.date(2027, 2, 1))


def test_withdrawing_when_there_is_no_approval_changes_nothing():
    item = expense("1000.00")
    before = state(item)
    assert item.withdraw_approval() is False
    assert state(item) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount_excl_vat", Decimal("900.00")),
        ("vat_rate", 9),
        ("supplier", "Evenementenbureau Zuid"),
        ("description", "Tent en podium"),
    ],
)
def test_an_approval_holds_only_for_what_was_approved(field, value):
    item = expense("1000.00", supplier="Verhuur De Eembocht", description="Tent")
    item.approve(by=SECOND, now=NOW)
    setattr(item, field, value)
    # Not saved yet, and already no approval: the next step in the same change is refused.
    assert not item.is_approved and item.awaiting_approval
    with pytest.raises(errors.ApprovalRequired):
        item.advance_to(Status.COMMITTED, on=dt.date(2027, 2, 1))


def test_an_approval_survives_a_change_of_anything_else():
    item = expense("1000.00", supplier="Verhuur De Eembocht", description="Tent")
    item.approve(by=SECOND, now=NOW)
    item.invoice_number = "F-1"
    item.date = dt.date(2027, 2, 1)
    item.amount_excl_vat = Decimal("1000")  # the same amount, typed again
    assert item.is_approved
