"""What the budget's figures are: the summary every budget page, the API, the exports, the
alerts and the programme report start from, read in a fixed number of queries.

What the figures mean (`summarise`):

- An expense *counts* against the budget including or excluding VAT, as the budget says
  (`Budget.includes_vat`); every figure below is a sum of counted amounts.
- `planned`, `committed`, `invoiced`, `paid`: the expenses in that status. `spent` is `paid`;
  `open_commitments` is `committed + invoiced` (ordered, not yet paid).
- `expected_spending`: every expense whatever its status (`planned + committed + invoiced +
  paid`): what will have been spent once everything planned and committed is paid.
- `income_total`: ticket sales (refunds subtracted), sponsorship and other income. Income adds
  to what the programme can spend.
- `remaining = total + income_total - paid - open_commitments`: what is neither spent nor
  promised yet. Planned lines are not subtracted: nothing has been ordered for them.
- `forecast = remaining - planned = total + income_total - expected_spending`: what will remain
  if everything planned and committed is paid. Negative means over budget.
- `forecast_percentage = (expected_spending - income_total) / total * 100`: how much of the
  budget will be used then, one decimal. Alerts fire when it reaches the budget's warning
  percentage (80 by default) and 100.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan
from django.utils.translation import gettext_lazy as _

from budget.models import CENT, Budget, Category, Expense, Income
from events.models import Activity

Status = Expense.Status
ZERO = Decimal("0.00")
# What a sum is computed as in the database; wide enough for any number of expenses.
MONEY = DecimalField(max_digits=16, decimal_places=2)


def counted_expression(budget: Budget, prefix: str = "") -> Any:
    """What an expense counts against this budget, in the database (including or excluding
    VAT); `prefix` reaches the expense from another model ("expenses__")."""
    excl = F(f"{prefix}amount_excl_vat")
    if not budget.includes_vat:
        return ExpressionWrapper(excl, output_field=MONEY)
    return ExpressionWrapper(excl + F(f"{prefix}vat_amount"), output_field=MONEY)


def expenses_awaiting_approval(budget: Budget | None = None) -> QuerySet[Expense]:
    """The approval queue, the one rule: expenses above their budget's approval threshold,
    counted as that budget counts (with or without VAT), that no second organiser has approved
    (any status: one whose amount was raised after approval is here again). Of one budget, or
    of every budget in one query (the organisers' digest)."""
    if budget is not None:
        expenses = Expense.objects.filter(budget=budget, approved_by__isnull=True)
        return expenses.annotate(counted=counted_expression(budget)).filter(
            counted__gt=budget.approval_threshold
        )
    counted = Case(
        When(budget__includes_vat=True, then=F("amount_excl_vat") + F("vat_amount")),
        default=F("amount_excl_vat"),
        output_field=MONEY,
    )
    return (
        Expense.objects.filter(approved_by__isnull=True)
        .annotate(counted=counted)
        .filter(counted__gt=F("budget__approval_threshold"))
    )


def _money(value: Decimal | None) -> Decimal:
    return (value or ZERO).quantize(CENT, rounding=ROUND_HALF_UP)


def _sum(expression: Any, condition: Q | None = None) -> Sum:
    # A sum of no rows is NULL; `_money` makes it 0.00 (a Coalesce per figure would only give
    # Django more to build and compile on every request).
    return Sum(expression, filter=condition, output_field=MONEY)


def _status_fields(amounts: Mapping[str | None, Decimal | None]) -> dict[str, Decimal]:
    """The `planned`, `committed`, `invoiced` and `paid` fields from {status: amount}.

    The summary sums expenses grouped by status (one sum) rather than with a filtered sum per
    status: the database adds up the same rows, and Django builds and compiles a quarter of
    the expressions on every request.
    """
    return {status: _money(amounts.get(status)) for status in Expense.STATUS_ORDER}


def _percentage(part: Decimal, whole: Decimal) -> Decimal | None:
    """part / whole as a percentage with one decimal; None when whole is zero and part is not."""
    if whole <= 0:
        return ZERO if part <= 0 else None
    return (part * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Totals:
    """The budget's headline figures (see the module docstring for what each means)."""

    total: Decimal
    includes_vat: bool
    planned: Decimal
    committed: Decimal
    invoiced: Decimal
    paid: Decimal
    income_tickets: Decimal
    income_other: Decimal
    expense_count: int
    awaiting_approval: int
    warning_percentage: int

    @property
    def counted_vat_mode(self) -> str:
        return "incl" if self.includes_vat else "excl"

    @property
    def spent(self) -> Decimal:
        return self.paid

    @property
    def open_commitments(self) -> Decimal:
        return self.committed + self.invoiced

    @property
    def expected_spending(self) -> Decimal:
        return self.planned + self.committed + self.invoiced + self.paid

    @property
    def income_total(self) -> Decimal:
        return self.income_tickets + self.income_other

    @property
    def remaining(self) -> Decimal:
        return self.total + self.income_total - self.paid - self.open_commitments

    @property
    def forecast(self) -> Decimal:
        return self.total + self.income_total - self.expected_spending

    @property
    def forecast_percentage(self) -> Decimal | None:
        """Share of the budget used once everything is paid; None: a zero budget with costs."""
        return _percentage(self.expected_spending - self.income_total, self.total)

    @property
    def spent_percentage(self) -> Decimal | None:
        return _percentage(self.paid, self.total)

    @property
    def over_budget(self) -> bool:
        return self.forecast < 0

    @property
    def alert_levels(self) -> list[int]:
        return sorted({self.warning_percentage, 100})

    @property
    def alerts(self) -> list[int]:
        """The alert levels (warning percentage, 100) the forecast has reached."""
        percentage = self.forecast_percentage
        return [level for level in self.alert_levels if percentage is None or percentage >= level]


@dataclass(frozen=True)
class CategoryLine:
    """One category. `forecast` is its expected spending (every status); `remaining` is the
    planned amount minus that, None without a planned amount."""

    id: int
    name: str
    planned_amount: Decimal | None
    planned: Decimal
    committed: Decimal
    invoiced: Decimal
    paid: Decimal

    @property
    def open_commitments(self) -> Decimal:
        return self.committed + self.invoiced

    @property
    def forecast(self) -> Decimal:
        return self.planned + self.committed + self.invoiced + self.paid

    @property
    def remaining(self) -> Decimal | None:
        return None if self.planned_amount is None else self.planned_amount - self.forecast

    @property
    def over_plan(self) -> bool:
        return self.planned_amount is not None and self.forecast > self.planned_amount


@dataclass(frozen=True)
class ActivityLine:
    """Expenses and income of one activity (`activity_id` None: not tied to an activity).

    `forecast` is the activity's expected spending, `net` that minus its income, and
    `remaining` the allocation minus `net` (None without an allocation).
    """

    activity_id: int | None
    title: str
    starts_at: dt.datetime | None
    allocation: Decimal | None
    planned: Decimal
    committed: Decimal
    invoiced: Decimal
    paid: Decimal
    income_tickets: Decimal
    income_other: Decimal

    @property
    def forecast(self) -> Decimal:
        return self.planned + self.committed + self.invoiced + self.paid

    @property
    def income(self) -> Decimal:
        return self.income_tickets + self.income_other

    @property
    def net(self) -> Decimal:
        return self.forecast - self.income

    @property
    def remaining(self) -> Decimal | None:
        return None if self.allocation is None else self.allocation - self.net


@dataclass(frozen=True)
class OverTimePoint:
    """Cumulative counted spending up to and including `date`: `forecast` adds every expense
    on its own date (whatever its status: what will have been spent), `paid` adds paid expenses
    on the day they were paid."""

    date: dt.date
    forecast: Decimal
    paid: Decimal


@dataclass(frozen=True)
class BudgetSummary(Totals):
    per_category: list[CategoryLine]
    per_activity: list[ActivityLine]
    over_time: list[OverTimePoint]


# The budget's expenses summed per activity (None: none) and status: the counted amount, how
# many, and how many of those await approval. Its income per activity: tickets, other income.
# The totals and the lines per activity both add these up, so `summarise` fetches them once.
ExpenseSums = list[tuple[int | None, str, Decimal | None, int, int]]
IncomeSums = list[tuple[int | None, Decimal | None, Decimal | None]]


def _expense_sums(budget: Budget) -> ExpenseSums:
    counted = counted_expression(budget)
    above_threshold = GreaterThan(counted, Value(budget.approval_threshold, output_field=MONEY))
    return list(
        Expense.objects.filter(budget=budget)
        .values_list("activity_id", "status")
        .annotate(
            amount=_sum(counted),
            count=Count("pk"),
            awaiting=Count("pk", filter=Q(approved_by__isnull=True) & above_threshold),
        )
        .order_by()
    )


def _income_sums(budget: Budget) -> IncomeSums:
    return list(
        Income.objects.filter(budget=budget)
        .values_list("activity_id")
        .annotate(
            tickets=_sum("amount", Q(kind=Income.Kind.TICKETS)),
            other=_sum("amount", ~Q(kind=Income.Kind.TICKETS)),
        )
        .order_by()
    )


def totals(
    budget: Budget, expenses: ExpenseSums | None = None, income: IncomeSums | None = None
) -> Totals:
    """The headline figures: the sums per activity added up (fetched unless passed in)."""
    expenses = _expense_sums(budget) if expenses is None else expenses
    income = _income_sums(budget) if income is None else income
    amounts: dict[str | None, Decimal] = {}
    expense_count = awaiting = 0
    for _activity_id, status, amount, count, status_awaiting in expenses:
        amounts[status] = amounts.get(status, ZERO) + _money(amount)
        expense_count += count
        awaiting += status_awaiting
    return Totals(
        total=budget.total,
        includes_vat=budget.includes_vat,
        **_status_fields(amounts),
        income_tickets=sum((_money(tickets) for _id, tickets, _other in income), ZERO),
        income_other=sum((_money(other) for _id, _tickets, other in income), ZERO),
        expense_count=expense_count,
        awaiting_approval=awaiting,
        warning_percentage=budget.warning_percentage,
    )


def _per_category(budget: Budget) -> list[CategoryLine]:
    # One row per category and status; a category without expenses has one, with status None.
    rows = (
        Category.objects.filter(budget=budget)
        .values_list("pk", "name", "planned_amount", "expenses__status")
        .annotate(amount=_sum(counted_expression(budget, "expenses__")))
        .order_by("position", "name", "pk")
    )
    categories: dict[int, tuple[str, Decimal | None]] = {}
    amounts: dict[int, dict[str | None, Decimal | None]] = {}
    for pk, name, planned_amount, status, amount in rows:
        categories[pk] = (name, planned_amount)
        amounts.setdefault(pk, {})[status] = amount
    return [
        CategoryLine(id=pk, name=name, planned_amount=planned_amount, **_status_fields(amounts[pk]))
        for pk, (name, planned_amount) in categories.items()
    ]


def _per_activity(budget: Budget, expenses: ExpenseSums, income: IncomeSums) -> list[ActivityLine]:
    spent: dict[int | None, dict[str | None, Decimal | None]] = {}
    for activity_id, status, amount, _count, _awaiting in expenses:
        spent.setdefault(activity_id, {})[status] = amount
    earned = {activity_id: (tickets, other) for activity_id, tickets, other in income}
    activities = (
        Activity.objects.filter(programme_id=budget.programme_id)
        .values_list("pk", "title", "starts_at", "allocation__amount")
        .order_by("starts_at", "pk")
    )

    def line(activity_id: int | None, title: str, starts_at: Any, allocation: Any) -> ActivityLine:
        tickets, other = earned.get(activity_id, (None, None))
        return ActivityLine(
            activity_id=activity_id,
            title=title,
            starts_at=starts_at,
            allocation=allocation,
            **_status_fields(spent.get(activity_id, {})),
            income_tickets=_money(tickets),
            income_other=_money(other),
        )

    lines = [line(*activity) for activity in activities]
    if None in spent or None in earned:
        lines.append(line(None, str(_("Geen activiteit")), None, None))
    return lines


def _over_time(budget: Budget) -> list[OverTimePoint]:
    counted = counted_expression(budget)
    expected = dict(
        Expense.objects.filter(budget=budget)
        .values("date")
        .annotate(amount=_sum(counted))
        .order_by()
        .values_list("date", "amount")
    )
    paid = dict(
        Expense.objects.filter(budget=budget, status=Status.PAID)
        .annotate(day=Coalesce("paid_on", "date"))
        .values("day")
        .annotate(amount=_sum(counted))
        .order_by()
        .values_list("day", "amount")
    )
    points = []
    running_expected = running_paid = ZERO
    for day in sorted(set(expected) | set(paid)):
        running_expected += _money(expected.get(day))
        running_paid += _money(paid.get(day))
        points.append(OverTimePoint(date=day, forecast=running_expected, paid=running_paid))
    return points


def summarise(budget: Budget) -> BudgetSummary:
    """Every figure of the budget pages, in a fixed number of queries (sums in the database,
    grouped by status, category, activity and date), however many expenses there are."""
    expenses, income = _expense_sums(budget), _income_sums(budget)
    headline = totals(budget, expenses, income)
    return BudgetSummary(
        **{name: getattr(headline, name) for name in Totals.__dataclass_fields__},
        per_category=_per_category(budget),
        per_activity=_per_activity(budget, expenses, income),
        over_time=_over_time(budget),
    )
