"""Budget workflows, the changes: budgets and categories, expenses and their status steps,
approvals, attachments, income (by hand and from ticket sales) and alerts. What the figures are
is `budget.summary`'s; what is refused raises an error of `budget.errors`.

Every change locks the budget row first (`select_for_update()` inside `transaction.atomic()`;
on SQLite the immediate transaction already serialises writers), so two organisers saving at
once are applied one after the other and the threshold check after each change sees both.
Every change is made as a person (`by`), which the history (django-simple-history) records as
the one who made it, also outside a request. Alert e-mails go out after the commit, through a
task that takes ids.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from decimal import Decimal
from functools import partial
from typing import Any

from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from budget.errors import (
    AmountNotPositive,
    ApproverNotOrganiser,
    AttachmentTooLarge,
    BudgetExists,
    CategoryInUse,
    InvalidAttachment,
    InvalidField,
    NotAnOrganiser,
    TicketIncomeLocked,
    UnknownActivity,
    UnknownCategory,
)
from budget.inputs import (
    ExpenseChange,
    ExpenseInput,
    IncomeChange,
    IncomeInput,
    max_length,
    parse_amount,
)
from budget.models import (
    ATTACHMENT_EXTENSIONS,
    DEFAULT_CATEGORIES,
    ActivityAllocation,
    Attachment,
    Budget,
    BudgetAlert,
    Category,
    Expense,
    Income,
)
from budget.summary import expenses_awaiting_approval, totals
from budget.tasks import plan_digests_after_commit, send_budget_alert_mail
from events.access import programmes_for
from events.models import Activity, Programme

Status = Expense.Status
ZERO = Decimal("0.00")
MAX_ATTACHMENT_SIZE = 10 * 1024 * 1024

# Attachments are recognised by their first bytes, never by name or the browser's content type.
SIGNATURES: list[tuple[bytes, str]] = [
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
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


def is_organiser(programme_id: int, user: User | None) -> bool:
    """Whether this user may change the programme (an organiser, or a superuser)."""
    if user is None:
        return False
    return programmes_for(user, write=True).filter(pk=programme_id).exists()


def _require_organiser(budget: Budget, by: User | None) -> None:
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


def _save(instance: Any, by: User | None, **kwargs: Any) -> None:
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


def create_budget(
    programme_id: int,
    *,
    by: User,
    total: Any,
    approval_threshold: Any = None,
    includes_vat: bool = True,
) -> Budget:
    """Give a programme its budget (with the default categories, `budget.apps`); refused if it
    has one already. Without a threshold the model's default applies."""
    with transaction.atomic():
        # The programme row guards "one budget per programme" between two organisers at once.
        programme = Programme.objects.select_for_update().get(pk=programme_id)
        if not is_organiser(programme.pk, by):
            raise NotAnOrganiser
        if Budget.objects.filter(programme=programme).exists():
            raise BudgetExists
        budget = Budget(
            programme=programme, total=parse_amount(total), includes_vat=bool(includes_vat)
        )
        if approval_threshold not in (None, ""):
            budget.approval_threshold = parse_amount(approval_threshold)
        try:
            with transaction.atomic():
                _save(budget, by)
        except IntegrityError:
            # Ticket income made one in the meantime (`budget_for_programme`).
            raise BudgetExists from None
    return budget


BUDGET_FIELDS = {"total", "includes_vat", "approval_threshold", "warning_percentage"}


