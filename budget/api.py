"""Organiser API for the budget: the summary, expenses and income of one programme.

Authentication: the organiser area's session (changes need the CSRF token) or a personal API
token, `Authorization: Bearer <token>` (`manage.py create_api_token <username>`). An organiser of
the programme reads and changes; a viewer reads (403 on changes); anyone else gets 404, as if
the programme did not exist. Amounts travel as strings with two decimals ("1234.50"), never as
JSON numbers, which many clients read as binary floats. The rules are the services'
(`budget.services`); their errors leave as `{"code", "message", "details"}` with their status.
"""

# No `from __future__ import annotations` here: ninja reads parameter and field types from the
# signatures and class bodies at import time.

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.errors import AuthorizationError
from ninja.pagination import paginate
from pydantic import ConfigDict

from budget import services
from budget.inputs import (
    ExpenseChange,
    ExpenseInput,
    IncomeInput,
    max_length,
    parse_amount,
    parse_vat_rate,
)
from budget.models import Budget, Expense, Income, VatRate
from budget.summary import BudgetSummary, summarise
from events.access import get_programme_for_organiser
from events.api import MAX_ID
from events.models import Programme
from jubileum.lib.apitokens import OrganiserAuth
from jubileum.lib.apitools import ErrorOut, Pagination, example, strict_query

router = Router(auth=OrganiserAuth(), tags=["budget"])
TAGS = [
    {
        "name": "budget",
        "description": "A programme's budget summary, expenses and income, for its organisers "
        "(changes) and viewers (reading).",
    }
]

MONEY_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"
# What the schema lets through to the service, which explains anything it refuses in words
# (three decimals, a negative amount) instead of a bare pattern mismatch.
MONEY_INPUT_PATTERN = r"^-?[0-9]{1,12}(\.[0-9]{1,6})?$"
SLUG = Path(..., max_length=100, description="The programme's slug.", examples=["brandweer-100"])
EXPENSE_ID = Path(..., ge=1, le=MAX_ID, description="The expense's id.", examples=[57])
EXPENSE_EXAMPLE = {
    "id": 57,
    "date": "2027-03-20",
    "supplier": "Verhuurbedrijf De Eembocht",
    "description": "Tent 10 x 20 m",
    "invoice_number": "",
    "category": {"id": 4, "name": "Huur"},
    "activity": {"id": 12, "name": "Kinderbrandweermiddag"},
    "amount_excl_vat": "875.00",
    "vat_rate": 21,
    "vat_amount": "183.75",
    "amount_incl_vat": "1058.75",
    "counted_amount": "1058.75",
    "status": "committed",
    "committed_on": "2027-03-21",
    "invoiced_on": None,
    "paid_on": None,
    "needs_approval": True,
    "approved_by": "Bert Jansen",
    "approved_at": "2027-03-21T09:30:00+01:00",
    "recorded_by": "Anne Bakker",
    "updated_at": "2027-03-21T09:30:00+01:00",
}
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS = {**ERRORS, 409: ErrorOut}


