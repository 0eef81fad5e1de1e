"""Budget workflows: expenses and their status steps, approvals, attachments, income, alerts,
and the summary every budget page, the API and the exports start from.

Every change locks the budget row first (`select_for_update()` inside `transaction.atomic()`;
on SQLite the immediate transaction already serialises writers), so two organisers saving at
once are applied one after the other and the threshold check after each change sees both.
Every change is made as a person (`by`), which the history (django-simple-history) records as
the one who made it, also outside a request. Alert e-mails go out after the commit, through a
task that takes ids.

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
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from budget.errors import (
    AmountNotPositive,
    ApproverNotOrganiser,
    AttachmentTooLarge,
    InvalidAttachment,
    InvalidField,
    NotAnOrganiser,
    TicketIncomeLocked,
    UnknownActivity,
    UnknownCategory,
)

# Raised by the Expense model's transitions, or caught by the callers: they may keep naming
# them from here.
from budget.errors import ApprovalRequired as ApprovalRequired
from budget.errors import BudgetError as BudgetError
from budget.errors import OwnExpense as OwnExpense
from budget.errors import StatusBackwards as StatusBackwards
from budget.errors import UnknownStatus as UnknownStatus
from budget.inputs import (
    ExpenseChange,
    ExpenseInput,
    IncomeChange,
    IncomeInput,
    max_length,
    parse_amount,
)
from budget.models import (
    CENT,
    DEFAULT_CATEGORIES,
    ActivityAllocation,
    Attachment,
    Budget,
    BudgetAlert,
    Category,
    Expense,
    Income,
)
from events.access import programmes_for
from events.models import Activity, Programme

logger = logging.getLogger(__name__)

Status = Expense.Status
ZERO = Decimal("0.00")
MAX_ATTACHMENT_SIZE = 10 * 1024 * 1024
# What a sum is computed as in the database; wide enough for any number of expenses.
MONEY = DecimalField(max_digits=16, decimal_places=2)

# Attachments are recognised by their first bytes, never by name or the browser's content type.
SIGNATURES: list[tuple[bytes, str, str]] = [
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
]


# --- Input -------------------------------------------------------------------------------------
# Expenses and income arrive typed and checked (budget.inputs); what is left to check here needs
# the database.


def _category_name(value: Any) -> str:
    name = "" if value is None else str(value).strip()
    if not name:
        raise InvalidField(
            _("Vul dit veld in: %(field)s.") % {"field": _("naam")},
            details={"field": "name", "reason": "required"},
        )
    limit = max_length(Category, "name")
    if len(name) > limit:
        raise InvalidField(
            _("Dit veld is te lang (hoogstens %(max)s tekens): %(field)s.")
            % {"field": _("naam"), "max": limit},
            details={"field": "name", "reason": "too_long", "max_length": limit},
        )
    return name


def _category(budget: Budget, value: Any) -> Category:
    category_id = value.pk if isinstance(value, Category) else value
    try:
        return Category.objects.get(pk=int(category_id), budget=budget)
    except (Category.DoesNotExist, TypeError, ValueError):
        raise UnknownCategory from None


def _activity(budget: Budget, value: Any) -> Activity | None:
    if value in (None, ""):
        return None
    activity_id = value.pk if isinstance(value, Activity) else value
    try:
        return Activity.objects.get(pk=int(activity_id), programme_id=budget.programme_id)
    except (Activity.DoesNotExist, TypeError, ValueError):
        raise UnknownActivity from None


# --- Access and locking ------------------------------------------------------------------------


def is_organiser(programme_id: int, user: AbstractBaseUser | None) -> bool:
    """Whether this user may change the programme (an organiser, or a superuser)."""
    if user is None:
        return False
    return programmes_for(user, write=True).filter(pk=programme_id).exists()


def _require_organiser(budget: Budget, by: AbstractBaseUser | None) -> None:
    if not is_organiser(budget.programme_id, by):
        raise NotAnOrganiser


def _lock_budget(budget_id: int) -> Budget:
    return Budget.objects.select_for_update().get(pk=budget_id)


def _lock_expense(expense_id: int) -> tuple[Expense, Budget]:
    # Budget first, then the expense: every workflow takes the locks in this order.
    budget_id = Expense.objects.values_list("budget_id", flat=True).get(pk=expense_id)
    budget = _lock_budget(budget_id)
    expense = Expense.objects.select_for_update().get(pk=expense_id)
    expense.budget = budget
    return expense, budget


def _save(instance: Any, by: AbstractBaseUser | None, **kwargs: Any) -> None:
    # simple_history reads `_history_user` before asking the request, so the history names the
    # person who acted also in tasks, commands and API calls with a token.
    instance._history_user = by
    instance.save(**kwargs)


# --- Budgets and categories --------------------------------------------------------------------


def ensure_default_categories(budget: Budget) -> None:
    """Give a budget the default categories (DESIGN.md) it does not have yet, in Dutch."""
    with translation.override("nl"):
        names = [str(name) for name in DEFAULT_CATEGORIES]
    existing = set(budget.categories.values_list("name", flat=True))
    Category.objects.bulk_create(
        Category(budget=budget, name=name, position=position)
        for position, name in enumerate(names, start=1)
        if name not in existing
    )


def budget_for_programme(programme: Programme) -> Budget:
    """The programme's budget; made (total € 0, default categories) if it has none yet, so
    ticket income is never lost for want of a budget."""
    budget, _created = Budget.objects.get_or_create(
        programme=programme, defaults={"total": ZERO, "includes_vat": True}
    )
    return budget


BUDGET_FIELDS = {"total", "includes_vat", "approval_threshold", "warning_percentage"}


def _refuse_unknown(fields: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        # A programming error, not bad input: the caller passed a field no form has.
        raise TypeError(f"unknown fields: {', '.join(sorted(unknown))}")


def update_budget(budget_id: int, *, by: AbstractBaseUser, **fields: Any) -> Budget:
    """Change the total, the VAT setting, the approval threshold or the warning percentage."""
    _refuse_unknown(fields, BUDGET_FIELDS)
    with transaction.atomic():
        budget = _lock_budget(budget_id)
        _require_organiser(budget, by)
        if "total" in fields:
            total = parse_amount(fields["total"], allow_negative=True)
            if total < 0:
                raise AmountNotPositive
            budget.total = total
        if "approval_threshold" in fields:
            budget.approval_threshold = parse_amount(fields["approval_threshold"])
        if "includes_vat" in fields:
            budget.includes_vat = bool(fields["includes_vat"])
        if "warning_percentage" in fields:
            percentage = fields["warning_percentage"]
            if not isinstance(percentage, int) or isinstance(percentage, bool):
                raise InvalidField(details={"field": "warning_percentage"})
            if not 1 <= percentage <= 100:
                raise InvalidField(details={"field": "warning_percentage", "min": 1, "max": 100})
            budget.warning_percentage = percentage
        _save(budget, by)
        check_alerts(budget.pk)
    return budget


def save_category(
    budget: Budget,
    *,
    by: AbstractBaseUser,
    name: str,
    planned_amount: Any = None,
    category_id: int | None = None,
) -> Category:
    """Add a category, or rename one / change its planned amount (empty: no plan)."""
    with transaction.atomic():
        budget = _lock_budget(budget.pk)
        _require_organiser(budget, by)
        name = _category_name(name)
        planned = None if planned_amount in (None, "") else parse_amount(planned_amount)
        if category_id is None:
            position = budget.categories.count() + 1
            category = Category(budget=budget, position=position)
        else:
            category = _category(budget, category_id)
        if budget.categories.filter(name__iexact=name).exclude(pk=category.pk).exists():
            raise InvalidField(
                _("Er is al een categorie met deze naam."),
                details={"field": "name", "reason": "duplicate"},
            )
        category.name = name
        category.planned_amount = planned
        category.save()
    return category


def set_allocation(
    budget: Budget, activity: Activity | int, amount: Any, *, by: AbstractBaseUser
) -> ActivityAllocation | None:
    """Set aside part of the budget for one activity; an empty amount removes the allocation."""
    with transaction.atomic():
        budget = _lock_budget(budget.pk)
        _require_organiser(budget, by)
        target = _activity(budget, activity)
        if target is None:
            raise UnknownActivity
        if amount in (None, ""):
            ActivityAllocation.objects.filter(activity=target).delete()
            return None
        allocation, _created = ActivityAllocation.objects.update_or_create(
            activity=target, defaults={"budget": budget, "amount": parse_amount(amount)}
        )
    return allocation


# --- Expenses ----------------------------------------------------------------------------------


def _apply(row: Expense | Income, budget: Budget, change: ExpenseChange | IncomeChange) -> None:
    values = change.changes()
    if "category_id" in values:
        row.category = _category(budget, values.pop("category_id"))
    if "activity_id" in values:
        row.activity = _activity(budget, values.pop("activity_id"))
    for name, value in values.items():
        setattr(row, name, value)


def _step_date(on_date: dt.date | None) -> dt.date:
    return timezone.localdate() if on_date is None else on_date


def record_expense(
    budget: Budget,
    expense_input: ExpenseInput,
    *,
    by: AbstractBaseUser,
    status: str = Status.PLANNED,
    status_date: dt.date | None = None,
) -> Expense:
    """Record an expense as `by` (an organiser of the programme).

    A `status` beyond planned records a step already taken (a receipt already paid), dated
    `status_date` (today by default) and subject to the approval rule like any step.
    """
    with transaction.atomic():
        budget = _lock_budget(budget.pk)
        _require_organiser(budget, by)
        expense = Expense(budget=budget, recorded_by=by)
        _apply(expense, budget, ExpenseChange.every_field(expense_input))
        expense.advance_to(status, on=_step_date(status_date))
        _save(expense, by)
        check_alerts(budget.pk)
    return expense


def update_expense(
    expense_id: int,
    change: ExpenseChange,
    *,
    by: AbstractBaseUser,
    status: str | None = None,
    status_date: dt.date | None = None,
) -> Expense:
    """Change the fields of the expense that `change` names and, with `status`, move it forward
    in the same step.

    An approval covers the amount approved: raising the counted amount of an approved expense
    withdraws the approval, so it is back in the approval queue and cannot take its next step
    until a second organiser approves again. Lowering it keeps the approval.
    """
    with transaction.atomic():
        expense, budget = _lock_expense(expense_id)
        _require_organiser(budget, by)
        counted_before = expense.counted_amount
        _apply(expense, budget, change)
        if expense.counted_amount > counted_before:
            expense.withdraw_approval()
        if status is not None:
            expense.advance_to(status, on=_step_date(status_date))
        _save(expense, by)
        check_alerts(budget.pk)
    return expense


def advance_expense(
    expense_id: int, to_status: str, *, by: AbstractBaseUser, on_date: dt.date | None = None
) -> Expense:
    """Move an expense forward (planned → committed → invoiced → paid), one step or more.

    Each step keeps its date (`on_date`, today by default). A step backwards is refused; asking
    for the status it has already changes nothing. Past `planned`, an expense above the approval
    threshold needs a second organiser's approval first.
    """
    with transaction.atomic():
        expense, budget = _lock_expense(expense_id)
        _require_organiser(budget, by)
        if expense.advance_to(to_status, on=_step_date(on_date)):
            _save(expense, by)
            check_alerts(budget.pk)
    return expense


def approve_expense(expense_id: int, *, by: AbstractBaseUser) -> Expense:
    """Approve an expense as a second organiser: never the one who recorded it. Approving an
    approved expense again changes nothing."""
    with transaction.atomic():
        expense, budget = _lock_expense(expense_id)
        if not is_organiser(budget.programme_id, by):
            raise ApproverNotOrganiser
        if expense.approve(by=by, now=timezone.now()):
            _save(expense, by)
    return expense


def _counted_expression(budget: Budget, prefix: str = "") -> Any:
    excl = F(f"{prefix}amount_excl_vat")
    if not budget.includes_vat:
        return ExpressionWrapper(excl, output_field=MONEY)
    return ExpressionWrapper(excl + F(f"{prefix}vat_amount"), output_field=MONEY)


def approval_queue(budget: Budget) -> QuerySet[Expense]:
    """Expenses above the approval threshold that no second organiser has approved yet, oldest
    first (any status: one whose amount was raised after approval is here again)."""
    return (
        Expense.objects.filter(budget=budget, approved_by__isnull=True)
        .annotate(counted=_counted_expression(budget))
        .filter(counted__gt=budget.approval_threshold)
        .select_related("category", "activity", "recorded_by")
        .order_by("date", "pk")
    )


def add_attachment(
    expense_id: int, uploaded_file: UploadedFile, kind: str, *, by: AbstractBaseUser
) -> Attachment:
    """Keep a quote, invoice or receipt with the expense, in private storage.

    Only PDF, PNG and JPEG, recognised by their first bytes (a renamed .exe is refused), up to
    10 MB. The stored file name is random; the name it was uploaded with is kept for display.
    """
    if kind not in Attachment.Kind.values:
        raise InvalidField(details={"field": "kind", "allowed": Attachment.Kind.values})
    size = uploaded_file.size
    if size is None:
        uploaded_file.seek(0, os.SEEK_END)
        size = uploaded_file.tell()
    if size > MAX_ATTACHMENT_SIZE:
        raise AttachmentTooLarge(details={"max_bytes": MAX_ATTACHMENT_SIZE})
    uploaded_file.seek(0)
    head = uploaded_file.read(16)
    uploaded_file.seek(0)
    match = next((sig for sig in SIGNATURES if head.startswith(sig[0])), None)
    if match is None:
        raise InvalidAttachment
    _magic, content_type, extension = match
    original = os.path.basename((uploaded_file.name or "").replace("\\", "/"))[:255]
    with transaction.atomic():
        expense, budget = _lock_expense(expense_id)
        _require_organiser(budget, by)
        attachment = Attachment(
            expense=expense,
            kind=kind,
            original_name=original or f"bijlage{extension}",
            content_type=content_type,
            size=size,
            uploaded_by=by,
        )
        attachment.file.save(secrets.token_hex(12) + extension, uploaded_file, save=False)
        try:
            attachment.save()
        except BaseException:
            attachment.file.delete(save=False)
            raise
        # The expense's history shows that something changed, and who did it.
        _save(expense, by, update_fields=["updated_at"])
    return attachment


# --- Income ------------------------------------------------------------------------------------


def record_income(budget: Budget, income_input: IncomeInput, *, by: AbstractBaseUser) -> Income:
    """Record income by hand: sponsorship, a gift, other (kind), or ticket sales at the door."""
    with transaction.atomic():
        budget = _lock_budget(budget.pk)
        _require_organiser(budget, by)
        income = Income(budget=budget, recorded_by=by)
        _apply(income, budget, IncomeChange.every_field(income_input))
        _save(income, by)
        check_alerts(budget.pk)
    return income


def update_income(income_id: int, change: IncomeChange, *, by: AbstractBaseUser) -> Income:
    """Change the fields of a line of income recorded by hand that `change` names; ticket income
    from payments is not editable."""
    with transaction.atomic():
        budget_id = Income.objects.values_list("budget_id", flat=True).get(pk=income_id)
        budget = _lock_budget(budget_id)
        income = Income.objects.select_for_update().get(pk=income_id)
        _require_organiser(budget, by)
        if income.source:
            raise TicketIncomeLocked
        _apply(income, budget, change)
        _save(income, by)
        check_alerts(budget.pk)
    return income


# --- The summary -------------------------------------------------------------------------------


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
    counted = _counted_expression(budget)
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


def _totals(
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
        .annotate(amount=_sum(_counted_expression(budget, "expenses__")))
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
    counted = _counted_expression(budget)
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
    totals = _totals(budget, expenses, income)
    return BudgetSummary(
        **{name: getattr(totals, name) for name in Totals.__dataclass_fields__},
        per_category=_per_category(budget),
        per_activity=_per_activity(budget, expenses, income),
        over_time=_over_time(budget),
    )


# --- Alerts ------------------------------------------------------------------------------------


def check_alerts(budget_id: int, *, notify: bool = True) -> list[BudgetAlert]:
    """Bring the budget's alerts in line with its forecast; returns the alerts that are new.

    Reaching a level (the warning percentage, 100 %) makes one `BudgetAlert` and, after the
    commit, one e-mail to the programme's organisers; reaching both at once mails once, about
    the higher. Falling back below a level removes its alert, so reaching it again is news
    again. `notify=False` records without mailing (the demo data).
    """
    with transaction.atomic():
        budget = _lock_budget(budget_id)
        reached = _totals(budget).alerts
        BudgetAlert.objects.filter(budget=budget).exclude(percentage__in=reached).delete()
        existing = set(
            BudgetAlert.objects.filter(budget=budget).values_list("percentage", flat=True)
        )
        new = [
            BudgetAlert.objects.create(budget=budget, percentage=level)
            for level in reached
            if level not in existing
        ]
        if not new:
            return []
        if notify:
            highest = new[-1]
            covered = [alert.pk for alert in new[:-1]]
            if covered:
                BudgetAlert.objects.filter(pk__in=covered).update(mailed_at=timezone.now())
            transaction.on_commit(partial(_enqueue_alert_mail, highest.pk))
        else:
            BudgetAlert.objects.filter(pk__in=[a.pk for a in new]).update(mailed_at=timezone.now())
    return new


def _enqueue_alert_mail(alert_id: int) -> None:
    from budget.tasks import send_budget_alert_mail

    send_budget_alert_mail.enqueue(alert_id=alert_id)


# --- Ticket income (see budget.income) -------------------------------------------------------


def _record_ticket_income(
    *, activity: Activity, amount: Decimal, source: str, date: dt.date, description: str
) -> Income:
    existing = Income.objects.filter(source=source).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        budget = budget_for_programme(activity.programme)
        budget = _lock_budget(budget.pk)
        income = Income(
            budget=budget,
            kind=Income.Kind.TICKETS,
            activity=activity,
            description=description[:300] or str(activity.title)[:300],
            date=date,
            amount=amount,
            source=source,
        )
        try:
            with transaction.atomic():
                _save(income, None)
        except IntegrityError:
            # The same payment event, recorded by a concurrent delivery: that one counts.
            return Income.objects.get(source=source)
        check_alerts(budget.pk)
    return income