def _refuse_unknown(fields: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        # A programming error, not bad input: the caller passed a field no form has.
        raise TypeError(f"unknown fields: {', '.join(sorted(unknown))}")


def update_budget(budget_id: int, *, by: User, **fields: Any) -> Budget:
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
        if "approval_threshold" in fields or "includes_vat" in fields:
            # A lower threshold (or VAT now counted) can put expenses in the approval queue.
            plan_digests_after_commit(budget.programme_id)
    return budget


def save_category(
    budget: Budget,
    *,
    by: User,
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


def remove_category(budget: Budget, category_id: int, *, by: User) -> None:
    """Remove a category no expense uses; one in use stays (`CategoryInUse`), since its
    expenses would otherwise lose where they belong."""
    with transaction.atomic():
        budget = _lock_budget(budget.pk)
        _require_organiser(budget, by)
        category = _category(budget, category_id)
        if category.expenses.exists():
            raise CategoryInUse
        category.delete()


def set_allocation(
    budget: Budget, activity: Activity | int, amount: Any, *, by: User
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
    if "category_id" in values and isinstance(row, Expense):
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
    by: User,
    status: str = Status.PLANNED,
    status_date: dt.date | None = None,
    hold_for_approval: bool = False,
) -> Expense:
    """Record an expense as `by` (an organiser of the programme).

    A `status` beyond planned records a step already taken (a receipt already paid), dated
    `status_date` (today by default) and subject to the approval rule like any step: above the
    approval threshold a new expense, which has no approval yet, may not take it. That is
    refused (`ApprovalRequired`) unless `hold_for_approval`: then the expense is recorded as
    planned, waiting in the approval queue (`Expense.awaiting_approval`), and the caller says
    so. The step is not taken later by itself: after the approval an organiser takes it.
    """
    with transaction.atomic():
        budget = _lock_budget(budget.pk)
        _require_organiser(budget, by)
        expense = Expense(budget=budget, recorded_by=by)
        _apply(expense, budget, ExpenseChange.every_field(expense_input))
        if not (hold_for_approval and expense.awaiting_approval):
            expense.advance_to(status, on=_step_date(status_date))
        _save(expense, by)
        check_alerts(budget.pk)
        if expense.awaiting_approval:
            plan_digests_after_commit(budget.programme_id)
    return expense


def update_expense(
    expense_id: int,
    change: ExpenseChange,
    *,
    by: User,
    status: str | None = None,
    status_date: dt.date | None = None,
) -> Expense:
    """Change the fields of the expense that `change` names and, with `status`, move it forward
    in the same step.

    An approval covers the amount, VAT rate, supplier and description approved: changing any of
    them withdraws it (`Expense.save`), so an expense above the threshold is back in the approval
    queue; it keeps its status but takes no next step until an organiser who neither recorded
    nor changed it approves again.
    """
    with transaction.atomic():
        expense, budget = _lock_expense(expense_id)
        _require_organiser(budget, by)
        _apply(expense, budget, change)
        if status is not None:
            expense.advance_to(status, on=_step_date(status_date))
        _save(expense, by)
        check_alerts(budget.pk)
        if expense.awaiting_approval:
            # A new amount above the threshold, or an approval withdrawn by the change.
            plan_digests_after_commit(budget.programme_id)
    return expense


def advance_expense(
    expense_id: int, to_status: str, *, by: User, on_date: dt.date | None = None
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


def approve_expense(expense_id: int, *, by: User) -> Expense:
    """Approve an expense as a second organiser: never the one who recorded it, nor one who
    changed its amount, VAT rate, supplier or description. Approving an approved expense again
    changes nothing."""
    with transaction.atomic():
        expense, budget = _lock_expense(expense_id)
        if not is_organiser(budget.programme_id, by):
            raise ApproverNotOrganiser
        if expense.approve(by=by, now=timezone.now()):
            _save(expense, by)
    return expense


def approval_queue(budget: Budget) -> QuerySet[Expense]:
    """The budget's approval queue (`summary.expenses_awaiting_approval`), oldest first."""
    return (
        expenses_awaiting_approval(budget)
        .select_related("category", "activity", "recorded_by")
        .order_by("date", "pk")
    )


def add_attachment(
    expense_id: int, uploaded_file: UploadedFile, kind: str, *, by: User
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
    _magic, content_type = match
    extension = ATTACHMENT_EXTENSIONS[content_type]
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


def record_income(budget: Budget, income_input: IncomeInput, *, by: User) -> Income:
    """Record income by hand: sponsorship, a gift, other (kind), or ticket sales at the door."""
    with transaction.atomic():
        budget = _lock_budget(budget.pk)
        _require_organiser(budget, by)
        income = Income(budget=budget, recorded_by=by)
        _apply(income, budget, IncomeChange.every_field(income_input))
        _save(income, by)
        check_alerts(budget.pk)
    return income


def update_income(income_id: int, change: IncomeChange, *, by: User) -> Income:
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
        reached = totals(budget).alerts
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
    send_budget_alert_mail.enqueue(alert_id=alert_id)


# --- Ticket income (see budget.income) ---------------------------------------------------------


def record_ticket_income(
    *, activity: Activity, amount: Decimal, source: str, date: dt.date, description: str
) -> Income:
    """Record ticket income for the activity's programme (negative: a refund); once per source.

    A second call with the same `source` returns the line recorded the first time and changes
    nothing. A programme without a budget gets one (total € 0) rather than losing the income.
    """
    if not source:
        raise ValueError("ticket income needs a source, so that it is recorded once")
    amount = parse_amount(amount, allow_negative=True)
    source = source[:100]
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