def _money(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{amount:.2f}"


def money(description: str = "", **kwargs: Any) -> Any:
    return Field(
        ...,
        pattern=MONEY_PATTERN,
        description=description or "EUR, two decimals.",
        examples=["1234.50"],
        **kwargs,
    )


def _budget(request: HttpRequest, slug: str, *, write: bool = False) -> Budget:
    """The programme's budget if this user may see it (else 404), or change it (else 403)."""
    try:
        programme = get_programme_for_organiser(request.auth, slug, write=write)
    except PermissionDenied:
        raise AuthorizationError from None
    return _budget_of(programme)


def _budget_of(programme: Programme) -> Budget:
    return get_object_or_404(Budget.objects.select_related("programme"), programme=programme)


def _person(user: Any) -> str | None:
    if user is None:
        return None
    return user.get_full_name() or user.get_username()


# --- Output ------------------------------------------------------------------------------------


class CategoryOut(Schema):
    id: int
    name: str
    planned_amount: str | None = Field(pattern=MONEY_PATTERN, description="The plan, if any.")
    planned: str = money()
    committed: str = money()
    invoiced: str = money()
    paid: str = money()
    forecast: str = money("Expected spending in the category: every status.")
    remaining: str | None = Field(
        pattern=MONEY_PATTERN, description="planned_amount - forecast; empty without a plan."
    )


class ActivityBudgetOut(Schema):
    activity_id: int | None = Field(description="Empty: expenses and income of no activity.")
    title: str
    allocation: str | None = Field(pattern=MONEY_PATTERN)
    planned: str = money()
    committed: str = money()
    invoiced: str = money()
    paid: str = money()
    forecast: str = money("Expected spending of the activity: every status.")
    income: str = money()
    income_tickets: str = money()
    net: str = money("forecast - income.")
    remaining: str | None = Field(
        pattern=MONEY_PATTERN, description="allocation - net; empty without an allocation."
    )


class OverTimeOut(Schema):
    date: dt.date
    forecast: str = money("Cumulative spending of every expense by its date.")
    paid: str = money("Cumulative spending of paid expenses by the day they were paid.")


class BudgetSummaryOut(Schema):
    model_config = example(
        {
            "programme": "brandweer-100",
            "currency": "EUR",
            "counted_vat_mode": "incl",
            "total": "8000.00",
            "approval_threshold": "500.00",
            "warning_percentage": 80,
            "planned": "1200.00",
            "committed": "1058.75",
            "invoiced": "0.00",
            "paid": "350.00",
            "spent": "350.00",
            "open_commitments": "1058.75",
            "expected_spending": "2608.75",
            "income_tickets": "240.00",
            "income_other": "500.00",
            "income_total": "740.00",
            "remaining": "7331.25",
            "forecast": "6131.25",
            "forecast_percentage": "23.4",
            "over_budget": False,
            "alerts": [],
            "expense_count": 4,
            "awaiting_approval": 1,
            "per_category": [
                {
                    "id": 4,
                    "name": "Huur",
                    "planned_amount": "2000.00",
                    "planned": "0.00",
                    "committed": "1058.75",
                    "invoiced": "0.00",
                    "paid": "0.00",
                    "forecast": "1058.75",
                    "remaining": "941.25",
                }
            ],
            "per_activity": [
                {
                    "activity_id": 12,
                    "title": "Kinderbrandweermiddag",
                    "allocation": None,
                    "planned": "1200.00",
                    "committed": "1058.75",
                    "invoiced": "0.00",
                    "paid": "350.00",
                    "forecast": "2608.75",
                    "income": "240.00",
                    "income_tickets": "240.00",
                    "net": "2368.75",
                    "remaining": None,
                }
            ],
            "over_time": [{"date": "2027-03-20", "forecast": "2608.75", "paid": "350.00"}],
        }
    )

    programme: str = Field(description="Slug of the programme.")
    currency: str = Field(description="Always EUR.")
    counted_vat_mode: str = Field(
        description="`incl` or `excl`: whether expenses count including or excluding VAT."
    )
    total: str = money("The budget.")
    approval_threshold: str = money("Expenses counted above this need a second organiser.")
    warning_percentage: int
    planned: str = money()
    committed: str = money()
    invoiced: str = money()
    paid: str = money()
    spent: str = money("= paid.")
    open_commitments: str = money("committed + invoiced: ordered, not yet paid.")
    expected_spending: str = money("planned + committed + invoiced + paid.")
    income_tickets: str = money("Ticket sales, refunds subtracted.")
    income_other: str = money("Sponsorship and other income.")
    income_total: str = money()
    remaining: str = money(
        "total + income_total - paid - open_commitments: not yet spent or promised."
    )
    forecast: str = money(
        "total + income_total - expected_spending: what remains if everything planned and "
        "committed is paid; negative means over budget."
    )
    forecast_percentage: str | None = Field(
        description="(expected_spending - income_total) / total in %, one decimal; empty for a "
        "zero budget with costs."
    )
    over_budget: bool
    alerts: list[int] = Field(description="Alert levels (%) the forecast has reached.")
    expense_count: int
    awaiting_approval: int = Field(description="Expenses above the threshold not yet approved.")
    per_category: list[CategoryOut]
    per_activity: list[ActivityBudgetOut]
    over_time: list[OverTimeOut]


def _summary_body(budget: Budget, summary: BudgetSummary) -> dict[str, Any]:
    percentage = summary.forecast_percentage
    return {
        "programme": budget.programme.slug,
        "currency": "EUR",
        "counted_vat_mode": summary.counted_vat_mode,
        "total": _money(summary.total),
        "approval_threshold": _money(budget.approval_threshold),
        "warning_percentage": summary.warning_percentage,
        **{
            name: _money(getattr(summary, name))
            for name in (
                "planned",
                "committed",
                "invoiced",
                "paid",
                "spent",
                "open_commitments",
                "expected_spending",
                "income_tickets",
                "income_other",
                "income_total",
                "remaining",
                "forecast",
            )
        },
        "forecast_percentage": None if percentage is None else f"{percentage:.1f}",
        "over_budget": summary.over_budget,
        "alerts": summary.alerts,
        "expense_count": summary.expense_count,
        "awaiting_approval": summary.awaiting_approval,
        "per_category": [
            {
                "id": line.id,
                "name": line.name,
                "planned_amount": _money(line.planned_amount),
                "planned": _money(line.planned),
                "committed": _money(line.committed),
                "invoiced": _money(line.invoiced),
                "paid": _money(line.paid),
                "forecast": _money(line.forecast),
                "remaining": _money(line.remaining),
            }
            for line in summary.per_category
        ],
        "per_activity": [
            {
                "activity_id": line.activity_id,
                "title": line.title,
                "allocation": _money(line.allocation),
                "planned": _money(line.planned),
                "committed": _money(line.committed),
                "invoiced": _money(line.invoiced),
                "paid": _money(line.paid),
                "forecast": _money(line.forecast),
                "income": _money(line.income),
                "income_tickets": _money(line.income_tickets),
                "net": _money(line.net),
                "remaining": _money(line.remaining),
            }
            for line in summary.per_activity
        ],
        "over_time": [
            {"date": point.date, "forecast": _money(point.forecast), "paid": _money(point.paid)}
            for point in summary.over_time
        ],
    }


class RefOut(Schema):
    id: int
    name: str


class ExpenseOut(Schema):
    model_config = example(EXPENSE_EXAMPLE)

    id: int
    date: dt.date
    supplier: str
    description: str
    invoice_number: str
    category: RefOut
    activity: RefOut | None
    amount_excl_vat: str = money()
    vat_rate: int = Field(description="0, 9 or 21 (%).")
    vat_amount: str = money("Rounded half up to the cent, stored.")
    amount_incl_vat: str = money()
    counted_amount: str = money("What counts against the budget (incl. or excl. VAT).")
    status: Expense.Status
    committed_on: dt.date | None
    invoiced_on: dt.date | None
    paid_on: dt.date | None
    needs_approval: bool
    approved_by: str | None
    approved_at: dt.datetime | None
    recorded_by: str
    updated_at: dt.datetime

    @staticmethod
    def resolve_category(obj: Expense) -> dict[str, Any]:
        return {"id": obj.category_id, "name": obj.category.name}

    @staticmethod
    def resolve_activity(obj: Expense) -> dict[str, Any] | None:
        return obj.activity and {"id": obj.activity_id, "name": obj.activity.title}

    @staticmethod
    def resolve_amount_excl_vat(obj: Expense) -> str:
        return _money(obj.amount_excl_vat)

    @staticmethod
    def resolve_vat_amount(obj: Expense) -> str:
        return _money(obj.vat_amount)

    @staticmethod
    def resolve_amount_incl_vat(obj: Expense) -> str:
        return _money(obj.amount_excl_vat + obj.vat_amount)

    @staticmethod
    def resolve_counted_amount(obj: Expense) -> str:
        return _money(obj.counted_amount)

    @staticmethod
    def resolve_approved_by(obj: Expense) -> str | None:
        return _person(obj.approved_by)

    @staticmethod
    def resolve_recorded_by(obj: Expense) -> str:
        return _person(obj.recorded_by) or ""


class IncomeOut(Schema):
    model_config = example(
        {
            "id": 9,
            "kind": "sponsorship",
            "date": "2027-02-15",
            "description": "Bijdrage Rabobank",
            "activity": None,
            "amount": "500.00",
            "from_payments": False,
            "recorded_by": "Anne Bakker",
        }
    )

    id: int
    kind: Income.Kind
    date: dt.date
    description: str
    activity: RefOut | None
    amount: str = money("Negative for a refund of ticket income.")
    from_payments: bool = Field(description="Ticket income recorded from payments (read-only).")
    recorded_by: str | None

    @staticmethod
    def resolve_activity(obj: Income) -> dict[str, Any] | None:
        return obj.activity and {"id": obj.activity_id, "name": obj.activity.title}

    @staticmethod
    def resolve_amount(obj: Income) -> str:
        return _money(obj.amount)

    @staticmethod
    def resolve_from_payments(obj: Income) -> bool:
        return bool(obj.source)

    @staticmethod
    def resolve_recorded_by(obj: Income) -> str | None:
        return _person(obj.recorded_by)


# --- Input -------------------------------------------------------------------------------------


class StrictIn(Schema):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def money_in(description: str) -> Any:
    return Field(..., pattern=MONEY_INPUT_PATTERN, description=description, examples=["1234.50"])


def text_in(model: type[Model], field: str, **kwargs: Any) -> Any:
    return Field(max_length=max_length(model, field), **kwargs)


class ExpenseIn(StrictIn):
    model_config = example(
        {
            "category_id": 4,
            "activity_id": 12,
            "supplier": "Verhuurbedrijf De Eembocht",
            "description": "Tent 10 x 20 m",
            "date": "2027-03-20",
            "amount_excl_vat": "875.00",
            "vat_rate": 21,
        }
    )

    category_id: int = Field(ge=1, le=MAX_ID)
    activity_id: int | None = Field(None, ge=1, le=MAX_ID)
    supplier: str = text_in(Expense, "supplier", min_length=1)
    description: str = text_in(Expense, "description", min_length=1)
    invoice_number: str = text_in(Expense, "invoice_number", default="")
    date: dt.date
    amount_excl_vat: str = money_in("EUR excluding VAT, at most two decimals, e.g. `1234.50`.")
    vat_rate: int = Field(VatRate.HIGH, description="0, 9 or 21 (%).")
    status: Expense.Status = Field(
        Expense.Status.PLANNED,
        description="A step already taken (e.g. a receipt paid); past `planned` an expense "
        "above the approval threshold needs approval first (409 `approval_required`).",
    )
    status_date: dt.date | None = Field(None, description="Date of that step; today if empty.")

    def to_input(self) -> ExpenseInput:
        """The typed input, through the amount and VAT rules (422 with the rule's code)."""
        return ExpenseInput(
            category_id=self.category_id,
            activity_id=self.activity_id,
            supplier=self.supplier,
            description=self.description,
            invoice_number=self.invoice_number,
            date=self.date,
            amount_excl_vat=parse_amount(self.amount_excl_vat),
            vat_rate=parse_vat_rate(self.vat_rate),
        )


# Fields of an expense that cannot be empty: null for one of them leaves it as it is.
KEPT_WHEN_NULL = {"category_id", "supplier", "description", "date", "amount_excl_vat", "vat_rate"}


class ExpensePatchIn(StrictIn):
    model_config = example({"status": "invoiced", "invoice_number": "2027-0142"})

    category_id: int | None = Field(None, ge=1, le=MAX_ID)
    activity_id: int | None = Field(None, ge=1, le=MAX_ID)
    supplier: str | None = text_in(Expense, "supplier", default=None, min_length=1)
    description: str | None = text_in(Expense, "description", default=None, min_length=1)
    invoice_number: str | None = text_in(Expense, "invoice_number", default=None)
    date: dt.date | None = None
    amount_excl_vat: str | None = Field(None, pattern=MONEY_INPUT_PATTERN)
    vat_rate: int | None = None
    status: Expense.Status | None = Field(
        None, description="Move forward (never back: 409 `status_backwards`)."
    )
    status_date: dt.date | None = Field(None, description="Date of that step; today if empty.")

    def to_change(self) -> ExpenseChange:
        """The fields sent (others stay), typed as `ExpenseIn.to_input` types them."""
        fields = self.model_dump(exclude_unset=True, exclude={"status", "status_date"})
        fields = {
            key: value
            for key, value in fields.items()
            if value is not None or key not in KEPT_WHEN_NULL
        }
        if "invoice_number" in fields:
            fields["invoice_number"] = fields["invoice_number"] or ""
        if "amount_excl_vat" in fields:
            fields["amount_excl_vat"] = parse_amount(fields["amount_excl_vat"])
        if "vat_rate" in fields:
            fields["vat_rate"] = parse_vat_rate(fields["vat_rate"])
        return ExpenseChange.of(**fields)


class IncomeIn(StrictIn):
    model_config = example(
        {
            "kind": "sponsorship",
            "description": "Bijdrage Rabobank",
            "date": "2027-02-15",
            "amount": "500.00",
        }
    )

    kind: Income.Kind = Field(description="`sponsorship`, `other`, or `tickets` sold at the door.")
    activity_id: int | None = Field(None, ge=1, le=MAX_ID)
    description: str = text_in(Income, "description", min_length=1)
    date: dt.date
    amount: str = money_in("EUR, positive, at most two decimals.")

    def to_input(self) -> IncomeInput:
        return IncomeInput(
            kind=self.kind,
            activity_id=self.activity_id,
            description=self.description,
            date=self.date,
            amount=parse_amount(self.amount),
        )


class ExpenseFilters(Schema):
    status: Expense.Status | None = Field(None, description="Only expenses in this status.")
    awaiting_approval: bool = Field(False, description="Only the approval queue.")


# --- Endpoints ---------------------------------------------------------------------------------


def _expenses(budget: Budget) -> QuerySet[Expense]:
    return Expense.objects.filter(budget=budget).select_related(
        "budget", "category", "activity", "approved_by", "recorded_by"
    )


@router.get(
    "/programmes/{slug}/budget",
    response={200: BudgetSummaryOut, **ERRORS},
    url_name="programme_budget",
    summary="The budget's figures",
)
@strict_query
def get_budget(request: HttpRequest, slug: str = SLUG) -> dict[str, Any]:
    """Budget, planned, committed, invoiced, paid, income, remaining and forecast, per category,
    per activity and over time, as on the budget page."""
    budget = _budget(request, slug)
    return _summary_body(budget, summarise(budget))


@router.get(
    "/programmes/{slug}/budget/expenses",
    response={200: list[ExpenseOut], **ERRORS},
    url_name="programme_budget_expenses",
    summary="List expenses",
)
@strict_query
@paginate(Pagination)
def list_expenses(
    request: HttpRequest, filters: Query[ExpenseFilters], slug: str = SLUG
) -> QuerySet[Expense]:
    """The budget's expenses, the latest first."""
    budget = _budget(request, slug)
    if filters.awaiting_approval:
        expenses = services.approval_queue(budget).select_related(
            "budget", "approved_by", "recorded_by"
        )
    else:
        expenses = _expenses(budget).order_by("-date", "-pk")
    if filters.status:
        expenses = expenses.filter(status=filters.status)
    return expenses


@router.post(
    "/programmes/{slug}/budget/expenses",
    response={201: ExpenseOut, **WRITE_ERRORS},
    url_name="programme_budget_expense_create",
    summary="Record an expense",
)
@strict_query
def create_expense(request: HttpRequest, payload: ExpenseIn, slug: str = SLUG) -> Status:
    """Organisers only. 422 for a bad amount (`amount_too_precise`, `amount_not_positive`), VAT
    rate (`invalid_vat_rate`), category or activity of another programme."""
    budget = _budget(request, slug, write=True)
    expense = services.record_expense(
        budget,
        payload.to_input(),
        by=request.auth,
        status=payload.status,
        status_date=payload.status_date,
    )
    return Status(201, _expenses(budget).get(pk=expense.pk))


@router.patch(
    "/programmes/{slug}/budget/expenses/{id}",
    response={200: ExpenseOut, **WRITE_ERRORS},
    url_name="programme_budget_expense",
    summary="Change an expense or move it forward",
)
@strict_query
def change_expense(
    request: HttpRequest,
    payload: ExpensePatchIn,
    slug: str = SLUG,
    id: int = EXPENSE_ID,
) -> Expense:
    """Change the fields sent (others stay) and, with `status`, move the expense forward; both
    or neither. Changing the amount, VAT rate, supplier or description of an approved expense
    withdraws the approval; it keeps its status and waits for a new one."""
    budget = _budget(request, slug, write=True)
    expense = _expenses(budget).get(pk=id)
    services.update_expense(
        expense.pk,
        payload.to_change(),
        by=request.auth,
        status=payload.status,
        status_date=payload.status_date,
    )
    return _expenses(budget).get(pk=id)


@router.post(
    "/programmes/{slug}/budget/expenses/{id}/approve",
    response={200: ExpenseOut, **WRITE_ERRORS},
    url_name="programme_budget_expense_approve",
    summary="Approve an expense",
)
@strict_query
def approve_expense(request: HttpRequest, slug: str = SLUG, id: int = EXPENSE_ID) -> Expense:
    """As a second organiser: 403 `own_expense` for the one who recorded it,
    `approver_changed_expense` for one who changed its amount, VAT rate, supplier or
    description."""
    budget = _budget(request, slug, write=True)
    expense = _expenses(budget).get(pk=id)
    services.approve_expense(expense.pk, by=request.auth)
    return _expenses(budget).get(pk=id)


@router.get(
    "/programmes/{slug}/budget/income",
    response={200: list[IncomeOut], **ERRORS},
    url_name="programme_budget_income",
    summary="List income",
)
@strict_query
@paginate(Pagination)
def list_income(request: HttpRequest, slug: str = SLUG) -> QuerySet[Income]:
    """Ticket sales (from payments; refunds negative), sponsorship and other income."""
    budget = _budget(request, slug)
    return (
        Income.objects.filter(budget=budget)
        .select_related("activity", "recorded_by")
        .order_by("-date", "-pk")
    )


@router.post(
    "/programmes/{slug}/budget/income",
    response={201: IncomeOut, **WRITE_ERRORS},
    url_name="programme_budget_income_create",
    summary="Record income",
)
@strict_query
def create_income(request: HttpRequest, payload: IncomeIn, slug: str = SLUG) -> Status:
    """Organisers only: sponsorship, a gift, other income, or ticket sales at the door."""
    budget = _budget(request, slug, write=True)
    income = services.record_income(budget, payload.to_input(), by=request.auth)
    return Status(201, Income.objects.select_related("activity", "recorded_by").get(pk=income.pk))
